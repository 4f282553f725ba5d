// Local store specifics beyond the conformance suite: layout on disk, atomic puts, key
// validation, root errors, directory pruning.
#include <doctest/doctest.h>

#include <fstream>
#include <thread>
#include <vector>

#include "common/stats.hpp"
#include "store/local_store.hpp"
#include "store_conformance.hpp"
#include "temp_dir.hpp"

using namespace arraymorph;
using arraymorph::testing::TempDir;
using arraymorph::testing::to_bytes;
namespace fs = std::filesystem;

namespace {

std::shared_ptr<ObjectStore> open_local(const TempDir& dir, std::shared_ptr<Stats> stats = nullptr) {
  Result<std::shared_ptr<ObjectStore>> s = make_local_store(dir.str(), std::move(stats));
  REQUIRE_MESSAGE(s.ok(), s.status().to_string());
  return s.value();
}

void write_file(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

}  // namespace

TEST_CASE("keys are files below the root") {
  TempDir dir;
  auto store = open_local(dir);
  const Bytes data = to_bytes("hello");
  REQUIRE(store->put("a/b/c", data.data(), data.size()).ok());
  CHECK(fs::is_regular_file(dir.path() / "a" / "b" / "c"));
  CHECK(fs::file_size(dir.path() / "a" / "b" / "c") == 5);
  CHECK(store->describe() == "file://" + dir.str());

  // Files written by other tools are objects too.
  write_file(dir.path() / "x" / "zarr.json", "{}");
  Result<std::optional<Bytes>> got = store->get("x/zarr.json");
  REQUIRE(got.ok());
  REQUIRE(got.value().has_value());
  CHECK(*got.value() == to_bytes("{}"));
}

TEST_CASE("temporary files of in-progress puts are never listed and no residue is left") {
  TempDir dir;
  auto store = open_local(dir);
  write_file(dir.path() / "d" / ".am-tmp-123-4-5", "partial");
  write_file(dir.path() / "d" / "real", "r");
  write_file(dir.path() / "only-tmp" / ".am-tmp-9", "partial");
  Result<ListPage> page = store->list("", "");
  REQUIRE(page.ok());
  REQUIRE(page->objects.size() == 1);
  CHECK(page->objects[0].key == "d/real");
  page = store->list("", "/");
  REQUIRE(page.ok());
  CHECK(page->common_prefixes == std::vector<std::string>{"d/"});  // only-tmp/ holds no object

  // Many concurrent writers of one key: readers only ever see a whole value, and no temp
  // file survives.
  const Bytes a(200000, 'a');
  const Bytes b(100000, 'b');
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      const Bytes& v = (t % 2) ? a : b;
      for (int i = 0; i < 20; ++i) CHECK(store->put("k/v", v.data(), v.size()).ok());
    });
  }
  bool torn = false;
  for (int i = 0; i < 200; ++i) {
    Result<std::optional<Bytes>> got = store->get("k/v");
    REQUIRE(got.ok());
    if (got.value().has_value() && *got.value() != a && *got.value() != b) torn = true;
  }
  for (auto& w : writers) w.join();
  CHECK_FALSE(torn);
  int temps = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir.path() / "k")) {
    if (e.path().filename().string().rfind(".am-tmp-", 0) == 0) ++temps;
  }
  CHECK(temps == 0);
}

