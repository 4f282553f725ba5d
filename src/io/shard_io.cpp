// shard_io.cpp -- see shard_io.hpp.
#include "io/shard_io.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>

#include "common/first_error.hpp"
#include "common/log.hpp"
#include "io/codec_pipeline.hpp"
#include "model/chunk_key.hpp"
#include "model/shard_index.hpp"

namespace arraymorph::io {
namespace {

using model::ShardEntry;
using model::ShardIndex;
using model::ShardLayout;

// The plan's chunks grouped by the shard holding them.
struct ShardGroup {
  std::vector<uint64_t> coords;
  std::string key;
  std::vector<size_t> chunks;  // plan indices
  std::optional<ShardIndex> index;
  bool absent = false;
  bool needed = false;  // holds a chunk of the read itself (not only read-ahead)
  // The read needs every inner chunk of the shard and has no index cached: the whole object is
  // fetched in the index round (one request instead of two), its index taken from its bytes.
  bool whole = false;
  std::optional<Bytes> body;
};

std::vector<ShardGroup> group_by_shard(const ArrayTarget& t, const ChunkPlan& plan, std::vector<size_t>& group_of,
                                       std::vector<uint64_t>& local_of) {
  const ShardLayout& l = *t.meta.shard;
  std::map<std::vector<uint64_t>, size_t> where;
  std::vector<ShardGroup> groups;
  group_of.resize(plan.chunks.size());
  local_of.resize(plan.chunks.size());
  for (size_t i = 0; i < plan.chunks.size(); ++i) {
    const ChunkWork& w = plan.chunks[i];
    auto s = model::shard_coords(w.coords, l);
    auto [it, added] = where.emplace(s, groups.size());
    if (added) {
      ShardGroup g;
      g.key = t.node_prefix + "/" + model::chunk_key(s);
      g.coords = std::move(s);
      groups.push_back(std::move(g));
    }
    group_of[i] = it->second;
    local_of[i] = model::local_chunk_index(w.coords, l);
  }
  return groups;
}

void scatter(const ArrayTarget& t, const ChunkWork& w, const unsigned char* chunk, unsigned char* buf) {
  const size_t es = t.meta.element_size;
  for (const Piece& p : w.pieces) std::memcpy(buf + p.buf_offset * es, chunk + p.chunk_offset * es, p.count * es);
}

void fill(const ArrayTarget& t, const ChunkWork& w, unsigned char* buf) {
  for (const Piece& p : w.pieces) fill_elements(t.meta, buf + p.buf_offset * t.meta.element_size, p.count);
}

std::string describe_inner(const ShardGroup& g, uint64_t local) {
  return "inner chunk " + std::to_string(local) + " of shard '" + g.key + "'";
}

// Fills in g.index / g.absent for every group in `want`: from the cache, else with one round of
// GETs (HEADs first when the store has no suffix range). A missing object is an absent shard.
// Errors of groups that are not `needed` (read-ahead only) are dropped: they stay without index.
Status load_indexes(const ArrayTarget& t, std::vector<ShardGroup>& groups, const std::vector<size_t>& want,
                    ChunkCache* cache, const ChunkCache::Tag& tag) {
  const ShardLayout& l = *t.meta.shard;
  const uint64_t ib = l.index_bytes();
  std::vector<GetRequest> reqs;
  std::vector<size_t> req_group;
  std::vector<uint64_t> sizes;  // object sizes when known (HEAD), else 0
  std::vector<size_t> heads;
  for (size_t gi : want) {
    ShardGroup& g = groups[gi];
    if (cache) {
      if (auto hit = cache->get(shard_index_cache_key(g.key), tag)) {
        if (!*hit) {
          g.absent = true;
          continue;
        }
        auto idx = model::decode_shard_index((*hit)->data(), (*hit)->size(), l, g.key);
        if (idx.ok()) {
          g.index = std::move(idx).value();
          continue;
        }
      }
    }
    if (g.whole) {
      reqs.push_back({g.key, std::nullopt});
      req_group.push_back(gi);
      sizes.push_back(0);
      continue;
    }
    if (l.index_at_end && !t.store.capabilities().suffix_range) {
      heads.push_back(gi);
      continue;
    }
    reqs.push_back({g.key, l.index_at_end ? ByteRange::last(ib) : ByteRange{0, ib}});
    req_group.push_back(gi);
    sizes.push_back(0);
  }
  FirstError err;
  if (!heads.empty()) {  // no suffix range: the object's size first (on the pool: blocking HEADs)
    std::vector<Result<std::optional<ObjectInfo>>> infos(heads.size(), Status());
    t.pool.parallel_for(heads.size(), 0, [&](size_t k) { infos[k] = t.store.head(groups[heads[k]].key); });
    for (size_t k = 0; k < heads.size(); ++k) {
      ShardGroup& g = groups[heads[k]];
      if (!infos[k].ok()) {
        if (g.needed) err.set(infos[k].status().with_context("reading the index of shard '" + g.key + "'"));
        continue;
      }
      if (!infos[k].value()) {
        g.absent = true;
        if (cache) cache->put(shard_index_cache_key(g.key), nullptr, tag);
        continue;
      }
      const uint64_t size = infos[k].value()->size;
      if (size < ib) {
        if (g.needed)
          err.set(io_error("shard '" + g.key + "' has " + std::to_string(size) + " bytes, less than its index (" +
                           std::to_string(ib) + "): the object is corrupt"));
        continue;
      }
      reqs.push_back({g.key, ByteRange{size - ib, ib}});
      req_group.push_back(heads[k]);
      sizes.push_back(size);
    }
  }
  if (reqs.empty()) return err.get();
  std::vector<Result<std::optional<Bytes>>> got(reqs.size(), Status());
  t.store.get_many(reqs, [&](size_t r, Result<std::optional<Bytes>>&& res) { got[r] = std::move(res); });
  for (size_t r = 0; r < reqs.size(); ++r) {
    ShardGroup& g = groups[req_group[r]];
    if (!got[r].ok()) {
      if (g.needed) err.set(got[r].status().with_context("reading the index of shard '" + g.key + "'"));
      continue;
    }
    if (!got[r].value()) {
      g.absent = true;
      if (cache) cache->put(shard_index_cache_key(g.key), nullptr, tag);
      continue;
    }
    const Bytes& got_bytes = *got[r].value();
    const bool whole = !reqs[r].range;
    if (whole && got_bytes.size() < ib) {
      if (g.needed)
        err.set(io_error("shard '" + g.key + "' has " + std::to_string(got_bytes.size()) + " bytes, less than its index (" +
                         std::to_string(ib) + "): the object is corrupt"));
      continue;
    }
    const unsigned char* at = !whole ? got_bytes.data() : l.index_at_end ? got_bytes.data() + got_bytes.size() - ib : got_bytes.data();
    const size_t n = whole ? static_cast<size_t>(ib) : got_bytes.size();
    auto idx = model::decode_shard_index(at, n, l, g.key, whole ? got_bytes.size() : sizes[r]);
    if (!idx.ok()) {
      if (g.needed) err.set(idx.status());
      continue;
    }
    g.index = std::move(idx).value();
    if (cache) cache->put(shard_index_cache_key(g.key), std::make_shared<const Bytes>(at, at + n), tag);
    if (whole) g.body = std::move(*got[r].value());
  }
  return err.get();
}

// One ranged GET of a shard and the inner chunks it holds.
struct ShardRange {
  size_t group = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
  std::vector<size_t> chunks;  // plan indices
};

// Decodes one inner chunk's stored bytes; on failure fetches them once more (the bytes may have
// been damaged on the way) and decodes again. Runs on the worker pool (blocking GET allowed).
Result<Bytes> decode_inner(const ArrayTarget& t, const ShardGroup& g, uint64_t local, const ShardEntry& e, Bytes stored) {
  auto raw = decode_chunk(t.meta, std::move(stored));
  if (raw.ok()) return raw;
  AM_LOG(kWarning, "io", describe_inner(g, local) << " failed to decode (" << raw.status().message() << "); fetching it once more");
  auto again = t.store.get(g.key, ByteRange{e.offset, e.nbytes});
  if (!again.ok()) return again.status().with_context("re-fetching " + describe_inner(g, local));
  if (!again.value() || again.value()->size() != e.nbytes)
    return io_error(describe_inner(g, local) + " failed to decode (" + raw.status().message() + ") and then changed");
  auto second = decode_chunk(t.meta, std::move(*again.value()));
  if (!second.ok())
    return second.status().with_context(describe_inner(g, local) + " in " + t.store.describe() +
                                        " is corrupt (decoded twice, fetched twice)");
  return second;
}

// Inner chunks of shard `s` that intersect the array's extent.
uint64_t inner_chunks_in_extent(const model::ArrayMeta& meta, const std::vector<uint64_t>& s) {
  const ShardLayout& l = *meta.shard;
  uint64_t n = 1;
  for (size_t k = 0; k < s.size(); ++k) {
    const uint64_t first = s[k] * l.chunks_per_shard[k];
    const uint64_t grid = (meta.shape[k] + meta.chunk_shape[k] - 1) / meta.chunk_shape[k];
    n *= grid > first ? std::min(l.chunks_per_shard[k], grid - first) : 0;
  }
  return n;
}

// The one layout of a shard object arraymorph writes: the given inner chunks (`part(local)`:
// their stored bytes, empty span for an empty inner chunk) in C order, then the index (before
// them for index_location "start"). Fills `index` with where each one went.
struct Span {
  const unsigned char* data = nullptr;
  uint64_t size = 0;
};
Bytes assemble_shard(const ShardLayout& l, const std::function<Span(uint64_t)>& part, ShardIndex& index) {
  const uint64_t n = l.chunks();
  const uint64_t ib = l.index_bytes();
  index.assign(static_cast<size_t>(n), ShardEntry{});
  uint64_t total = ib;
  for (uint64_t local = 0; local < n; ++local) total += part(local).size;
  Bytes out;
  out.reserve(static_cast<size_t>(total));
  if (!l.index_at_end) out.resize(static_cast<size_t>(ib));
  for (uint64_t local = 0; local < n; ++local) {
    const Span p = part(local);
    if (!p.data) continue;
    index[static_cast<size_t>(local)] = ShardEntry{out.size(), p.size};
    out.insert(out.end(), p.data, p.data + p.size);
  }
  const Bytes index_bytes = model::encode_shard_index(index, l);
  if (l.index_at_end) out.insert(out.end(), index_bytes.begin(), index_bytes.end());
  else std::copy(index_bytes.begin(), index_bytes.end(), out.begin());
  return out;
}

}  // namespace

Status read_sharded(const ArrayTarget& t, const ChunkPlan& plan, unsigned char* buf) {
  ChunkCache* cache = (t.cache && t.cache->enabled()) ? t.cache : nullptr;
  const ChunkCache::Tag tag{t.owner, t.meta.shape};
  const bool can_cache_chunks = cache && t.meta.chunk_bytes() <= cache->capacity();
  std::vector<size_t> group_of;
  std::vector<uint64_t> local_of;
  std::vector<ShardGroup> groups = group_by_shard(t, plan, group_of, local_of);

  // 1. Cached inner chunks; the rest per shard.
  std::vector<std::pair<size_t, ChunkCache::Data>> hits;
  for (size_t i = 0; i < plan.chunks.size(); ++i) {
    const ChunkWork& w = plan.chunks[i];
    const bool ahead = w.pieces.empty();
    if (ahead && !can_cache_chunks) continue;
    ShardGroup& g = groups[group_of[i]];
    if (cache) {
      auto hit = cache->get(inner_chunk_cache_key(g.key, local_of[i]), tag);
      if (!ahead && t.stats) (hit ? t.stats->cache_hits : t.stats->cache_misses).fetch_add(1, std::memory_order_relaxed);
      if (hit) {
        if (!ahead) hits.emplace_back(i, std::move(*hit));
        continue;
      }
    }
    g.chunks.push_back(i);
    g.needed = g.needed || !ahead;
  }
  if (!hits.empty()) {
    t.pool.parallel_for(hits.size(), 0, [&](size_t h) {
      const ChunkWork& w = plan.chunks[hits[h].first];
      if (hits[h].second) scatter(t, w, hits[h].second->data(), buf);
      else fill(t, w, buf);
    });
  }
  std::vector<size_t> want;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    ShardGroup& g = groups[gi];
    if (g.chunks.empty()) continue;
    want.push_back(gi);
    g.whole = g.chunks.size() == inner_chunks_in_extent(t.meta, g.coords) &&
              !(cache && cache->get(shard_index_cache_key(g.key), tag));
  }
  if (want.empty()) return ok_status();

