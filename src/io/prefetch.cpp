// prefetch.cpp -- see prefetch.hpp.
#include "io/prefetch.hpp"

#include <algorithm>
#include <chrono>

#include "io/codec_pipeline.hpp"
#include "model/chunk_key.hpp"
#include "sched/job_group.hpp"

namespace arraymorph::io {

namespace {

std::string key_of(const PrefetchTarget& t, const std::vector<uint64_t>& coords) {
  return t.node_prefix + "/" + model::chunk_key(coords);
}

// Starts the fills of `chunks` not cached and not in flight yet; returns their keys and coords.
void begin_fills(const PrefetchTarget& t, ChunkCoords chunks, std::vector<std::string>& keys, ChunkCoords& coords) {
  const ChunkCache::Tag tag{t.owner, t.meta.shape};
  for (auto& c : chunks) {
    std::string key = key_of(t, c);
    if (t.cache->get(key, tag)) continue;      // cached already (now fresh in the LRU)
    if (!t.cache->begin_fill(key)) continue;   // being fetched by another step or handle
    keys.push_back(std::move(key));
    coords.push_back(std::move(c));
  }
}

// Fetches the begun fills `keys` whole and ends each of them exactly once.
void fetch_fills(const PrefetchTarget& t, const std::vector<std::string>& keys) {
  ChunkCache& cache = *t.cache;
  const ChunkCache::Tag tag{t.owner, t.meta.shape};
  if (t.stats) t.stats->readahead_chunks.fetch_add(keys.size(), std::memory_order_relaxed);
  std::vector<GetRequest> reqs;
  reqs.reserve(keys.size());
  for (const auto& k : keys) reqs.push_back({k, std::nullopt});
  std::vector<char> ended(reqs.size(), 0);
  auto end = [&](size_t i, std::optional<ChunkCache::Data> data) {
    ended[i] = 1;
    cache.end_fill(reqs[i].key, std::move(data), tag);
  };
  const bool compressed = !t.meta.uncompressed();
  {
    JobGroup decoders(*t.pool);
    try {
      t.store->get_many(reqs, [&](size_t i, Result<std::optional<Bytes>>&& r) {
        if (!r.ok()) return end(i, std::nullopt);           // the read will fetch and report
        if (!r.value()) return end(i, ChunkCache::Data{});   // absent: all fill value
        auto decode = [&t, &end, i, compressed](Bytes stored) {
          if (compressed && t.stats) t.stats->codec_decoded.fetch_add(1, std::memory_order_relaxed);
          auto raw = decode_chunk(t.meta, std::move(stored));
          if (!raw.ok()) return end(i, std::nullopt);         // the read re-fetches and reports
          end(i, std::make_shared<const Bytes>(std::move(raw).value()));
        };
        if (compressed) {  // decode on the worker pool as each chunk arrives
          decoders.run([decode, stored = std::move(*r.value())]() mutable { decode(std::move(stored)); });
        } else {
          decode(std::move(*r.value()));
        }
      });
    } catch (...) {
    }
    decoders.wait();
  }
  for (size_t i = 0; i < reqs.size(); ++i)
    if (!ended[i]) cache.end_fill(reqs[i].key, std::nullopt, tag);
}

}  // namespace

uint64_t fetch_into_cache(const PrefetchTarget& t, const ChunkCoords& chunks) {
  std::vector<std::string> keys;
  ChunkCoords coords;
  begin_fills(t, chunks, keys, coords);
  if (!keys.empty()) fetch_fills(t, keys);
  return keys.size();
}

Prefetcher::~Prefetcher() {
  cancel();
  wait_idle();
  std::vector<std::thread> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    all.swap(threads_);
  }
  for (auto& th : all) th.join();
}

void Prefetcher::reap_locked(std::vector<std::thread>& finished) {
  for (auto id : exited_) {
    auto it = std::find_if(threads_.begin(), threads_.end(), [id](const std::thread& th) { return th.get_id() == id; });
    if (it == threads_.end()) continue;
    finished.push_back(std::move(*it));
    threads_.erase(it);
  }
  exited_.clear();
}

void Prefetcher::submit(std::shared_ptr<const PrefetchTarget> target, ChunkCoords chunks) {
  if (chunks.empty() || !target || !target->cache || !target->cache->enabled()) return;
  // The fills begin now, on the caller's thread: a read arriving before the step starts waits
  // for it instead of fetching the chunk a second time.
  Step step{std::move(target), {}, {}};
  begin_fills(*step.target, std::move(chunks), step.keys, step.chunks);
  if (step.keys.empty()) return;
  std::vector<std::thread> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    reap_locked(finished);
    queue_.push_back(std::move(step));
    if (threads_alive_ < kMaxSteps) {
      ++threads_alive_;
      threads_.emplace_back([this] { worker(); });
    }
  }
  for (auto& th : finished) th.join();  // their loops have ended: joining does not wait long
}

void Prefetcher::worker() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!queue_.empty()) {
    Step step = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    const auto start = std::chrono::steady_clock::now();
    fetch_fills(*step.target, step.keys);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    step = Step{};  // release the target before reporting idle
    lock.lock();
    step_seconds_ = step_seconds_ == 0 ? took : 0.7 * step_seconds_ + 0.3 * took;
    --running_;
  }
  --threads_alive_;
  exited_.push_back(std::this_thread::get_id());
  idle_.notify_all();
}

ChunkCoords Prefetcher::cancel() {
  std::deque<Step> queued;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued.swap(queue_);
  }
  ChunkCoords dropped;
  for (auto& step : queued) {
    for (const auto& key : step.keys) step.target->cache->end_fill(key, std::nullopt, {});  // wakes waiters
    for (auto& c : step.chunks) dropped.push_back(std::move(c));
  }
  return dropped;
}

void Prefetcher::wait_idle() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return queue_.empty() && running_ == 0; });
}

double Prefetcher::step_seconds() const {
  std::lock_guard<std::mutex> lock(mu_);
  return step_seconds_;
}

}  // namespace arraymorph::io
