// shard_index.cpp -- see shard_index.hpp.
#include "model/shard_index.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "common/crc32c.hpp"
#include "model/zarr_metadata.hpp"

namespace arraymorph::model {
namespace {

// Inner chunks one shard may hold: its index is read into memory whole (16 bytes each), so a
// hostile document must not ask for more than 256 MiB of index.
constexpr uint64_t kMaxChunksPerShard = uint64_t(1) << 24;

void put_u64(unsigned char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
uint64_t get_u64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

bool is_little_bytes_codec(const json& c) {
  if (!c.is_object() || c.value("name", "") != "bytes") return false;
  if (!c.contains("configuration")) return true;
  const json& cfg = c["configuration"];
  return cfg.is_object() && (!cfg.contains("endian") || cfg["endian"] == "little");
}

}  // namespace

uint64_t ShardLayout::chunks() const {
  uint64_t n = 1;
  for (uint64_t c : chunks_per_shard) n *= c;
  return n;
}

uint64_t ShardLayout::index_bytes() const { return 16 * chunks() + (index_crc32c ? 4 : 0); }

bool ShardLayout::operator==(const ShardLayout& o) const {
  return shard_shape == o.shard_shape && chunks_per_shard == o.chunks_per_shard && index_at_end == o.index_at_end &&
         index_crc32c == o.index_crc32c;
}

Result<ShardIndex> decode_shard_index(const unsigned char* data, size_t size, const ShardLayout& layout,
                                      const std::string& object, uint64_t object_size) {
  const std::string what = "the shard index of '" + object + "'";
  if (size != layout.index_bytes())
    return io_error(what + " has " + std::to_string(size) + " bytes, expected " + std::to_string(layout.index_bytes()) +
                    ": the object is corrupt or not a shard of this array");
  const uint64_t n = layout.chunks();
  if (layout.index_crc32c) {
    uint32_t stored = 0;
    for (int i = 3; i >= 0; --i) stored = (stored << 8) | data[16 * n + static_cast<size_t>(i)];
    const uint32_t computed = crc32c(data, static_cast<size_t>(16 * n));
    if (stored != computed) {
      char buf[96];
      std::snprintf(buf, sizeof buf, " (stored 0x%08x, computed 0x%08x)", stored, computed);
      return io_error(what + " fails its crc32c check" + buf + ": the object is corrupt");
    }
  }
  // Where inner chunk bytes may lie: after the index when it is at the start, before it at the end.
  const uint64_t data_begin = layout.index_at_end ? 0 : layout.index_bytes();
  const uint64_t data_end = object_size == 0 ? std::numeric_limits<uint64_t>::max()
                            : layout.index_at_end ? object_size - std::min(object_size, layout.index_bytes())
                                                  : object_size;
  ShardIndex index(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n; ++i) {
    ShardEntry& e = index[static_cast<size_t>(i)];
    e.offset = get_u64(data + 16 * i);
    e.nbytes = get_u64(data + 16 * i + 8);
    if (e.empty()) continue;
    uint64_t end = 0;
    if (e.offset == ShardEntry::kEmpty || e.nbytes == ShardEntry::kEmpty || __builtin_add_overflow(e.offset, e.nbytes, &end) ||
        e.offset < data_begin || end > data_end)
      return io_error(what + " is corrupt: inner chunk " + std::to_string(i) + " has offset " + std::to_string(e.offset) +
                      " and size " + std::to_string(e.nbytes) +
                      (object_size ? " in an object of " + std::to_string(object_size) + " bytes" : std::string()));
  }
  return index;
}

std::vector<unsigned char> encode_shard_index(const ShardIndex& index, const ShardLayout& layout) {
  std::vector<unsigned char> out(static_cast<size_t>(layout.index_bytes()));
  for (size_t i = 0; i < index.size(); ++i) {
    put_u64(out.data() + 16 * i, index[i].offset);
    put_u64(out.data() + 16 * i + 8, index[i].nbytes);
  }
  if (layout.index_crc32c) {
    const size_t n = 16 * index.size();
    const uint32_t c = crc32c(out.data(), n);
    for (int i = 0; i < 4; ++i) out[n + static_cast<size_t>(i)] = static_cast<unsigned char>(c >> (8 * i));
  }
  return out;
}

uint64_t local_chunk_index(const std::vector<uint64_t>& coords, const ShardLayout& layout) {
  uint64_t idx = 0;
  for (size_t k = 0; k < coords.size(); ++k) idx = idx * layout.chunks_per_shard[k] + coords[k] % layout.chunks_per_shard[k];
  return idx;
}

std::vector<uint64_t> shard_coords(const std::vector<uint64_t>& coords, const ShardLayout& layout) {
  std::vector<uint64_t> s(coords.size());
  for (size_t k = 0; k < coords.size(); ++k) s[k] = coords[k] / layout.chunks_per_shard[k];
  return s;
}

std::vector<uint64_t> inner_chunk_coords(const std::vector<uint64_t>& shard, uint64_t local, const ShardLayout& layout) {
  std::vector<uint64_t> c(shard.size());
  for (size_t k = shard.size(); k-- > 0;) {
    const uint64_t n = layout.chunks_per_shard[k];
    c[k] = shard[k] * n + local % n;
    local /= n;
  }
  return c;
}

Status apply_sharding_codec(const json& codecs, ArrayMeta& a, const std::string& where) {
  auto bad = [&](const std::string& why) {
    return io_error("invalid Zarr metadata in '" + where + "': " + why);
  };
  if (!codecs.is_array() || codecs.size() != 1)
    return bad("'sharding_indexed' must be the only codec of the array (codecs before or after it are not supported)");
  const json& cfg = codecs[0].at("configuration");
  if (!cfg.is_object()) return bad("sharding_indexed has no configuration");
  ShardLayout layout;
  layout.shard_shape = a.chunk_shape;  // the chunk grid's chunks are the shards
  const json& inner = cfg.at("chunk_shape");
  if (!inner.is_array() || inner.size() != a.shape.size())
    return bad("sharding_indexed chunk_shape does not match the rank of shape");
  std::vector<uint64_t> chunk_shape;
  for (size_t k = 0; k < inner.size(); ++k) {
    if (!inner[k].is_number_unsigned() || inner[k].get<uint64_t>() == 0)
      return bad("sharding_indexed chunk_shape[" + std::to_string(k) + "] = " + inner[k].dump() + " is not a positive integer");
    const uint64_t c = inner[k].get<uint64_t>();
    if (layout.shard_shape[k] % c != 0)
      return bad("the shard shape " + json(layout.shard_shape).dump() + " is not a multiple of the inner chunk shape " +
                 inner.dump() + " in dimension " + std::to_string(k));
    chunk_shape.push_back(c);
    layout.chunks_per_shard.push_back(layout.shard_shape[k] / c);
  }
  uint64_t n = 1;
  for (uint64_t c : layout.chunks_per_shard)
    if (__builtin_mul_overflow(n, c, &n) || n > kMaxChunksPerShard)
      return bad("shards of more than " + std::to_string(kMaxChunksPerShard) + " inner chunks are not supported");
  const std::string location = cfg.value("index_location", "end");
  if (location != "end" && location != "start") return bad("sharding_indexed index_location '" + location + "' is neither 'end' nor 'start'");
  layout.index_at_end = location == "end";
  const json& ic = cfg.value("index_codecs", json::array({{{"name", "bytes"}, {"configuration", {{"endian", "little"}}}},
                                                           {{"name", "crc32c"}}}));
  const bool plain = ic.is_array() && ic.size() == 1 && is_little_bytes_codec(ic[0]);
  const bool with_crc = ic.is_array() && ic.size() == 2 && is_little_bytes_codec(ic[0]) && ic[1].is_object() &&
                        ic[1].value("name", "") == "crc32c";
  if (!plain && !with_crc)
    return bad("sharding_indexed index_codecs " + ic.dump() +
               " are not supported (only [bytes little] and [bytes little, crc32c])");
  layout.index_crc32c = with_crc;
  const json& inner_codecs = cfg.at("codecs");
  if (!inner_codecs.is_array()) return bad("sharding_indexed codecs is not a list");
  for (const auto& c : inner_codecs)
    if ((c.is_string() ? c.get<std::string>() : c.value("name", "")) == "sharding_indexed")
      return bad("nested sharding_indexed codecs are not supported");
  a.chunk_shape = std::move(chunk_shape);
  Status s = read_codecs(inner_codecs, a);
  if (!s.ok()) return bad(s.message());
  if (a.variable_length()) return bad("sharded arrays of variable-length data (" + a.data_type + ") are not supported");
  a.shard = std::move(layout);
  return ok_status();
}

json sharding_codecs_json(const ArrayMeta& a, const json& inner_codecs) {
  const ShardLayout& l = *a.shard;
  json index_codecs = json::array({{{"name", "bytes"}, {"configuration", {{"endian", "little"}}}}});
  if (l.index_crc32c) index_codecs.push_back({{"name", "crc32c"}});
  return json::array({{{"name", "sharding_indexed"},
                       {"configuration",
                        {{"chunk_shape", a.chunk_shape},
                         {"codecs", inner_codecs},
                         {"index_codecs", index_codecs},
                         {"index_location", l.index_at_end ? "end" : "start"}}}}});
}

Result<std::optional<ShardLayout>> shard_layout_for(const std::string& spec, const std::vector<uint64_t>& chunk_shape,
                                                    const std::vector<uint64_t>& shape,
                                                    const std::optional<std::vector<int64_t>>& max_shape,
                                                    const std::string& name) {
  const size_t rank = chunk_shape.size();
  auto bad = [&](const std::string& why) {
    return invalid_argument(name + " = '" + spec + "': " + why);
  };
  std::vector<uint64_t> counts;
  size_t pos = 0;
  while (pos <= spec.size() && !spec.empty()) {
    size_t x = spec.find_first_of("xX,", pos);
    if (x == std::string::npos) x = spec.size();
    const std::string part = spec.substr(pos, x - pos);
    if (part.empty() || part.size() > 9 || part.find_first_not_of("0123456789") != std::string::npos)
      return bad("expected a number of chunks per shard (\"16\") or one per dimension (\"4x16\")");
    counts.push_back(std::stoull(part));
    pos = x + 1;
  }
  if (counts.empty() || (counts.size() == 1 && counts[0] <= 1)) return std::optional<ShardLayout>();
  if (rank == 0) return std::optional<ShardLayout>();  // a scalar has one chunk
  if (counts.size() == 1) counts.assign(rank, counts[0]);
  // One count per dimension applies to datasets of that rank only (as `cp --chunks SHAPE`).
  if (counts.size() != rank) return std::optional<ShardLayout>();
  ShardLayout l;
  uint64_t total = 1;
  for (size_t k = 0; k < rank; ++k) {
    if (counts[k] == 0) return bad("a count of 0 chunks per shard");
    uint64_t n = counts[k];
    const int64_t m = max_shape ? (*max_shape)[k] : static_cast<int64_t>(shape[k]);
    if (m >= 0) n = std::min<uint64_t>(n, std::max<uint64_t>(1, (static_cast<uint64_t>(m) + chunk_shape[k] - 1) / chunk_shape[k]));
    uint64_t extent = 0;
    if (__builtin_mul_overflow(n, chunk_shape[k], &extent) || extent > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return bad("shards along dimension " + std::to_string(k) + " would be larger than 2^63-1 elements");
    l.chunks_per_shard.push_back(n);
    l.shard_shape.push_back(extent);
    total *= n;
  }
  if (total > kMaxChunksPerShard) return bad("more than " + std::to_string(kMaxChunksPerShard) + " chunks per shard");
  if (total == 1) return std::optional<ShardLayout>();
  return std::optional<ShardLayout>(std::move(l));
}

}  // namespace arraymorph::model
