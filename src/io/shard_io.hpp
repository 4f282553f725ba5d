// shard_io.hpp -- the read and write paths of sharded arrays (Zarr v3 `sharding_indexed`,
// model/shard_index.hpp; docs/format.md "Shards"). read_chunks/write_chunks (chunk_io.hpp) hand
// a plan over to these when meta.shard is set. The plan's chunks are inner chunks (what HDF5
// calls chunks); several of them live in one shard object.
//
// Reads: inner chunks found in the chunk cache are scattered from it. A shard all of whose
// in-extent inner chunks the read needs (and whose index is not cached) is fetched whole in the
// index round: one GET, the index taken from the object's bytes. For the others, the index
// of each shard involved is taken from the cache or fetched -- one ranged GET of the object's
// last index_bytes() (a suffix range; stores without one, Azure, HEAD the object first), or of
// its first bytes for index_location "start" -- all shards' indexes in one round of requests,
// and cached (key "<shard key>#index", an absent shard cached as absent). Then, per shard, the
// byte runs of the needed inner chunks are sorted and runs closer than the cost model's
// merge_gap (range_planner.hpp: one request's cost expressed in bytes) are merged, and every
// range of every shard is fetched in one round. Inner chunks are decoded on the worker pool,
// scattered and cached (key "<shard key>#<local index>"); an inner chunk that fails to decode is
// fetched once more, then reported naming the object. Read-ahead entries (no pieces) are fetched
// and cached the same way, never an error of the read. Empty inner chunks (index entry 2^64-1)
// and absent shards read as the fill value.
//
// Writes: a shard whose in-extent inner chunks are all wholly covered by the selection is
// assembled from the new chunks alone: one PUT. Otherwise its object is fetched whole first
// (read-modify-write): inner chunks the write does not touch keep their stored bytes unchanged
// (no re-encoding), partly covered ones are decoded, updated and re-encoded. The new object --
// inner chunks in C order, then the index (or the index first for index_location "start") --
// replaces the old one with one PUT, which every store makes atomic (a failed PUT leaves the
// previous shard intact); the file's write lock (model/write_lock.hpp) makes this process the
// only writer. Shards are written in batches of ~max(32 MiB, 2 x max_inflight chunks) of raw
// inner-chunk bytes. Cached inner chunks and indexes get the new bytes after the PUT succeeded
// (write-through) and are dropped if it failed.
//
// Thread-safety: as chunk_io.hpp (call from one thread per dataset; internally parallel).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "io/chunk_io.hpp"

namespace arraymorph::io {

Status read_sharded(const ArrayTarget& target, const ChunkPlan& plan, unsigned char* buf);
// `encoded` (direct chunk writes, vol/chunk_api.hpp): plan.chunks[i] is a whole inner chunk
// already in stored form, (*encoded)[i]; its pieces are not used and `buf` may be null.
Status write_sharded(const ArrayTarget& target, const ChunkPlan& plan, const unsigned char* buf,
                     const std::vector<Bytes>* encoded = nullptr);

// One stored inner chunk: where its bytes lie in its shard object.
struct StoredInner {
  std::vector<uint64_t> coords;  // inner chunk grid coordinates
  std::string shard_key;
  uint64_t offset = 0;
  uint64_t nbytes = 0;
};
// The stored (non-empty) inner chunks of the shards at `shards` (shard grid coordinates), shard
// by shard in C order inside each; indexes from the cache or one round of requests. Absent
// shards have none. For the chunk-level API (vol/chunk_api.hpp).
Result<std::vector<StoredInner>> stored_inner_chunks(const ArrayTarget& target,
                                                     const std::vector<std::vector<uint64_t>>& shards);

// After a shrink (H5Dset_extent): rewrites the shard object `key` at shard coordinates `shard`
// keeping only what lies inside meta.shape. Inner chunks wholly outside become empty; those that
// straddle the boundary are decoded, passed to `reset_outside(coords, raw)` and re-encoded; the
// others keep their bytes. A shard left with no inner chunk is deleted. One GET, one PUT.
Status trim_shard(ObjectStore& store, const std::string& key, const model::ArrayMeta& meta,
                  const std::vector<uint64_t>& shard,
                  const std::function<void(const std::vector<uint64_t>&, Bytes&)>& reset_outside);

// Chunk-cache keys of a shard's index and of one of its inner chunks.
inline std::string shard_index_cache_key(const std::string& shard_key) { return shard_key + "#index"; }
inline std::string inner_chunk_cache_key(const std::string& shard_key, uint64_t local) {
  return shard_key + "#" + std::to_string(local);
}

}  // namespace arraymorph::io
