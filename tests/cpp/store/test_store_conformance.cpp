// The store conformance suite on every backend available here: memory, local directory, and
// (only when ARRAYMORPH_TEST_STORE_URL is set, e.g. by the pytest harness that starts SeaweedFS
// or Azurite) the store at that URL, configured from the usual environment variables.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <string>

#include "common/config.hpp"
#include "common/stats.hpp"
#include "sched/thread_pool.hpp"
#include "store/local_store.hpp"
#include "store/memory_store.hpp"
#include "store/store_factory.hpp"
#include "store_conformance.hpp"
#include "temp_dir.hpp"

using namespace arraymorph;

namespace {

const char* test_store_url() {
  const char* url = std::getenv("ARRAYMORPH_TEST_STORE_URL");
  return (url != nullptr && *url != '\0') ? url : nullptr;
}

// Unique per run so concurrent runs against one bucket do not collide.
std::string scratch_prefix(const std::string& base) {
  std::random_device rd;
  return base + "conformance-" + std::to_string(rd()) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + "/";
}

void install_pool(ObjectStore& store, ThreadPool& pool) {
  store.set_executor([&pool](size_t n, const std::function<void(size_t)>& task) {
    pool.parallel_for(n, 8, task);
  });
}

}  // namespace

TEST_CASE("memory store conforms") {
  auto stats = std::make_shared<Stats>();
  auto store = make_memory_store(stats);
  run_store_conformance(*store, "scratch/");
  CHECK(stats->op(OpKind::kPut).requests.load() > 0);
  CHECK(stats->op(OpKind::kGet).not_found.load() > 0);
}

TEST_CASE("memory store conforms with a thread-pool executor") {
  ThreadPool pool(4);
  auto store = make_memory_store(nullptr);
  install_pool(*store, pool);
  run_store_conformance(*store, "scratch/");
}

TEST_CASE("memory store delete_prefix spans several 1000-key groups") {
  auto store = make_memory_store(nullptr);
  const unsigned char byte = 1;
  for (int i = 0; i < 2500; ++i) REQUIRE(store->put("many/" + std::to_string(i), &byte, 1).ok());
  REQUIRE(store->put("other", &byte, 1).ok());
  Result<size_t> n = delete_prefix(*store, "many/");
  REQUIRE(n.ok());
  CHECK(n.value() == 2500);
  Result<std::vector<ObjectInfo>> left = list_all(*store, "");
  REQUIRE(left.ok());
  REQUIRE(left->size() == 1);
  CHECK(left->front().key == "other");
}

TEST_CASE("local store conforms") {
  testing::TempDir dir;
  auto stats = std::make_shared<Stats>();
  Result<std::shared_ptr<ObjectStore>> store = make_local_store(dir.str(), stats);
  REQUIRE(store.ok());
  run_store_conformance(*store.value(), "scratch/");
  CHECK(stats->op(OpKind::kPut).bytes.load() >= (3u << 20));
  // Deleting everything also pruned the directories it created.
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("local store conforms with a thread-pool executor") {
  testing::TempDir dir;
  ThreadPool pool(4);
  Result<std::shared_ptr<ObjectStore>> store = make_local_store(dir.str(), nullptr);
  REQUIRE(store.ok());
  install_pool(*store.value(), pool);
  run_store_conformance(*store.value(), "scratch/");
}

TEST_CASE("store at ARRAYMORPH_TEST_STORE_URL conforms" * doctest::skip(test_store_url() == nullptr)) {
  const std::string url = test_store_url();
  Result<Config> config = Config::from_env();
  REQUIRE_MESSAGE(config.ok(), config.status().to_string());
  Result<StoreLocation> loc = resolve_location(url, config.value());
  REQUIRE_MESSAGE(loc.ok(), loc.status().to_string());
  auto stats = std::make_shared<Stats>();
  Result<std::shared_ptr<ObjectStore>> store = open_store(loc.value(), config.value(), stats);
  REQUIRE_MESSAGE(store.ok(), store.status().to_string());
  const std::string base = loc->key.empty() ? "" : loc->key + "/";
  run_store_conformance(*store.value(), scratch_prefix(base));
  // The network stores stream every destination GET straight into it (check_destinations: 3).
  CHECK(stats->zero_copy_reads.load() >= 3);
}

TEST_CASE("zero-copy reads are counted where the store writes straight into the destination") {
  const Bytes data = testing::pattern_bytes(64 << 10, 3);
  auto check = [&](ObjectStore& store, Stats& stats, bool scattered_direct) {
    REQUIRE(store.put("z/obj", data.data(), data.size()).ok());
    Bytes buf(data.size());
    auto r = testing::get_into(store, "z/obj", std::nullopt, GetDestination::contiguous(buf.data(), buf.size()));
    REQUIRE(r.ok());
    CHECK(buf == data);
    CHECK(stats.zero_copy_reads.load() == 1);
    CHECK(stats.zero_copy_bytes.load() == data.size());
    // 64 spans of 512 bytes: the local store reads the object whole and copies (cheaper).
    Bytes half(data.size() / 2);
    GetDestination striped{data.size(), {}};
    for (size_t i = 0; i < 64; ++i) striped.spans.push_back({i * 1024, half.data() + i * 512, 512});
    r = testing::get_into(store, "z/obj", std::nullopt, striped);
    REQUIRE(r.ok());
    CHECK(Bytes(half.begin(), half.begin() + 512) == Bytes(data.begin(), data.begin() + 512));
    CHECK(stats.zero_copy_reads.load() == (scattered_direct ? 2u : 1u));
    // Plain gets are never counted.
    REQUIRE(store.get("z/obj").ok());
    CHECK(stats.zero_copy_reads.load() == (scattered_direct ? 2u : 1u));
  };
  SUBCASE("memory") {
    auto stats = std::make_shared<Stats>();
    auto store = make_memory_store(stats);
    check(*store, *stats, true);
  }
  SUBCASE("local") {
    arraymorph::testing::TempDir dir;
    auto stats = std::make_shared<Stats>();
    Result<std::shared_ptr<ObjectStore>> store = make_local_store(dir.str(), stats);
    REQUIRE(store.ok());
    check(*store.value(), *stats, false);
  }
}