TEST_CASE("invalid keys are rejected with invalid_argument") {
  TempDir dir;
  auto store = open_local(dir);
  const unsigned char byte = 1;
  for (const char* key : {"", "/abs", "a//b", "a/", "..", "../escape", "a/../b", "a/./b", ".",
                          ".am-tmp-x", "d/.am-tmp-y"}) {
    INFO("key '", key, "'");
    Status s = store->put(key, &byte, 1);
    CHECK(s.code() == Code::kInvalidArgument);
    Result<std::optional<Bytes>> g = store->get(key);
    CHECK(g.status().code() == Code::kInvalidArgument);
    Result<std::optional<ObjectInfo>> h = store->head(key);
    CHECK(h.status().code() == Code::kInvalidArgument);
    CHECK(store->delete_many({key}).code() == Code::kInvalidArgument);
  }
  CHECK(store->list("../", "/").status().code() == Code::kInvalidArgument);
  CHECK(store->list("/x", "").status().code() == Code::kInvalidArgument);
  CHECK_FALSE(fs::exists(dir.path().parent_path() / "escape"));
  // Dots inside names are fine.
  REQUIRE(store->put("a..b/c.d..", &byte, 1).ok());
  CHECK(store->get("a..b/c.d..").value().has_value());
}

TEST_CASE("a missing or non-directory root is an error naming the path") {
  TempDir dir;
  const std::string missing = (dir.path() / "nope").string();
  Result<std::shared_ptr<ObjectStore>> s = make_local_store(missing, nullptr);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message() == "local store root '" + missing + "' does not exist");

  write_file(dir.path() / "file", "x");
  s = make_local_store((dir.path() / "file").string(), nullptr);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message().find((dir.path() / "file").string()) != std::string::npos);
}

TEST_CASE("delete prunes empty directories up to, not including, the root") {
  TempDir dir;
  auto store = open_local(dir);
  const unsigned char byte = 1;
  REQUIRE(store->put("f/g/h/one", &byte, 1).ok());
  REQUIRE(store->put("f/two", &byte, 1).ok());
  REQUIRE(store->delete_many({"f/g/h/one"}).ok());
  CHECK_FALSE(fs::exists(dir.path() / "f" / "g"));
  CHECK(fs::exists(dir.path() / "f" / "two"));
  REQUIRE(store->delete_many({"f/two"}).ok());
  CHECK_FALSE(fs::exists(dir.path() / "f"));
  CHECK(fs::is_directory(dir.path()));
}

TEST_CASE("a directory is not an object; a file is not a directory") {
  TempDir dir;
  auto store = open_local(dir);
  const unsigned char byte = 1;
  REQUIRE(store->put("dir/obj", &byte, 1).ok());
  CHECK_FALSE(store->get("dir").value().has_value());
  CHECK_FALSE(store->head("dir").value().has_value());
  CHECK_FALSE(store->get("dir/obj/below").value().has_value());
  CHECK(store->delete_many({"dir/obj/below"}).ok());
}

TEST_CASE("stats count requests, bytes and misses") {
  TempDir dir;
  auto stats = std::make_shared<Stats>();
  auto store = open_local(dir, stats);
  const Bytes data = to_bytes("12345");
  REQUIRE(store->put("s", data.data(), data.size()).ok());
  REQUIRE(store->get("s").ok());
  REQUIRE(store->get("s", ByteRange{1, 2}).ok());
  REQUIRE(store->get("absent").ok());
  REQUIRE(store->head("absent").ok());
  REQUIRE(store->list("", "/").ok());
  REQUIRE(store->delete_many({"s", "absent"}).ok());
  CHECK(stats->op(OpKind::kPut).requests == 1);
  CHECK(stats->op(OpKind::kPut).bytes == 5);
  CHECK(stats->op(OpKind::kGet).requests == 3);
  CHECK(stats->op(OpKind::kGet).bytes == 7);
  CHECK(stats->op(OpKind::kGet).not_found == 1);
  CHECK(stats->op(OpKind::kHead).not_found == 1);
  CHECK(stats->op(OpKind::kList).requests == 1);
  CHECK(stats->op(OpKind::kDelete).requests == 2);
  const std::string json = stats->to_json();
  CHECK(json.find("\"put\":{\"bytes\":5,\"errors\":0,\"not_found\":0,\"requests\":1,\"retries\":0}") !=
        std::string::npos);
  CHECK(json.find("\"cache\":{\"hits\":0,\"misses\":0}") != std::string::npos);
  stats->reset();
  CHECK(stats->op(OpKind::kGet).requests == 0);
}
