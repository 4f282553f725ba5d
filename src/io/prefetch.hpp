// prefetch.hpp -- background fetches of read-ahead chunks into the chunk cache (issue 19).
//
// ReadAhead (readahead.hpp) decides which chunks a sequential pass will need next; a Prefetcher
// fetches them without holding up the read that triggered them. Each submit() is one step: the
// step's chunks not cached and not already being fetched are marked as fills in flight in the
// file's chunk cache (ChunkCache::begin_fill) at once, on the caller's thread -- so a read that
// comes before the step has started waits for it rather than fetching the chunk twice -- then,
// on a step thread, fetched whole with one store.get_many, decoded
// (compressed chunks on the worker pool, each as it arrives) and inserted (end_fill). A read that
// needs a chunk whose fill is in flight waits for it (chunk_io.cpp) instead of fetching it again.
//
// Steps run on threads of their own -- at most kMaxSteps at once, started on demand and ended
// when the queue is empty, so an idle handle holds no thread -- never on the worker pool, whose
// workers decode: a step blocked in get_many must not starve the decodes it waits for.
//
// Misprediction is bounded and cancelled: cancel() drops every step not started yet (ending
// their fills unfilled and returning their chunks, which were never requested) and only the steps already in flight (at most
// kMaxSteps, each at most the read-ahead window) complete. A failed GET or decode is no error:
// the chunk is simply not cached, and the read that needs it fetches it and reports any failure.
//
// Units: chunk coordinates are chunk grid indices; seconds from std::chrono::steady_clock.
// Thread-safety: submit/cancel/wait_idle/step_seconds from one thread (the HDF5 thread of the
// owning dataset handle); the destructor cancels and waits for the steps in flight. A target
// given to submit() must stay valid (store, pool, cache) until wait_idle() or destruction.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/stats.hpp"
#include "io/chunk_cache.hpp"
#include "model/zarr_metadata.hpp"
#include "sched/thread_pool.hpp"
#include "store/store.hpp"

namespace arraymorph::io {

// What a step needs to fetch chunks of one array. The metadata is a copy taken at submit time,
// so a resize of the dataset while a step is in flight races with nothing (its cache tag then
// carries the old shape and never hits).
struct PrefetchTarget {
  ObjectStore* store = nullptr;
  std::string node_prefix;  // "<file>/<path>"
  model::ArrayMeta meta;
  ThreadPool* pool = nullptr;   // decodes of compressed chunks
  ChunkCache* cache = nullptr;  // must be enabled
  std::weak_ptr<const void> owner;
  Stats* stats = nullptr;       // readahead_chunks; may be null
};

using ChunkCoords = std::vector<std::vector<uint64_t>>;

// Fetches `chunks` whole into target.cache (blocking): the body of one step, also usable alone.
// Returns the number of GETs issued.
uint64_t fetch_into_cache(const PrefetchTarget& target, const ChunkCoords& chunks);

class Prefetcher {
 public:
  static constexpr size_t kMaxSteps = 4;

  Prefetcher() = default;
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  void submit(std::shared_ptr<const PrefetchTarget> target, ChunkCoords chunks);
  // Drops the steps not started yet; returns their chunks (never requested).
  ChunkCoords cancel();
  // Blocks until no step is queued or running.
  void wait_idle();
  // Moving average of how long a step took from start to its last chunk cached (0: none yet).
  double step_seconds() const;

 private:
  struct Step {
    std::shared_ptr<const PrefetchTarget> target;
    ChunkCoords chunks;              // whose fills this step began (not cached, not in flight)
    std::vector<std::string> keys;   // their object keys
  };
  void worker();
  void reap_locked(std::vector<std::thread>& finished);

  mutable std::mutex mu_;
  std::condition_variable idle_;
  std::deque<Step> queue_;
  size_t running_ = 0;  // steps being fetched
  size_t threads_alive_ = 0;
  std::vector<std::thread> threads_;
  std::vector<std::thread::id> exited_;  // threads whose loop ended (joined on the next call)
  double step_seconds_ = 0;
};

}  // namespace arraymorph::io