  // 2. Indexes (one round of requests for every shard not cached).
  Status s = load_indexes(t, groups, want, cache, tag);
  if (!s.ok()) return s;

  // 3. Per shard: empty inner chunks are fill; the others' byte runs merged into ranges.
  std::vector<ShardRange> ranges;
  for (size_t gi : want) {
    ShardGroup& g = groups[gi];
    if (!g.index && !g.absent) continue;  // a read-ahead-only shard whose index failed
    std::vector<std::pair<ShardEntry, size_t>> runs;
    for (size_t i : g.chunks) {
      const ChunkWork& w = plan.chunks[i];
      const ShardEntry e = g.absent ? ShardEntry{} : (*g.index)[static_cast<size_t>(local_of[i])];
      if (e.empty()) {
        fill(t, w, buf);
        if (cache) cache->put(inner_chunk_cache_key(g.key, local_of[i]), nullptr, tag);
        continue;
      }
      if (w.pieces.empty() && t.stats) t.stats->readahead_chunks.fetch_add(1, std::memory_order_relaxed);
      runs.emplace_back(e, i);
    }
    std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.first.offset < b.first.offset; });
    if (g.body && !runs.empty()) {  // fetched whole: one "range" over the body
      ShardRange all{gi, 0, g.body->size(), {}};
      for (const auto& run : runs) all.chunks.push_back(run.second);
      ranges.push_back(std::move(all));
      continue;
    }
    for (const auto& [e, i] : runs) {
      if (!ranges.empty() && ranges.back().group == gi &&
          e.offset <= ranges.back().offset + ranges.back().length + t.ranges.merge_gap) {
        ShardRange& r = ranges.back();
        r.length = std::max(r.offset + r.length, e.offset + e.nbytes) - r.offset;
        r.chunks.push_back(i);
        continue;
      }
      ranges.push_back({gi, e.offset, e.nbytes, {i}});
    }
  }
  if (ranges.empty()) return ok_status();

  // 4. Every range at once, then decode and scatter on the worker pool.
  std::vector<GetRequest> reqs;
  std::vector<size_t> req_range;
  std::vector<Result<std::optional<Bytes>>> got(ranges.size(), Status());
  for (size_t r = 0; r < ranges.size(); ++r) {
    ShardGroup& g = groups[ranges[r].group];
    if (g.body) {
      got[r] = std::optional<Bytes>(std::move(*g.body));
      g.body.reset();
      continue;
    }
    reqs.push_back({g.key, ByteRange{ranges[r].offset, ranges[r].length}});
    req_range.push_back(r);
  }
  if (!reqs.empty())
    t.store.get_many(reqs, [&](size_t r, Result<std::optional<Bytes>>&& res) { got[req_range[r]] = std::move(res); });
  struct Item {
    size_t range;
    size_t chunk;
  };
  std::vector<Item> items;
  FirstError err;
  for (size_t r = 0; r < ranges.size(); ++r) {
    const ShardRange& rg = ranges[r];
    const ShardGroup& g = groups[rg.group];
    bool needed = false;
    for (size_t i : rg.chunks) needed = needed || !plan.chunks[i].pieces.empty();
    Status bad;
    if (!got[r].ok()) {
      bad = got[r].status().with_context("reading shard '" + g.key + "'");
    } else if (!got[r].value() || got[r].value()->size() != rg.length) {
      // Gone or shorter since its index was read (replaced by another writer), or corrupt.
      if (cache) cache->erase(shard_index_cache_key(g.key));
      bad = io_error("shard '" + g.key + "' in " + t.store.describe() + " holds " +
                     (got[r].value() ? std::to_string(got[r].value()->size()) : std::string("no")) +
                     " bytes at offset " + std::to_string(rg.offset) + " where its index names " +
                     std::to_string(rg.length) + ": the object is corrupt or was replaced");
    }
    if (!bad.ok()) {
      if (needed) err.set(std::move(bad));
      continue;
    }
    for (size_t i : rg.chunks) items.push_back({r, i});
  }
  Status first = err.get();
  if (!first.ok()) return first;
  t.pool.parallel_for(items.size(), 0, [&](size_t k) {
    const ShardRange& rg = ranges[items[k].range];
    const ShardGroup& g = groups[rg.group];
    const size_t i = items[k].chunk;
    const ChunkWork& w = plan.chunks[i];
    const ShardEntry& e = (*g.index)[static_cast<size_t>(local_of[i])];
    const Bytes& body = *got[items[k].range].value();
    const auto* begin = body.data() + (e.offset - rg.offset);
    auto raw = decode_inner(t, g, local_of[i], e, Bytes(begin, begin + e.nbytes));
    if (!raw.ok()) {
      if (!w.pieces.empty()) err.set(raw.status().with_context("decoding " + describe_inner(g, local_of[i])));
      return;
    }
    auto data = std::make_shared<const Bytes>(std::move(raw).value());
    scatter(t, w, data->data(), buf);
    if (cache) cache->put(inner_chunk_cache_key(g.key, local_of[i]), std::move(data), tag);
  });
  return err.get();
}

