// shard_index.hpp -- Zarr v3 `sharding_indexed` arrays (docs/format.md, "Shards"): the layout
// read from / written to zarr.json, and the shard index codec.
//
// A sharded array stores many inner chunks in one object (a shard). HDF5 sees the inner chunks
// (ArrayMeta::chunk_shape and ArrayMeta::codecs are the inner chunk shape and the inner codec
// chain); ArrayMeta::shard records the shard shape and how the index is coded. The shard at
// shard-grid coordinates s is the object `<node>/c/<s...>` (default key encoding); inner chunk c
// lies in shard c / chunks_per_shard at local position c % chunks_per_shard, numbered in C order.
//
// The index is one (offset, nbytes) pair of little-endian uint64 per inner chunk of the shard, in
// that C order, followed by the CRC-32C of those bytes (4 bytes, little endian) when the index
// codecs end with `crc32c`. offset counts from the first byte of the shard object; both fields
// 2^64-1 mean "this inner chunk is empty" (all fill value). The index sits at the end of the
// object (`index_location: "end"`, the default; what arraymorph writes) or at its start.
//
// Thread-safety: value types and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.hpp"

namespace arraymorph::model {

struct ArrayMeta;

struct ShardLayout {
  std::vector<uint64_t> shard_shape;       // elements per shard along each dimension
  std::vector<uint64_t> chunks_per_shard;  // shard_shape / inner chunk_shape (exact)
  bool index_at_end = true;                // index_location "end" (default) or "start"
  bool index_crc32c = true;                // index_codecs = [bytes little, crc32c] or [bytes little]

  uint64_t chunks() const;          // inner chunks per shard
  uint64_t index_bytes() const;     // 16 per inner chunk (+4 with crc32c)
  bool operator==(const ShardLayout& o) const;
};

// One inner chunk's place in its shard object.
struct ShardEntry {
  static constexpr uint64_t kEmpty = ~uint64_t(0);
  uint64_t offset = kEmpty;  // bytes from the start of the shard object
  uint64_t nbytes = kEmpty;
  bool empty() const { return offset == kEmpty && nbytes == kEmpty; }
};

using ShardIndex = std::vector<ShardEntry>;  // layout.chunks() entries, C order

// Decodes an index (exactly layout.index_bytes() bytes). `object` names the shard in errors:
// wrong size, crc32c mismatch, an entry with only one field empty, offset + nbytes overflowing,
// or (when object_size is known, > 0) an entry reaching past the object or into the index.
Result<ShardIndex> decode_shard_index(const unsigned char* data, size_t size, const ShardLayout& layout,
                                      const std::string& object, uint64_t object_size = 0);
// Encodes an index (layout.index_bytes() bytes).
std::vector<unsigned char> encode_shard_index(const ShardIndex& index, const ShardLayout& layout);

// Position of inner chunk `coords` in its shard (C order over chunks_per_shard) and the shard's
// grid coordinates.
uint64_t local_chunk_index(const std::vector<uint64_t>& coords, const ShardLayout& layout);
std::vector<uint64_t> shard_coords(const std::vector<uint64_t>& coords, const ShardLayout& layout);
// Inner chunk coordinates of local position `local` of shard `shard`.
std::vector<uint64_t> inner_chunk_coords(const std::vector<uint64_t>& shard, uint64_t local, const ShardLayout& layout);

// zarr.json: when `codecs` (the array's codec list as read) is one `sharding_indexed` codec, moves
// the grid's chunk shape to a.shard (a.chunk_shape becomes the inner chunk shape, a.codecs the
// inner codecs). Errors name `where` and the unsupported part (codecs before or after it, nested
// sharding, other index codecs, a shard shape the inner chunk shape does not divide).
Status apply_sharding_codec(const nlohmann::json& codecs, ArrayMeta& a, const std::string& where);
// The codec list to write for a sharded array: [{"name": "sharding_indexed", ...}].
nlohmann::json sharding_codecs_json(const ArrayMeta& a, const nlohmann::json& inner_codecs);

// A shard shape from a "chunks per shard" setting (ARRAYMORPH_SHARD_CHUNKS, docs/configuration.md):
// `spec` is "" / "0" / "1" (no sharding), "N" (N chunks along every dimension) or "AxBxC" (one
// per dimension: datasets of that rank only, others are not sharded, as `cp --chunks SHAPE`). Along a dimension with a finite max extent the count is
// capped at the chunks that extent needs. nullopt: no sharding (also when every count is 1).
// `name` names the setting in errors.
Result<std::optional<ShardLayout>> shard_layout_for(const std::string& spec, const std::vector<uint64_t>& chunk_shape,
                                                    const std::vector<uint64_t>& shape,
                                                    const std::optional<std::vector<int64_t>>& max_shape,
                                                    const std::string& name);

}  // namespace arraymorph::model
