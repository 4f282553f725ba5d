// Codec pipeline: round trips, real compression, corrupt input, unknown codecs.
#include <doctest/doctest.h>

#include "common/crc32c.hpp"
#include "io/codec_pipeline.hpp"

using namespace arraymorph;
using namespace arraymorph::io;

namespace {
model::ArrayMeta meta_with(std::vector<model::Codec> codecs) {
  model::ArrayMeta m;
  m.shape = {1000};
  m.chunk_shape = {1000};
  m.data_type = "int32";
  m.element_size = 4;
  m.codecs = std::move(codecs);
  return m;
}
std::vector<unsigned char> ramp() {
  std::vector<unsigned char> raw(4000);
  for (size_t i = 0; i < 1000; ++i) {
    int32_t v = static_cast<int32_t>(i);
    std::memcpy(raw.data() + 4 * i, &v, 4);
  }
  return raw;
}
}  // namespace

TEST_CASE("gzip + shuffle round trip shrinks compressible data") {
  auto m = meta_with({{"bytes", {}}, {"numcodecs.shuffle", {{"elementsize", 4}}}, {"gzip", {{"level", 5}}}});
  auto enc = encode_chunk(m, ramp());
  REQUIRE(enc.ok());
  CHECK(enc.value().size() < 4000 / 4);
  CHECK(enc.value()[0] == 0x1f);  // gzip magic, as zarr-python writes it
  auto dec = decode_chunk(m, enc.value());
  REQUIRE(dec.ok());
  CHECK(dec.value() == ramp());
}

#ifdef ARRAYMORPH_WITH_ZSTD
TEST_CASE("zstd round trip") {
  auto m = meta_with({{"bytes", {}}, {"zstd", {{"level", 3}}}});
  auto enc = encode_chunk(m, ramp());
  REQUIRE(enc.ok());
  CHECK(enc.value().size() < 4000);
  CHECK(decode_chunk(m, enc.value()).value() == ramp());
}
#endif

TEST_CASE("corrupt or short chunks are errors, never silent") {
  auto m = meta_with({{"bytes", {}}, {"gzip", {{"level", 5}}}});
  std::vector<unsigned char> junk(100, 7);
  CHECK_FALSE(decode_chunk(m, junk).ok());
  auto raw = meta_with({{"bytes", {}}});
  auto r = decode_chunk(raw, std::vector<unsigned char>(10));
  CHECK_FALSE(r.ok());
  CHECK(r.status().message().find("expected 4000") != std::string::npos);
}

TEST_CASE("unknown codecs are refused by name") {
  auto s = check_codecs({{"bytes", {}}, {"lz4hc-magic", {}}});
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("lz4hc-magic") != std::string::npos);
  CHECK(s.message().find("not supported by arraymorph") != std::string::npos);
}

#ifdef ARRAYMORPH_WITH_BLOSC
TEST_CASE("blosc round trip with each shuffle mode") {
  for (const char* sh : {"noshuffle", "shuffle", "bitshuffle"}) {
    auto m = meta_with({{"bytes", {}}, {"blosc", {{"cname", "lz4"}, {"clevel", 5}, {"shuffle", sh}, {"typesize", 4}}}});
    auto enc = encode_chunk(m, ramp());
    REQUIRE(enc.ok());
    if (std::string(sh) != "noshuffle") CHECK(enc.value().size() < 4000 / 2);  // shuffled ramps compress
    CHECK(decode_chunk(m, enc.value()).value() == ramp());
  }
}
#endif

TEST_CASE("crc32c: the standard check value, and the Zarr codec detects every flipped bit") {
  const unsigned char check[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  CHECK(crc32c(check, sizeof check) == 0xE3069283u);
  CHECK(crc32c(check + 4, 5, crc32c(check, 4)) == 0xE3069283u);  // in pieces

  auto m = meta_with({{"bytes", {{"endian", "little"}}}, {"gzip", {{"level", 1}}}, {"crc32c", model::json::object()}});
  REQUIRE(check_codecs(m.codecs).ok());
  auto enc = encode_chunk(m, ramp());
  REQUIRE(enc.ok());
  auto dec = decode_chunk(m, enc.value());
  REQUIRE(dec.ok());
  CHECK(dec.value() == ramp());
  // Uncompressed + crc32c: a flipped bit anywhere (data or checksum) is an error, never data.
  auto raw_meta = meta_with({{"bytes", {{"endian", "little"}}}, {"crc32c", model::json::object()}});
  auto stored = encode_chunk(raw_meta, ramp()).value();
  REQUIRE(stored.size() == 4004);
  for (size_t i : {size_t(0), size_t(1999), size_t(4002)}) {
    auto bad = stored;
    bad[i] ^= 0x10;
    auto r = decode_chunk(raw_meta, bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("crc32c checksum mismatch") != std::string::npos);
  }
  CHECK_FALSE(decode_chunk(raw_meta, std::vector<unsigned char>(3)).ok());
}
