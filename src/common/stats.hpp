// stats.hpp -- request and cache counters reported by arraymorph.stats().
//
// One Stats object per connector context, shared (via shared_ptr) by every store and cache it
// creates. Counters are relaxed atomics: cheap to bump from any thread; a snapshot is not an
// atomic cut across counters, which is fine for reporting.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>

namespace arraymorph {

enum class OpKind { kGet = 0, kPut, kHead, kList, kDelete, kCount };
const char* op_kind_name(OpKind k) noexcept;

struct OpCounters {
  std::atomic<uint64_t> requests{0};  // requests sent (each retry counts again)
  std::atomic<uint64_t> bytes{0};     // payload bytes received (get) or sent (put)
  std::atomic<uint64_t> retries{0};   // re-sent after a retryable failure
  std::atomic<uint64_t> errors{0};    // requests that finally failed
  std::atomic<uint64_t> not_found{0}; // get/head of a missing object (e.g. never-written chunk)
};

class Stats {
 public:
  OpCounters& op(OpKind k) { return ops_[static_cast<size_t>(k)]; }
  std::atomic<uint64_t> cache_hits{0};
  std::atomic<uint64_t> cache_misses{0};
  std::atomic<uint64_t> max_inflight_seen{0};  // highest number of concurrent requests observed
  // GETs whose body a store wrote straight into the caller's destination (GetDestination), with
  // no intermediate buffer, and their payload bytes. Also counted in op(kGet).
  std::atomic<uint64_t> zero_copy_reads{0};
  std::atomic<uint64_t> zero_copy_bytes{0};
  // Read-ahead (src/io/readahead.hpp): chunks fetched ahead of a sequential pass (GETs issued for
  // them), chunks a later read needed that had been fetched ahead, and chunks fetched ahead that
  // the pass left unread (at most one read-ahead window per pass), chunks whose prefetch step was
  // cancelled before it started, and chunks a read waited for because their prefetch was still
  // in flight.
  std::atomic<uint64_t> readahead_chunks{0};
  std::atomic<uint64_t> readahead_hits{0};
  std::atomic<uint64_t> readahead_unused{0};
  std::atomic<uint64_t> readahead_cancelled{0};
  std::atomic<uint64_t> readahead_waits{0};
  // Chunks encoded / decoded by a compressing codec chain (gzip, zstd, blosc, HDF5 plugin
  // filters), and how many of those ran on the thread that called the engine rather than on
  // the worker pool (src/io/chunk_io.cpp: expected 0).
  std::atomic<uint64_t> codec_encoded{0};
  std::atomic<uint64_t> codec_decoded{0};
  std::atomic<uint64_t> codec_on_caller{0};
  void note_zero_copy(uint64_t bytes) {
    zero_copy_reads.fetch_add(1, std::memory_order_relaxed);
    zero_copy_bytes.fetch_add(bytes, std::memory_order_relaxed);
  }

  // Chunks written in HDF5's raw chunk form (H5Dwrite_chunk, arraymorph_write_chunks), by how
  // they became objects (io/hdf5_chunk_form.hpp, FormChange): stored as given, gzip re-framed
  // without recompression, or decoded and encoded again.
  std::atomic<uint64_t> direct_verbatim{0};
  std::atomic<uint64_t> direct_reframed{0};
  std::atomic<uint64_t> direct_recoded{0};

  void reset();
  // {"get": {"requests": n, ...}, ..., "cache": {"hits": n, "misses": n},
  //  "zero_copy": {"reads": n, "bytes": n}, "readahead": {"chunks": n, "hits": n, "unused": n,
  //  "cancelled": n, "waits": n}, "codec": {"encoded": n, "decoded": n, "on_caller": n},
  //  "direct_chunks": {"verbatim": n, "reframed": n, "recoded": n}, "max_inflight_seen": n}
  std::string to_json() const;
  void note_inflight(uint64_t n) {
    uint64_t cur = max_inflight_seen.load(std::memory_order_relaxed);
    while (n > cur && !max_inflight_seen.compare_exchange_weak(cur, n, std::memory_order_relaxed)) {
    }
  }

 private:
  std::array<OpCounters, static_cast<size_t>(OpKind::kCount)> ops_;
};

}  // namespace arraymorph