Result<std::vector<StoredInner>> stored_inner_chunks(const ArrayTarget& t,
                                                     const std::vector<std::vector<uint64_t>>& shards) {
  ChunkCache* cache = (t.cache && t.cache->enabled()) ? t.cache : nullptr;
  const ChunkCache::Tag tag{t.owner, t.meta.shape};
  std::vector<ShardGroup> groups(shards.size());
  std::vector<size_t> want(shards.size());
  for (size_t gi = 0; gi < shards.size(); ++gi) {
    groups[gi].coords = shards[gi];
    groups[gi].key = t.node_prefix + "/" + model::chunk_key(shards[gi]);
    groups[gi].needed = true;
    want[gi] = gi;
  }
  Status s = load_indexes(t, groups, want, cache, tag);
  if (!s.ok()) return s;
  std::vector<StoredInner> out;
  for (const ShardGroup& g : groups) {
    if (!g.index) continue;
    for (uint64_t local = 0; local < g.index->size(); ++local) {
      const ShardEntry& e = (*g.index)[static_cast<size_t>(local)];
      if (!e.empty()) out.push_back({model::inner_chunk_coords(g.coords, local, *t.meta.shard), g.key, e.offset, e.nbytes});
    }
  }
  return out;
}

Status write_sharded(const ArrayTarget& t, const ChunkPlan& plan, const unsigned char* buf,
                     const std::vector<Bytes>* pre_encoded) {
  const ShardLayout& l = *t.meta.shard;
  const size_t es = t.meta.element_size;
  const uint64_t chunk_bytes = t.meta.chunk_bytes();
  const uint64_t n_local = l.chunks();
  const uint64_t ib = l.index_bytes();
  ChunkCache* cache = (t.cache && t.cache->enabled()) ? t.cache : nullptr;
  const ChunkCache::Tag tag{t.owner, t.meta.shape};
  std::vector<size_t> group_of;
  std::vector<uint64_t> local_of;
  std::vector<ShardGroup> groups = group_by_shard(t, plan, group_of, local_of);
  for (size_t i = 0; i < plan.chunks.size(); ++i) groups[group_of[i]].chunks.push_back(i);

  // Batches of whole shards, bounded like chunk_io's (raw inner-chunk bytes written).
  const uint64_t batch_bytes = std::max<uint64_t>(32ull << 20, 2ull * std::max<size_t>(t.max_inflight, 1) * chunk_bytes);
  FirstError err;
  for (size_t b = 0; b < groups.size();) {
    size_t e = b;
    uint64_t bytes = 0;
    while (e < groups.size() && (e == b || bytes < batch_bytes)) bytes += groups[e++].chunks.size() * chunk_bytes;
    const size_t m = e - b;

    // 1. Old objects of shards the write does not wholly replace (read-modify-write).
    std::vector<GetRequest> reqs;
    std::vector<size_t> req_shard;
    for (size_t j = 0; j < m; ++j) {
      const ShardGroup& g = groups[b + j];
      uint64_t covered = 0;
      for (size_t i : g.chunks) covered += pre_encoded || plan.chunks[i].selected >= plan.chunks[i].valid ? 1 : 0;
      if (covered == inner_chunks_in_extent(t.meta, g.coords)) continue;
      reqs.push_back({g.key, std::nullopt});
      req_shard.push_back(j);
    }
    std::vector<Bytes> old(m);
    std::vector<ShardIndex> old_index(m, ShardIndex(static_cast<size_t>(n_local)));
    if (!reqs.empty()) {
      std::vector<Result<std::optional<Bytes>>> got(reqs.size(), Status());
      t.store.get_many(reqs, [&](size_t r, Result<std::optional<Bytes>>&& res) { got[r] = std::move(res); });
      for (size_t r = 0; r < reqs.size(); ++r) {
        const size_t j = req_shard[r];
        const ShardGroup& g = groups[b + j];
        if (!got[r].ok()) return got[r].status().with_context("reading shard '" + g.key + "' before updating it");
        if (!got[r].value()) continue;  // absent: every inner chunk empty
        old[j] = std::move(*got[r].value());
        if (old[j].size() < ib)
          return io_error("shard '" + g.key + "' in " + t.store.describe() + " has " + std::to_string(old[j].size()) +
                          " bytes, less than its index (" + std::to_string(ib) +
                          "): the object is corrupt; it was not updated");
        const unsigned char* at = l.index_at_end ? old[j].data() + old[j].size() - ib : old[j].data();
        auto idx = model::decode_shard_index(at, static_cast<size_t>(ib), l, g.key, old[j].size());
        if (!idx.ok()) return idx.status().with_context("updating shard '" + g.key + "' (it was not changed)");
        old_index[j] = std::move(idx).value();
      }
    }

    // 2. New inner chunks: assembled (over the old contents when partly covered) and encoded on the
    //    worker pool.
    struct Item {
      size_t shard;  // in the batch
      size_t chunk;  // plan index
    };
    std::vector<Item> items;
    for (size_t j = 0; j < m; ++j)
      for (size_t i : groups[b + j].chunks) items.push_back({j, i});
    std::vector<Bytes> encoded(items.size());
    std::vector<std::shared_ptr<Bytes>> raw(items.size());
    const bool zero_fill = fill_is_zero(t.meta);
    t.pool.parallel_for(items.size(), 0, [&](size_t k) {
      const size_t j = items[k].shard;
      const ShardGroup& g = groups[b + j];
      const ChunkWork& w = plan.chunks[items[k].chunk];
      const uint64_t local = local_of[items[k].chunk];
      if (pre_encoded) {  // a direct chunk write: already in stored form
        encoded[k] = (*pre_encoded)[items[k].chunk];
        return;
      }
      auto c = std::make_shared<Bytes>(chunk_bytes);  // zero-initialised
      const ShardEntry& oe = old_index[j][static_cast<size_t>(local)];
      if (w.selected < w.valid && !oe.empty()) {
        auto dec = decode_chunk(t.meta, Bytes(old[j].begin() + static_cast<std::ptrdiff_t>(oe.offset),
                                              old[j].begin() + static_cast<std::ptrdiff_t>(oe.offset + oe.nbytes)));
        if (!dec.ok()) {
          err.set(dec.status().with_context("decoding " + describe_inner(g, local) + " before updating it (the shard was not changed)"));
          return;
        }
        *c = std::move(dec).value();
      } else if (!zero_fill) {
        fill_elements(t.meta, c->data(), t.meta.chunk_elements());
      }
      for (const Piece& p : w.pieces) std::memcpy(c->data() + p.chunk_offset * es, buf + p.buf_offset * es, p.count * es);
      const bool keep = cache && cache->get(inner_chunk_cache_key(g.key, local), tag).has_value();
      auto enc = keep ? encode_chunk(t.meta, *c) : encode_chunk(t.meta, std::move(*c));
      if (!enc.ok()) {
        err.set(enc.status().with_context("encoding " + describe_inner(g, local)));
        return;
      }
      encoded[k] = std::move(enc).value();
      if (keep) raw[k] = std::move(c);
    });
    Status s = err.get();
    if (!s.ok()) return s;

    // 3. The new shard objects: inner chunks in C order, the index after them (or before).
    std::vector<Bytes> shard(m);
    std::vector<ShardIndex> new_index(m);
    {
      std::vector<std::vector<int64_t>> item_of(m, std::vector<int64_t>(static_cast<size_t>(n_local), -1));
      for (size_t k = 0; k < items.size(); ++k) item_of[items[k].shard][static_cast<size_t>(local_of[items[k].chunk])] = static_cast<int64_t>(k);
      t.pool.parallel_for(m, 0, [&](size_t j) {
        shard[j] = assemble_shard(l, [&](uint64_t local) -> Span {
          const int64_t k = item_of[j][static_cast<size_t>(local)];
          if (k >= 0) return {encoded[static_cast<size_t>(k)].data(), encoded[static_cast<size_t>(k)].size()};
          const ShardEntry& oe = old_index[j][static_cast<size_t>(local)];
          if (oe.empty()) return {};
          return {old[j].data() + oe.offset, oe.nbytes};
        }, new_index[j]);
        old[j] = Bytes();  // no longer needed
      });
    }

    // 4. One PUT per shard; then write-through to the cache.
    std::vector<PutRequest> puts(m);
    for (size_t j = 0; j < m; ++j) puts[j] = {groups[b + j].key, shard[j].data(), shard[j].size()};
    std::vector<char> stored(m, 0);
    t.store.put_many(puts, [&](size_t j, Status&& st) {
      if (!st.ok()) {
        err.set(st.with_context("writing shard '" + puts[j].key + "'"));
        return;
      }
      stored[j] = 1;
    });
    if (cache) {
      for (size_t j = 0; j < m; ++j) {
        const std::string ikey = shard_index_cache_key(groups[b + j].key);
        if (!stored[j]) {
          cache->erase(ikey);
          continue;
        }
        auto ib_bytes = std::make_shared<const Bytes>(model::encode_shard_index(new_index[j], l));
        if (!cache->update(ikey, ib_bytes, tag)) cache->put(ikey, std::move(ib_bytes), tag);
      }
      for (size_t k = 0; k < items.size(); ++k) {
        const std::string ckey = inner_chunk_cache_key(groups[b + items[k].shard].key, local_of[items[k].chunk]);
        if (!stored[items[k].shard]) cache->erase(ckey);
        else if (raw[k]) cache->update(ckey, std::move(raw[k]), tag);
        else cache->erase(ckey);
      }
    }
    s = err.get();
    if (!s.ok()) return s;
    b = e;
  }
  return ok_status();
}

