// Hostile documents and names: depth limit, extents, corrupt children, NUL and '..', and the
// commit protocol and write lock on the in-memory store.
#include <doctest/doctest.h>

#include <string>

#include "model/hierarchy.hpp"
#include "model/write_lock.hpp"
#include "model/zarr_metadata.hpp"
#include "common/stats.hpp"
#include "mpi/coordinated_store.hpp"
#include "store/memory_store.hpp"

using namespace arraymorph;
using namespace arraymorph::model;

namespace {

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::string array_doc(const std::string& shape, const std::string& chunks, const std::string& extra = "") {
  return R"({"zarr_format":3,"node_type":"array","shape":)" + shape +
         R"(,"data_type":"int32","chunk_grid":{"name":"regular","configuration":{"chunk_shape":)" + chunks +
         R"(}},"chunk_key_encoding":{"name":"default","configuration":{"separator":"/"}},"fill_value":0,)"
         R"("codecs":[{"name":"bytes","configuration":{"endian":"little"}}])" + extra + "}";
}

void put_text(ObjectStore& s, const std::string& key, const std::string& text) {
  REQUIRE(s.put(key, reinterpret_cast<const unsigned char*>(text.data()), text.size()).ok());
}

}  // namespace

TEST_CASE("a document nested 100,000 levels deep is refused by name, without recursion") {
  std::string deep = R"({"zarr_format":3,"node_type":"group","attributes":{"x":)";
  deep += std::string(100000, '[') + std::string(100000, ']') + "}}";
  CHECK(max_json_depth(deep) == 100002);
  auto r = parse_zarr_json(deep, "f.h5/zarr.json");
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.status().message(), "f.h5/zarr.json"));
  CHECK(contains(r.status().message(), "levels deep"));
  // Brackets inside strings do not count; moderate nesting is fine.
  CHECK(max_json_depth(R"({"a":"[[[[[\"[[["})") == 1);
  CHECK(parse_zarr_json(R"({"zarr_format":3,"node_type":"group","attributes":{"x":[[[[1]]]]}})", "k").ok());
}

TEST_CASE("negative, fractional and overflowing extents are refused naming the key") {
  struct Case {
    std::string shape, chunks, expect;
  };
  const Case cases[] = {
      {"[-5]", "[1]", "shape[0] = -5 is negative"},
      {"[10, 3.5]", "[1, 1]", "shape[1] = 3.5 is not an integer"},
      {"[10]", "[-1]", "chunk_shape[0] = -1 is negative"},
      {"[10]", "[0]", "chunk_shape[0] = 0 must be at least 1"},
      {"[18446744073709551615]", "[1]", "shape[0] = 18446744073709551615 is larger than 2^63-1"},
      {"[4294967296, 4294967296, 4294967296]", "[1, 1, 1]", "more than 2^64 elements"},
      {"[10, 10]", "[4294967296, 4294967296]", "chunks larger than"},
  };
  for (const auto& c : cases) {
    INFO(c.shape, " ", c.chunks);
    auto r = parse_zarr_json(array_doc(c.shape, c.chunks), "f.h5/x/zarr.json");
    REQUIRE_FALSE(r.ok());
    CHECK(contains(r.status().message(), c.expect));
    CHECK(contains(r.status().message(), "f.h5/x/zarr.json"));
  }
  auto bad_max = parse_zarr_json(array_doc("[10]", "[5]", R"(,"attributes":{"_hdf5":{"maxshape":[-7]}})"), "k");
  REQUIRE_FALSE(bad_max.ok());
  CHECK(contains(bad_max.status().message(), "_hdf5.maxshape[0]"));
  CHECK(parse_zarr_json(array_doc("[10]", "[5]", R"(,"attributes":{"_hdf5":{"maxshape":[-1]}})"), "k").ok());
}

TEST_CASE("numbers out of every integer range are refused, never converted (fuzz finding)") {
  // libFuzzer + UBSan: value<int>("zarr_format") of 1e21 was a float-to-int conversion out of range.
  auto fmt = parse_zarr_json(R"({"zarr_format":1000000000000661308985,"node_type":"group"})", "k");
  REQUIRE_FALSE(fmt.ok());
  CHECK(contains(fmt.status().message(), "zarr_format is not 3"));
  CHECK_FALSE(parse_zarr_json(R"({"zarr_format":3.0,"node_type":"group"})", "k").ok());
  auto big_fill = parse_zarr_json(array_doc("[10]", "[5]").replace(array_doc("[10]", "[5]").find("\"fill_value\":0"),
                                                                   14, R"("fill_value":1e300)"), "k");
  CHECK_FALSE(big_fill.ok());
  // A member of the wrong JSON type is an invalid document, not an exception (libFuzzer).
  auto wrong_type = parse_zarr_json(R"({"zarr_format":3,"node_type":7})", "f.h5/zarr.json");
  REQUIRE_FALSE(wrong_type.ok());
  CHECK(contains(wrong_type.status().message(), "f.h5/zarr.json"));
}

TEST_CASE("NUL and '..' in paths are refused") {
  CHECK_FALSE(normalize_path(std::string("/a\0b", 4)).ok());
  CHECK_FALSE(normalize_path("/a/../b").ok());
  CHECK(normalize_path("/a/./b").value() == "/a/b");
}

TEST_CASE("a corrupt child document is reported by name and its siblings still list") {
  auto store = make_memory_store(nullptr);
  Hierarchy h(store, "f.h5");
  REQUIRE(h.create_truncate().ok());
  Node g;
  for (const char* name : {"/a", "/b", "/c"}) REQUIRE(h.create(name, g, false).ok());
  REQUIRE(h.flush(false).ok());  // no consolidated metadata: children come from the listing
  put_text(*store, "f.h5/b/zarr.json", "{not json");
  put_text(*store, std::string("f.h5/n\0x/zarr.json", 18), R"({"zarr_format":3,"node_type":"group"})");
  put_text(*store, "f.h5/../zarr.json", R"({"zarr_format":3,"node_type":"group"})");

  Hierarchy r(store, "f.h5");
  REQUIRE(r.open().ok());
  auto kids = r.children("/");
  REQUIRE_MESSAGE(kids.ok(), kids.status().to_string());
  CHECK(kids.value() == std::vector<std::string>{"a", "b", "c"});  // no "n", no ".."
  auto b = r.get("/b");
  REQUIRE_FALSE(b.ok());
  CHECK(contains(b.status().message(), "f.h5/b/zarr.json"));
  CHECK(r.get("/a").ok());
}

TEST_CASE("commit protocol: consolidated metadata leaves the store before any change") {
  auto store = make_memory_store(nullptr);
  {
    Hierarchy h(store, "f.h5");
    REQUIRE(h.create_truncate().ok());
    REQUIRE(h.create("/base", Node(), false).ok());
    REQUIRE(h.flush(true).ok());
  }
  auto root_text = [&] {
    auto got = store->get("f.h5/zarr.json");
    REQUIRE(got.ok());
    return std::string(got.value()->begin(), got.value()->end());
  };
  CHECK(contains(root_text(), "consolidated_metadata"));
  {
    // A writer adds a node and "crashes" (never flushes).
    Hierarchy w(store, "f.h5");
    REQUIRE(w.open().ok());
    REQUIRE(w.create("/new", Node(), false).ok());
    CHECK_FALSE(contains(root_text(), "consolidated_metadata"));
  }
  Hierarchy r(store, "f.h5");
  REQUIRE(r.open().ok());
  CHECK(r.children("/").value() == std::vector<std::string>{"base", "new"});
  // The next clean flush restores it, complete.
  Hierarchy w2(store, "f.h5");
  REQUIRE(w2.open().ok());
  w2.mark_dirty("/");
  REQUIRE(w2.flush(true).ok());
  CHECK(contains(root_text(), "\"new\""));
  Hierarchy r2(store, "f.h5");
  REQUIRE(r2.open().ok());
  CHECK(r2.children("/").value() == std::vector<std::string>{"base", "new"});
}

TEST_CASE("write lock: a second writer is refused naming the first; release lets it in") {
  auto store = make_memory_store(nullptr);
  auto first = WriteLock::acquire(store, "f.h5");
  REQUIRE(first.ok());
  // Same process: counts as stale (the in-process registry shares open files instead), so use
  // a record of another host to play the second process.
  put_text(*store, lock_key("g.h5"), R"({"host":"elsewhere","pid":1,"id":"x","since":"2026-01-01T00:00:00Z"})");
  auto second = WriteLock::acquire(store, "g.h5");
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == Code::kConflict);
  CHECK(contains(second.status().message(), "host 'elsewhere'"));
  CHECK(contains(second.status().message(), "HDF5_USE_FILE_LOCKING=FALSE"));
  REQUIRE(first.value()->release().ok());
  CHECK_FALSE(store->get(lock_key("f.h5")).value().has_value());
  // A lock of a dead process on this host is taken over.
  auto again = WriteLock::acquire(store, "f.h5");
  REQUIRE(again.ok());
  REQUIRE(again.value()->release().ok());
}

TEST_CASE("put_if_absent is exclusive") {
  auto store = make_memory_store(nullptr);
  const unsigned char x = 'x';
  CHECK(store->capabilities().conditional_put);
  CHECK(store->put_if_absent("k", &x, 1).ok());
  CHECK(store->put_if_absent("k", &x, 1).code() == Code::kAlreadyExists);
}

TEST_CASE("the metadata-coordinating wrapper keeps the inner store's atomic conditional create") {
  auto stats = std::make_shared<Stats>();
  auto store = mpi::coordinate_metadata(make_memory_store(stats), nullptr);
  const unsigned char x = 'x';
  CHECK(store->put_if_absent("k", &x, 1).ok());
  CHECK(store->put_if_absent("k", &x, 1).code() == Code::kAlreadyExists);
  CHECK(stats->op(OpKind::kHead).requests.load() == 0);  // no HEAD + PUT race window
}
