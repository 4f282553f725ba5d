// Background read-ahead (src/io/prefetch.hpp) and the chunk cache's fills in flight: steps run
// off the calling thread, at most kMaxSteps at once; cancel() drops the steps not started; a
// write during a fill keeps the old bytes out of the cache; failures only leave chunks uncached.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "io/chunk_cache.hpp"
#include "io/codec_pipeline.hpp"
#include "io/prefetch.hpp"
#include "io/readahead.hpp"
#include "store/memory_store.hpp"

using namespace arraymorph;
using namespace arraymorph::io;

namespace {

// A memory store whose batched GETs wait at a gate the test opens, recording which threads
// issued them and how many batches were waiting at once.
class GatedStore : public ObjectStore {
 public:
  GatedStore() : inner_(make_memory_store(nullptr)) {}
  Result<std::optional<Bytes>> get(const std::string& key, std::optional<ByteRange> range) override {
    return inner_->get(key, range);
  }
  Status put(const std::string& key, const unsigned char* data, size_t size) override { return inner_->put(key, data, size); }
  Result<std::optional<ObjectInfo>> head(const std::string& key) override { return inner_->head(key); }
  Result<ListPage> list(const std::string& p, const std::string& d, const std::string& t, size_t m) override {
    return inner_->list(p, d, t, m);
  }
  Status delete_many(const std::vector<std::string>& keys) override { return inner_->delete_many(keys); }
  std::string describe() const override { return "gated"; }

  void get_many(const std::vector<GetRequest>& requests, const GetDone& on_done) override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      threads_.insert(std::this_thread::get_id());
      ++waiting_;
      max_waiting_ = std::max(max_waiting_, waiting_);
      cv_.notify_all();
      cv_.wait(lock, [this] { return open_; });
      --waiting_;
      gets_ += requests.size();
    }
    for (size_t i = 0; i < requests.size(); ++i) on_done(i, inner_->get(requests[i].key, requests[i].range));
  }
  void open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void wait_for_waiting(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return waiting_ >= n; });
  }
  size_t max_waiting() {
    std::lock_guard<std::mutex> lock(mu_);
    return max_waiting_;
  }
  size_t gets() {
    std::lock_guard<std::mutex> lock(mu_);
    return gets_;
  }
  std::set<std::thread::id> threads() {
    std::lock_guard<std::mutex> lock(mu_);
    return threads_;
  }

 private:
  std::shared_ptr<ObjectStore> inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  size_t waiting_ = 0, max_waiting_ = 0, gets_ = 0;
  std::set<std::thread::id> threads_;
};

model::ArrayMeta meta_with(std::vector<model::Codec> codecs) {
  model::ArrayMeta m;
  m.shape = {100};
  m.chunk_shape = {10};
  m.data_type = "int32";
  m.element_size = 4;
  m.codecs = std::move(codecs);
  return m;
}

Bytes chunk_of(int v) { return Bytes(40, static_cast<unsigned char>(v)); }

struct Fixture {
  GatedStore store;
  ThreadPool pool{2};
  ChunkCache cache{1 << 20};
  std::shared_ptr<int> owner = std::make_shared<int>(0);
  Stats stats;
  std::shared_ptr<const PrefetchTarget> target(const model::ArrayMeta& meta) {
    auto t = std::make_shared<PrefetchTarget>();
    t->store = &store;
    t->node_prefix = "f/d";
    t->meta = meta;
    t->pool = &pool;
    t->cache = &cache;
    t->owner = owner;
    t->stats = &stats;
    return t;
  }
  ChunkCache::Tag tag(const model::ArrayMeta& m) { return {owner, m.shape}; }
};

}  // namespace

