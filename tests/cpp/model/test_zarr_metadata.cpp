// Zarr v3 metadata: round trips, fill values of every core type, errors naming the key.
#include <doctest/doctest.h>

#include <cmath>

#include "model/chunk_key.hpp"
#include "model/zarr_metadata.hpp"

using namespace arraymorph;
using namespace arraymorph::model;

TEST_CASE("array node round trip keeps every field") {
  Node n;
  n.kind = NodeKind::kArray;
  n.attributes = {{"units", "m"}, {"scale", 2.5}};
  ArrayMeta a;
  a.shape = {100, 7};
  a.chunk_shape = {10, 7};
  a.data_type = "int16";
  a.element_size = 2;
  a.big_endian = true;
  a.fill_value = -3;
  a.codecs = {{"bytes", {{"endian", "big"}}}, {"gzip", {{"level", 4}}}};
  a.max_shape = std::vector<int64_t>{-1, 7};
  a.hdf5_type = "AAEC";
  n.array = a;
  json doc = to_zarr_json(n);
  CHECK(doc["zarr_format"] == 3);
  CHECK(doc["node_type"] == "array");
  CHECK(doc["chunk_grid"]["configuration"]["chunk_shape"] == json({10, 7}));
  CHECK(doc["chunk_key_encoding"]["configuration"]["separator"] == "/");
  CHECK(doc["attributes"]["_hdf5"]["maxshape"] == json({-1, 7}));
  auto back = from_zarr_json(doc, "x/zarr.json");
  REQUIRE(back.ok());
  const ArrayMeta& b = *back.value().array;
  CHECK(b.shape == a.shape);
  CHECK(b.chunk_shape == a.chunk_shape);
  CHECK(b.data_type == "int16");
  CHECK(b.element_size == 2);
  CHECK(b.big_endian);
  CHECK(b.fill_bytes == std::vector<unsigned char>{0xff, 0xfd});
  CHECK(b.codecs.size() == 2);
  CHECK(b.codecs[1].name == "gzip");
  CHECK(*b.max_shape == *a.max_shape);
  CHECK(b.hdf5_type == "AAEC");
  CHECK(back.value().attributes == n.attributes);  // _hdf5 removed from user attributes
}

TEST_CASE("fill values of core types") {
  auto f32 = fill_json_to_bytes("NaN", "float32", 4, false);
  REQUIRE(f32.ok());
  float v;
  std::memcpy(&v, f32.value().data(), 4);
  CHECK(std::isnan(v));
  auto back = fill_bytes_to_json(f32.value().data(), "float32", 4, false);
  CHECK(back.value() == "NaN");
  auto half = fill_json_to_bytes(1.5, "float16", 2, false);
  CHECK(half.value() == std::vector<unsigned char>{0x00, 0x3e});
  CHECK(fill_bytes_to_json(half.value().data(), "float16", 2, false).value() == 1.5);
  auto u64 = fill_json_to_bytes(json(18446744073709551615ull), "uint64", 8, false);
  CHECK(u64.value() == std::vector<unsigned char>(8, 0xff));
  auto i8 = fill_bytes_to_json(u64.value().data(), "int8", 1, false);
  CHECK(i8.value() == -1);
  auto c = fill_json_to_bytes(json::array({1.0, -2.0}), "complex64", 8, false);
  CHECK(fill_bytes_to_json(c.value().data(), "complex64", 8, false).value() == json::array({1.0, -2.0}));
  CHECK(fill_json_to_bytes(true, "bool", 1, false).value() == std::vector<unsigned char>{1});
  CHECK_FALSE(fill_json_to_bytes("abc", "int32", 4, false).ok());
}

TEST_CASE("invalid metadata names the key") {
  auto r = parse_zarr_json("{not json", "f.h5/a/zarr.json");
  CHECK_FALSE(r.ok());
  CHECK(r.status().message().find("f.h5/a/zarr.json") != std::string::npos);
  auto v2 = from_zarr_json(json{{"zarr_format", 2}}, "k");
  CHECK_FALSE(v2.ok());
  CHECK(v2.status().message().find("zarr_format") != std::string::npos);
  auto rank = from_zarr_json(json::parse(R"({"zarr_format":3,"node_type":"array","shape":[4],"data_type":"int8",
      "chunk_grid":{"name":"regular","configuration":{"chunk_shape":[2,2]}},"codecs":[{"name":"bytes"}],"fill_value":0})"),
                             "k");
  CHECK_FALSE(rank.ok());
}

TEST_CASE("chunk keys and node prefixes") {
  CHECK(chunk_key({}) == "c");
  CHECK(chunk_key({0, 12}) == "c/0/12");
  CHECK(node_prefix("demo.h5", "/") == "demo.h5");
  CHECK(node_prefix("demo.h5", "/a/b") == "demo.h5/a/b");
  CHECK(metadata_key("demo.h5/a") == "demo.h5/a/zarr.json");
}

TEST_CASE("base64 round trip") {
  std::vector<unsigned char> data{0, 1, 2, 250, 251, 252, 253};
  for (size_t n = 0; n <= data.size(); ++n) {
    std::vector<unsigned char> part(data.begin(), data.begin() + n);
    auto back = base64_decode(base64_encode(part.data(), part.size()));
    REQUIRE(back.ok());
    CHECK(back.value() == part);
  }
  CHECK_FALSE(base64_decode("a$b").ok());
}
