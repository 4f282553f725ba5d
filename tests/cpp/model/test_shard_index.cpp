// Zarr v3 sharding_indexed: the shard index codec, inner chunk positions, zarr.json parsing and
// writing, the shard_chunks setting.
#include <doctest/doctest.h>

#include "common/crc32c.hpp"
#include "model/shard_index.hpp"
#include "model/zarr_metadata.hpp"

using namespace arraymorph;
using namespace arraymorph::model;

namespace {

ShardLayout layout_2x3(bool crc = true) {
  ShardLayout l;
  l.shard_shape = {8, 12};
  l.chunks_per_shard = {2, 3};
  l.index_crc32c = crc;
  return l;
}

json sharded_doc(json index_codecs, std::string location = "end") {
  json cfg = {{"chunk_shape", {4, 4}},
              {"codecs", json::array({{{"name", "bytes"}, {"configuration", {{"endian", "little"}}}},
                                      {{"name", "gzip"}, {"configuration", {{"level", 1}}}}})},
              {"index_codecs", index_codecs},
              {"index_location", location}};
  // Through text, as documents arrive (non-negative numbers parse as unsigned).
  return json::parse(json{{"zarr_format", 3},
          {"node_type", "array"},
          {"shape", {20, 24}},
          {"data_type", "float32"},
          {"chunk_grid", {{"name", "regular"}, {"configuration", {{"chunk_shape", {8, 12}}}}}},
          {"chunk_key_encoding", {{"name", "default"}, {"configuration", {{"separator", "/"}}}}},
          {"fill_value", 0},
          {"codecs", json::array({{{"name", "sharding_indexed"}, {"configuration", cfg}}})}}.dump());
}

json bytes_crc() {
  return json::array({{{"name", "bytes"}, {"configuration", {{"endian", "little"}}}}, {{"name", "crc32c"}}});
}

}  // namespace

TEST_CASE("shard index: 16 bytes per inner chunk, little endian, crc32c last; round trip") {
  const ShardLayout l = layout_2x3();
  CHECK(l.chunks() == 6);
  CHECK(l.index_bytes() == 6 * 16 + 4);
  ShardIndex idx(6);
  idx[0] = {0, 100};
  idx[2] = {100, 7};
  idx[5] = {107, 1};
  auto bytes = encode_shard_index(idx, l);
  REQUIRE(bytes.size() == l.index_bytes());
  // Entry 2: offset 100 as little-endian u64, then nbytes 7.
  CHECK(bytes[32] == 100);
  CHECK(bytes[33] == 0);
  CHECK(bytes[40] == 7);
  // Entry 1 empty: all 0xff.
  for (size_t i = 16; i < 32; ++i) CHECK(bytes[i] == 0xff);
  const uint32_t c = crc32c(bytes.data(), 96);
  CHECK(bytes[96] == (c & 0xff));
  CHECK(bytes[99] == (c >> 24));
  auto back = decode_shard_index(bytes.data(), bytes.size(), l, "a/c/0/0");
  REQUIRE(back.ok());
  CHECK(back.value()[0].offset == 0);
  CHECK(back.value()[0].nbytes == 100);
  CHECK(back.value()[1].empty());
  CHECK(back.value()[2].offset == 100);
  CHECK(back.value()[5].nbytes == 1);

  const ShardLayout plain = layout_2x3(false);
  CHECK(plain.index_bytes() == 96);
  auto p = encode_shard_index(idx, plain);
  CHECK(p.size() == 96);
  CHECK(decode_shard_index(p.data(), p.size(), plain, "k").ok());
}

TEST_CASE("a corrupt shard index is an error naming the object") {
  const ShardLayout l = layout_2x3();
  ShardIndex idx(6);
  idx[0] = {0, 10};
  auto bytes = encode_shard_index(idx, l);
  SUBCASE("flipped byte fails the crc32c") {
    bytes[3] ^= 0x40;
    auto r = decode_shard_index(bytes.data(), bytes.size(), l, "f.h5/x/c/1/2");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("f.h5/x/c/1/2") != std::string::npos);
    CHECK(r.status().message().find("crc32c") != std::string::npos);
  }
  SUBCASE("wrong size") {
    auto r = decode_shard_index(bytes.data(), bytes.size() - 1, l, "f.h5/x/c/0/0");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("f.h5/x/c/0/0") != std::string::npos);
  }
  SUBCASE("an entry past the end of the object") {
    idx[1] = {10, 1000};
    bytes = encode_shard_index(idx, l);
    CHECK(decode_shard_index(bytes.data(), bytes.size(), l, "k").ok());  // size unknown
    auto r = decode_shard_index(bytes.data(), bytes.size(), l, "k", 50 + l.index_bytes());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("inner chunk 1") != std::string::npos);
  }
  SUBCASE("half-empty entries and overflowing ones") {
    idx[1] = {ShardEntry::kEmpty, 3};
    bytes = encode_shard_index(idx, l);
    CHECK_FALSE(decode_shard_index(bytes.data(), bytes.size(), l, "k").ok());
    idx[1] = {~uint64_t(0) - 2, 10};
    bytes = encode_shard_index(idx, l);
    CHECK_FALSE(decode_shard_index(bytes.data(), bytes.size(), l, "k").ok());
  }
}