TEST_CASE("steps run off the calling thread, at most kMaxSteps at once; cancel drops the rest") {
  Fixture fx;
  const auto meta = meta_with({{"bytes", {{"endian", "little"}}}});
  for (int i = 0; i < 10; ++i) {
    Bytes b = chunk_of(i);
    REQUIRE(fx.store.put("f/d/c/" + std::to_string(i), b.data(), b.size()).ok());
  }
  Prefetcher p;
  for (uint64_t i = 0; i < 10; ++i) p.submit(fx.target(meta), {{i}});  // returns at once
  fx.store.wait_for_waiting(Prefetcher::kMaxSteps);
  CHECK(fx.cache.fills_in_flight() == 10);  // begun at submit: a read would wait, not re-fetch
  ReadAhead::Coords dropped = p.cancel();
  CHECK(dropped.size() == 10 - Prefetcher::kMaxSteps);
  CHECK(fx.cache.fills_in_flight() == Prefetcher::kMaxSteps);  // cancelled fills end unfilled
  fx.store.open();
  p.wait_idle();
  CHECK(fx.store.max_waiting() == Prefetcher::kMaxSteps);
  CHECK(fx.store.gets() == Prefetcher::kMaxSteps);
  CHECK(fx.stats.readahead_chunks.load() == Prefetcher::kMaxSteps);
  CHECK(fx.store.threads().count(std::this_thread::get_id()) == 0);
  CHECK(fx.cache.fills_in_flight() == 0);
  size_t cached = 0;
  for (int i = 0; i < 10; ++i) {
    auto hit = fx.cache.get("f/d/c/" + std::to_string(i), fx.tag(meta));
    if (!hit) continue;
    ++cached;
    CHECK(**hit == chunk_of(i));
  }
  CHECK(cached == Prefetcher::kMaxSteps);
  CHECK(p.step_seconds() > 0);
  // Cached or in flight already: a second step issues nothing.
  fx.store.open();
  ReadAhead::Coords all;
  for (uint64_t i = 0; i < 10; ++i) all.push_back({i});
  CHECK(fetch_into_cache(*fx.target(meta), all) == 10 - Prefetcher::kMaxSteps);
  CHECK(fetch_into_cache(*fx.target(meta), all) == 0);
}

TEST_CASE("a read waits for a fill in flight; a write during the fill keeps the old bytes out") {
  ChunkCache cache(1 << 20);
  auto owner = std::make_shared<int>(0);
  ChunkCache::Tag tag{owner, {4}};
  CHECK(cache.begin_fill("k"));
  CHECK_FALSE(cache.begin_fill("k"));  // one fill per key
  std::atomic<bool> waited{false};
  std::thread reader([&] { waited = cache.wait_fill("k"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  cache.end_fill("k", std::make_shared<const Bytes>(4, 1), tag);
  reader.join();
  CHECK(waited);
  CHECK(cache.get("k", tag).has_value());
  CHECK_FALSE(cache.wait_fill("k"));

  // Our own write of "w" lands while the GET that fetched its old bytes is in flight.
  CHECK(cache.begin_fill("w"));
  cache.erase("w");  // what write_chunks does for a chunk it stored
  cache.end_fill("w", std::make_shared<const Bytes>(4, 0), tag);
  CHECK_FALSE(cache.get("w", tag).has_value());
  CHECK(cache.begin_fill("u"));
  CHECK_FALSE(cache.update("u", std::make_shared<const Bytes>(4, 2), tag));
  cache.end_fill("u", std::make_shared<const Bytes>(4, 0), tag);
  CHECK_FALSE(cache.get("u", tag).has_value());
  CHECK(cache.begin_fill("f/x/c/0"));
  cache.erase_prefix("f/x/");  // resize / delete of the dataset
  cache.end_fill("f/x/c/0", std::make_shared<const Bytes>(4, 0), tag);
  CHECK_FALSE(cache.get("f/x/c/0", tag).has_value());
}

TEST_CASE("compressed chunks are decoded on the worker pool; bad ones are only left uncached") {
  Fixture fx;
  fx.store.open();
  const auto meta = meta_with({{"bytes", {{"endian", "little"}}}, {"gzip", {{"level", 1}}}});
  for (int i = 0; i < 3; ++i) {
    auto enc = encode_chunk(meta, chunk_of(i));
    REQUIRE(enc.ok());
    REQUIRE(fx.store.put("f/d/c/" + std::to_string(i), enc.value().data(), enc.value().size()).ok());
  }
  const std::string junk = "not gzip";
  REQUIRE(fx.store.put("f/d/c/3", reinterpret_cast<const unsigned char*>(junk.data()), junk.size()).ok());
  CHECK(fetch_into_cache(*fx.target(meta), {{0}, {1}, {2}, {3}, {4}}) == 5);
  for (int i = 0; i < 3; ++i) {
    auto hit = fx.cache.get("f/d/c/" + std::to_string(i), fx.tag(meta));
    REQUIRE(hit.has_value());
    CHECK(**hit == chunk_of(i));
  }
  CHECK_FALSE(fx.cache.get("f/d/c/3", fx.tag(meta)).has_value());  // corrupt: the read reports it
  auto absent = fx.cache.get("f/d/c/4", fx.tag(meta));               // never written: fill value
  REQUIRE(absent.has_value());
  CHECK_FALSE(static_cast<bool>(*absent));
  CHECK(fx.cache.fills_in_flight() == 0);
}