Status trim_shard(ObjectStore& store, const std::string& key, const model::ArrayMeta& meta,
                  const std::vector<uint64_t>& shard,
                  const std::function<void(const std::vector<uint64_t>&, Bytes&)>& reset_outside) {
  const ShardLayout& l = *meta.shard;
  const uint64_t ib = l.index_bytes();
  auto got = store.get(key);
  if (!got.ok()) return got.status().with_context("reading shard '" + key + "' to cut it to the new extent");
  if (!got.value()) return ok_status();
  const Bytes& old = *got.value();
  if (old.size() < ib) return io_error("shard '" + key + "' has " + std::to_string(old.size()) + " bytes, less than its index: the object is corrupt");
  auto idx = model::decode_shard_index(l.index_at_end ? old.data() + old.size() - ib : old.data(), static_cast<size_t>(ib), l,
                                       key, old.size());
  if (!idx.ok()) return idx.status();
  std::vector<Bytes> kept(idx.value().size());  // stored bytes of each inner chunk kept
  for (uint64_t local = 0; local < kept.size(); ++local) {
    const ShardEntry& e = idx.value()[static_cast<size_t>(local)];
    if (e.empty()) continue;
    const auto coords = model::inner_chunk_coords(shard, local, l);
    bool outside = false, straddles = false;
    for (size_t k = 0; k < coords.size(); ++k) {
      if (coords[k] * meta.chunk_shape[k] >= meta.shape[k]) outside = true;
      else if ((coords[k] + 1) * meta.chunk_shape[k] > meta.shape[k]) straddles = true;
    }
    if (outside) continue;
    Bytes stored(old.begin() + static_cast<std::ptrdiff_t>(e.offset), old.begin() + static_cast<std::ptrdiff_t>(e.offset + e.nbytes));
    if (straddles) {
      auto raw = decode_chunk(meta, std::move(stored));
      if (!raw.ok()) return raw.status().with_context("decoding inner chunk " + std::to_string(local) + " of shard '" + key + "'");
      reset_outside(coords, raw.value());
      auto enc = encode_chunk(meta, std::move(raw).value());
      if (!enc.ok()) return enc.status();
      stored = std::move(enc).value();
    }
    kept[static_cast<size_t>(local)] = std::move(stored);
  }
  ShardIndex index;
  bool any = false;
  Bytes out = assemble_shard(l, [&](uint64_t local) -> Span {
    const Bytes& b = kept[static_cast<size_t>(local)];
    if (b.empty()) return {};
    any = true;
    return {b.data(), b.size()};
  }, index);
  if (!any) return store.delete_many({key});
  return store.put(key, out.data(), out.size());
}

}  // namespace arraymorph::io