TEST_CASE("inner chunk positions: C order inside the shard") {
  const ShardLayout l = layout_2x3();
  CHECK(local_chunk_index({0, 0}, l) == 0);
  CHECK(local_chunk_index({0, 2}, l) == 2);
  CHECK(local_chunk_index({1, 0}, l) == 3);
  CHECK(local_chunk_index({3, 5}, l) == 5);  // shard (1, 1), local (1, 2)
  CHECK(shard_coords({3, 5}, l) == std::vector<uint64_t>{1, 1});
  CHECK(inner_chunk_coords({1, 1}, 5, l) == std::vector<uint64_t>{3, 5});
  for (uint64_t k = 0; k < l.chunks(); ++k) CHECK(local_chunk_index(inner_chunk_coords({2, 7}, k, l), l) == k);
}

TEST_CASE("zarr.json with sharding_indexed: HDF5 sees inner chunks; written back unchanged") {
  auto node = from_zarr_json(sharded_doc(bytes_crc()), "s/zarr.json");
  const std::string why = node.ok() ? std::string() : node.status().message();
  INFO(why);
  REQUIRE(node.ok());
  const ArrayMeta& a = *node.value().array;
  REQUIRE(a.shard);
  CHECK(a.chunk_shape == std::vector<uint64_t>{4, 4});
  CHECK(a.shard->shard_shape == std::vector<uint64_t>{8, 12});
  CHECK(a.shard->chunks_per_shard == std::vector<uint64_t>{2, 3});
  CHECK(a.shard->index_at_end);
  CHECK(a.shard->index_crc32c);
  REQUIRE(a.codecs.size() == 2);
  CHECK(a.codecs[1].name == "gzip");
  CHECK(a.chunk_bytes() == 64);
  json out = to_zarr_json(node.value());
  CHECK(out["chunk_grid"]["configuration"]["chunk_shape"] == json({8, 12}));
  REQUIRE(out["codecs"].size() == 1);
  CHECK(out["codecs"][0]["name"] == "sharding_indexed");
  CHECK(out["codecs"][0]["configuration"]["chunk_shape"] == json({4, 4}));
  CHECK(out["codecs"][0]["configuration"]["index_codecs"] == bytes_crc());
  CHECK(out["codecs"][0]["configuration"]["index_location"] == "end");
  CHECK(out["codecs"][0]["configuration"]["codecs"][1]["name"] == "gzip");

  auto start = from_zarr_json(sharded_doc(json::array({{{"name", "bytes"}, {"configuration", {{"endian", "little"}}}}}), "start"),
                              "s/zarr.json");
  REQUIRE(start.ok());
  CHECK_FALSE(start.value().array->shard->index_at_end);
  CHECK_FALSE(start.value().array->shard->index_crc32c);
}

TEST_CASE("unsupported sharding configurations are errors naming the document") {
  auto refused = [](json doc, const char* words) {
    auto r = from_zarr_json(json::parse(doc.dump()), "bad/zarr.json");
    REQUIRE_FALSE(r.ok());
    const std::string why = r.status().message();
    INFO(why);
    CHECK(r.status().message().find("bad/zarr.json") != std::string::npos);
    CHECK(r.status().message().find(words) != std::string::npos);
  };
  refused(sharded_doc(json::array({{{"name", "bytes"}, {"configuration", {{"endian", "big"}}}}})), "index_codecs");
  refused(sharded_doc(bytes_crc(), "middle"), "index_location");
  json d = sharded_doc(bytes_crc());
  d["codecs"][0]["configuration"]["chunk_shape"] = {3, 4};
  refused(d, "multiple");
  d = sharded_doc(bytes_crc());
  d["codecs"].push_back({{"name", "crc32c"}});
  refused(d, "only codec");
  d = sharded_doc(bytes_crc());
  d["codecs"][0]["configuration"]["codecs"] = d["codecs"];
  refused(d, "nested");
}

TEST_CASE("shard_chunks setting -> shard layout") {
  const std::string name = "ARRAYMORPH_SHARD_CHUNKS";
  auto l = shard_layout_for("4", {10, 10}, {1000, 1000}, std::nullopt, name);
  REQUIRE(l.ok());
  REQUIRE(l.value());
  CHECK(l.value()->chunks_per_shard == std::vector<uint64_t>{4, 4});
  CHECK(l.value()->shard_shape == std::vector<uint64_t>{40, 40});
  // Capped by the chunks the (max) extent needs; unlimited dimensions are not capped.
  l = shard_layout_for("16x16", {10, 10}, {25, 25}, std::vector<int64_t>{-1, 25}, name);
  REQUIRE(l.ok());
  CHECK(l.value()->chunks_per_shard == std::vector<uint64_t>{16, 3});
  CHECK_FALSE(shard_layout_for("", {10}, {100}, std::nullopt, name).value());
  CHECK_FALSE(shard_layout_for("1", {10}, {100}, std::nullopt, name).value());
  CHECK_FALSE(shard_layout_for("8", {10}, {10}, std::nullopt, name).value());  // one chunk: nothing to shard
  // Counts per dimension apply to datasets of that rank only.
  auto other = shard_layout_for("4x4x4", {10, 10}, {100, 100}, std::nullopt, name);
  REQUIRE(other.ok());
  CHECK_FALSE(other.value());
  auto bad = shard_layout_for("4x0", {10, 10}, {100, 100}, std::nullopt, name);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find(name) != std::string::npos);
  CHECK_FALSE(shard_layout_for("many", {10}, {100}, std::nullopt, name).ok());
}
