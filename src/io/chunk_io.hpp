// chunk_io.hpp -- executes a ChunkPlan against a store: the read and write paths of H5Dread and
// H5Dwrite for one dataset.
//
// Reads: chunks found in the file's chunk cache (target.cache) are scattered from it without a
// request. For the others, uncompressed chunks go through the range planner (range_planner.hpp:
// whole-object GET or a few merged ranged GETs, by a cost model, then the ranged GETs of all
// chunks of the read planned together by coalesce_plans); compressed chunks are fetched whole. Every GET of the call is issued at once (store.get_many). A missing chunk scatters the
// fill value (and is cached as absent).
//
// Zero-copy (docs/design.md §4): an uncompressed GET is given a GetDestination listing where its bytes go
// in the destination buffer, so the store writes them there as they arrive (the network stores
// from the transport thread, which also takes that scatter off the HDF5 thread) and no chunk
// buffer is allocated. Used for every ranged GET, and for a whole-chunk GET when the chunk will
// not be cached (no cache, or a chunk larger than it) or when the selection covers all of the
// chunk; then the cache gets a copy gathered from the destination on the worker pool. A whole
// chunk only partly selected is received as owned bytes, cached and scattered (compressed chunks
// too, decoded on the worker pool first). Ranged results are never cached.
//   Why keep caching zero-copy chunks: a cached chunk must exist in two places whichever way it
// arrives, so with the cache on, a full read costs the same as before (measured on read_all,
// 4096^2 float32 in 256^2 chunks over S3: ~0.15 s of client CPU either way), while skipping the
// cache would change what re-reads cost. With cache_bytes = 0 the same read takes ~0.08 s instead
// of ~0.11 s: streaming workloads that never re-read should turn the cache off. A read that
// fetches more whole chunks than the cache holds (a one-pass read larger than the cache) does not
// copy them into it at all: they would only evict each other and everything cached before.
//
// Read-ahead (src/io/readahead.hpp, src/io/prefetch.hpp) fills the cache in the background; a
// chunk whose fill is still in flight is waited for (ChunkCache::wait_fill, counted in
// Stats::readahead_waits and target.fill_waits), never fetched a second time.
//
// Writes gather pieces into whole chunks — fetching the old chunk first (from the cache if there,
// else a GET) only when the selection does not cover all of its in-extent elements
// (read-modify-write, decoded on the worker pool as each GET completes) — encode them on the
// worker pool and PUT them together, in batches bounded to ~max(32 MiB, 2 x max_inflight chunks)
// of raw chunk bytes so a huge write does not hold every encoded chunk at once. The next batch is
// assembled and encoded on the pool while the current one's PUTs are in flight (two batches
// alive at once). Codec work never runs on the calling thread (Stats::codec_on_caller). An uncompressed chunk that is one contiguous span of the buffer is PUT
// straight from it (no copy). Cached chunks get the new bytes after their PUT succeeds
// (write-through) and are dropped if it fails.
//
// The call returns when every request has finished and reports the first failure with the
// chunk key.
//
// Buffers hold elements in the file type's representation (meta.element_size bytes each); type
// conversion is done by the caller (src/vol/dataset_io.cpp) on the HDF5 thread.
//
// Thread-safety: callable from the HDF5 thread; internally parallel. Pieces of different chunks
// never overlap in the destination unless the selection itself repeats elements (points), and
// HDF5 leaves that case undefined too.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "common/stats.hpp"
#include "store/store.hpp"
#include "io/chunk_cache.hpp"
#include "io/chunk_plan.hpp"
#include "io/range_planner.hpp"
#include "model/zarr_metadata.hpp"
#include "sched/thread_pool.hpp"

namespace arraymorph::io {

struct ArrayTarget {
  ObjectStore& store;
  std::string node_prefix;  // "<file>/<path>", chunk keys are node_prefix + "/c/..."
  const model::ArrayMeta& meta;
  ThreadPool& pool;
  ChunkCache* cache = nullptr;       // the open file's chunk cache; nullptr: no caching
  std::weak_ptr<const void> owner;   // the dataset's metadata node (cache tag, see chunk_cache.hpp)
  Stats* stats = nullptr;            // cache hit/miss counters; may be null
  RangeCostModel ranges{};           // whole vs ranged GETs for uncompressed chunks
  bool ranged_reads = true;          // false: whole chunks only
  size_t max_inflight = 64;          // sizes the write batches
  std::atomic<uint64_t>* fill_waits = nullptr;  // bumped per chunk a read waited for (may be null)
};

Status read_chunks(const ArrayTarget& target, const ChunkPlan& plan, unsigned char* buf);
Status write_chunks(const ArrayTarget& target, const ChunkPlan& plan, const unsigned char* buf);

// True when the array's fill value is all zero bytes (a zero-initialised buffer already holds it).
bool fill_is_zero(const model::ArrayMeta& meta);
// Fills `count` elements at dst with the array's fill value.
void fill_elements(const model::ArrayMeta& meta, unsigned char* dst, uint64_t count);

}  // namespace arraymorph::io
