// chunk_io.cpp -- see chunk_io.hpp.
#include "io/chunk_io.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>

#include "common/first_error.hpp"
#include "common/log.hpp"
#include "io/codec_pipeline.hpp"
#include "io/shard_io.hpp"
#include "model/chunk_key.hpp"
#include "sched/job_group.hpp"

namespace arraymorph::io {
namespace {

// Codec work is counted in Stats (codec.encoded / decoded) and, when it ran on the thread that
// called read_chunks/write_chunks, in codec.on_caller: the proof that it runs on the worker pool,
// overlapped with the network, and not on the caller's thread.
thread_local int tl_engine_calls = 0;
struct CallerScope {
  CallerScope() { ++tl_engine_calls; }
  ~CallerScope() { --tl_engine_calls; }
  CallerScope(const CallerScope&) = delete;
  CallerScope& operator=(const CallerScope&) = delete;
};

void count_codec(const ArrayTarget& t, std::atomic<uint64_t> Stats::*counter) {
  if (!t.stats || t.meta.uncompressed()) return;  // the bytes codec alone is no codec work
  (t.stats->*counter).fetch_add(1, std::memory_order_relaxed);
  if (tl_engine_calls > 0) t.stats->codec_on_caller.fetch_add(1, std::memory_order_relaxed);
}

Result<Bytes> decode_counted(const ArrayTarget& t, Bytes stored) {
  count_codec(t, &Stats::codec_decoded);
  return decode_chunk(t.meta, std::move(stored));
}

template <typename Raw>
Result<Bytes> encode_counted(const ArrayTarget& t, Raw&& raw) {
  count_codec(t, &Stats::codec_encoded);
  return encode_chunk(t.meta, std::forward<Raw>(raw));
}

// Decodes a fetched chunk; when that fails (corrupt compressed stream, crc32c mismatch, wrong
// size) the bytes may have been damaged on the way, so the chunk is fetched once more and
// decoded again. A second failure is reported naming the object: corrupt data is never returned.
// Blocks on a GET: never call it on a store's completion thread (worker pool or caller only).
Result<Bytes> refetch_and_decode(const ArrayTarget& t, const std::string& key, const Status& first) {
  AM_LOG(kWarning, "io", "chunk '" << key << "' failed to decode (" << first.message() << "); fetching it once more");
  auto again = t.store.get(key);
  if (!again.ok()) return again.status().with_context("re-fetching chunk '" + key + "' after it failed to decode");
  if (!again.value())
    return io_error("chunk '" + key + "' failed to decode (" + first.message() + ") and then vanished");
  auto second = decode_counted(t, std::move(*again.value()));
  if (!second.ok())
    return second.status().with_context("chunk '" + key + "' in " + t.store.describe() +
                                        " is corrupt (decoded twice, fetched twice)");
  AM_LOG(kInfo, "io", "chunk '" << key << "' decoded after a re-fetch");
  return second;
}


std::string key_of(const ArrayTarget& t, const ChunkWork& w) {
  return t.node_prefix + "/" + model::chunk_key(w.coords);
}

void scatter_chunk(const ArrayTarget& t, const ChunkWork& w, const unsigned char* chunk, unsigned char* buf) {
  const size_t es = t.meta.element_size;
  for (const Piece& p : w.pieces) std::memcpy(buf + p.buf_offset * es, chunk + p.chunk_offset * es, p.count * es);
}

void fill_pieces(const ArrayTarget& t, const ChunkWork& w, unsigned char* buf) {
  for (const Piece& p : w.pieces) fill_elements(t.meta, buf + p.buf_offset * t.meta.element_size, p.count);
}

void count_cache(const ArrayTarget& t, bool hit) {
  if (!t.stats) return;
  (hit ? t.stats->cache_hits : t.stats->cache_misses).fetch_add(1, std::memory_order_relaxed);
}

// A chunk read with ranged GETs: its range plan and, per range, the pieces it holds.
struct RangedChunk {
  RangePlan plan;
  std::vector<std::vector<uint32_t>> pieces_of_range;
};

// Where the pieces of chunk `w` (all of them, or those listed in `only`) lie in a GET body that
// starts at chunk byte `base` and is `size` bytes long: sorted spans, runs contiguous both in the
// body and in `buf` merged into one. nullopt when two pieces read the same chunk bytes (a point
// selection naming an element twice), which a destination cannot express.
std::optional<GetDestination> destination_for(const ArrayTarget& t, const ChunkWork& w,
                                              const std::vector<uint32_t>* only, uint64_t base,
                                              uint64_t size, unsigned char* buf) {
  const size_t es = t.meta.element_size;
  GetDestination d;
  d.size = size;
  const size_t n = only ? only->size() : w.pieces.size();
  d.spans.reserve(n);
  for (size_t k = 0; k < n; ++k) {
    const Piece& p = w.pieces[only ? (*only)[k] : k];
    d.spans.push_back({p.chunk_offset * es - base, buf + p.buf_offset * es, static_cast<size_t>(p.count * es)});
  }
  std::sort(d.spans.begin(), d.spans.end(), [](const DestSpan& a, const DestSpan& b) { return a.offset < b.offset; });
  size_t out = 0;
  for (size_t k = 0; k < d.spans.size(); ++k) {
    const DestSpan& s = d.spans[k];
    if (out > 0) {
      DestSpan& prev = d.spans[out - 1];
      if (s.offset < prev.offset + prev.size) return std::nullopt;  // overlap
      if (s.offset == prev.offset + prev.size && s.dst == prev.dst + prev.size) {
        prev.size += s.size;
        continue;
      }
    }
    d.spans[out++] = s;
  }
  d.spans.resize(out);
  if (!d.valid()) return std::nullopt;
  return d;
}

// Bytes the spans cover; equal to d.size when the selection covers the whole body.
uint64_t covered_bytes(const GetDestination& d) {
  uint64_t n = 0;
  for (const DestSpan& s : d.spans) n += s.size;
  return n;
}

// The chunk gathered back from the caller's buffer, for the cache (d covers the whole chunk).
std::shared_ptr<const Bytes> gather_chunk(const GetDestination& d) {
  auto c = std::make_shared<Bytes>(static_cast<size_t>(d.size));
  for (const DestSpan& s : d.spans) std::memcpy(c->data() + s.offset, s.dst, s.size);
  return c;
}

}  // namespace

// True when the fill value is all zero bytes (or unset): what a fresh Bytes already holds.
bool fill_is_zero(const model::ArrayMeta& meta) {
  if (meta.fill_bytes.size() != meta.element_size) return true;
  return std::all_of(meta.fill_bytes.begin(), meta.fill_bytes.end(), [](unsigned char b) { return b == 0; });
}

void fill_elements(const model::ArrayMeta& meta, unsigned char* dst, uint64_t count) {
  const size_t es = meta.element_size;
  if (fill_is_zero(meta)) {
    std::memset(dst, 0, count * es);
    return;
  }
  for (uint64_t i = 0; i < count; ++i) std::memcpy(dst + i * es, meta.fill_bytes.data(), es);
}

Status read_chunks(const ArrayTarget& t, const ChunkPlan& plan, unsigned char* buf) {
  if (t.meta.shard) return read_sharded(t, plan, buf);  // inner chunks of shard objects
  CallerScope caller;
  const size_t es = t.meta.element_size;
  const size_t n = plan.chunks.size();
  const uint64_t chunk_bytes = t.meta.chunk_bytes();
  ChunkCache* cache = (t.cache && t.cache->enabled()) ? t.cache : nullptr;
  const ChunkCache::Tag tag{t.owner, t.meta.shape};
  const bool compressed = !t.meta.uncompressed();
  const bool can_range = t.ranged_reads && !compressed && t.store.capabilities().ranged_get;

  // 1. Cache lookups and the request list.
  struct Target {
    size_t chunk;
    int64_t range;  // -1: whole object
    int64_t dest;   // index in dests (received zero-copy), -1: as owned bytes
  };
  std::vector<GetRequest> reqs;
  std::vector<Target> targets;
  reqs.reserve(n);
  targets.reserve(n);
  std::vector<std::string> keys(n);
  std::vector<std::pair<size_t, ChunkCache::Data>> hits;
  std::vector<RangedChunk> ranged;
  std::vector<size_t> ranged_of(can_range ? n : 0, SIZE_MAX);
  std::vector<size_t> fetch;  // chunks to request, in plan order
  // Zero-copy destinations (uncompressed chunks only): every range of a ranged read, and a whole
  // chunk either when it will not be cached or when the selection covers all of it (then the
  // cache gets a copy gathered from the caller's buffer, see chunk_io.hpp).
  std::vector<GetDestination> dests;
  const bool can_cache_chunks = cache && chunk_bytes <= cache->capacity();
  for (size_t i = 0; i < n; ++i) {
    const ChunkWork& w = plan.chunks[i];
    keys[i] = key_of(t, w);
    if (cache) {
      // Look-ahead of this chunk still in flight (prefetch.hpp): wait for it, never fetch twice.
      if (cache->wait_fill(keys[i])) {
        if (t.fill_waits) t.fill_waits->fetch_add(1, std::memory_order_relaxed);
        if (t.stats) t.stats->readahead_waits.fetch_add(1, std::memory_order_relaxed);
      }
      auto hit = cache->get(keys[i], tag);
      count_cache(t, hit.has_value());
      if (hit) {
        hits.emplace_back(i, std::move(*hit));
        continue;
      }
    }
    if (can_range) {
      RangePlan rp = plan_ranges(w.pieces, es, chunk_bytes, t.ranges);
      if (!rp.whole) {
        ranged_of[i] = ranged.size();
        ranged.push_back(RangedChunk{std::move(rp), {}});
      }
    }
    fetch.push_back(i);
  }
  // The read's ranged GETs planned as a whole: fewer rounds of requests where that pays.
  if (!ranged.empty()) {
    std::vector<RangePlan*> plans;
    for (RangedChunk& rc : ranged) plans.push_back(&rc.plan);
    coalesce_plans(plans, fetch.size() - ranged.size(), t.ranges);
  }
  // A read fetching more whole chunks than the cache holds would only evict its own chunks (and
  // everything else) again: such a one-pass read skips the copy into the cache altogether and
  // receives every uncompressed chunk straight into the caller's buffer.
  const bool cache_fetched = can_cache_chunks && (fetch.size() - ranged.size()) * chunk_bytes <= cache->capacity();
  for (size_t i : fetch) {
    const ChunkWork& w = plan.chunks[i];
    if (can_range && ranged_of[i] != SIZE_MAX) {
      RangedChunk& rc = ranged[ranged_of[i]];
      const RangePlan& rp = rc.plan;
      rc.pieces_of_range.resize(rp.ranges.size());
      for (size_t p = 0; p < w.pieces.size(); ++p) rc.pieces_of_range[rp.piece_range[p]].push_back(static_cast<uint32_t>(p));
      for (size_t k = 0; k < rp.ranges.size(); ++k) {
        const ByteRun& br = rp.ranges[k];
        reqs.push_back({keys[i], ByteRange{br.offset, br.length}});
        int64_t di = -1;
        if (auto d = destination_for(t, w, &rc.pieces_of_range[k], br.offset, br.length, buf)) {
          di = static_cast<int64_t>(dests.size());
          dests.push_back(std::move(*d));
        }
        targets.push_back({i, static_cast<int64_t>(k), di});
      }
      continue;
    }
    reqs.push_back({keys[i], std::nullopt});
    int64_t di = -1;
    if (!compressed) {
      auto d = destination_for(t, w, nullptr, 0, chunk_bytes, buf);
      if (d && (!cache_fetched || covered_bytes(*d) == chunk_bytes)) {
        di = static_cast<int64_t>(dests.size());
        dests.push_back(std::move(*d));
      }
    }
    targets.push_back({i, -1, di});
  }
  for (size_t r = 0; r < reqs.size(); ++r) {  // dests no longer grows: its addresses are stable
    if (targets[r].dest >= 0) reqs[r].dest = &dests[static_cast<size_t>(targets[r].dest)];
  }

  // 2. Cached chunks: scatter on the pool (memory-bound copies).
  if (!hits.empty()) {
    t.pool.parallel_for(hits.size(), 0, [&](size_t h) {
      const ChunkWork& w = plan.chunks[hits[h].first];
      const ChunkCache::Data& d = hits[h].second;
      if (d) scatter_chunk(t, w, d->data(), buf);
      else fill_pieces(t, w, buf);
    });
  }
  if (reqs.empty()) return ok_status();

  // 3. Every GET at once; each completion scatters its bytes.
  FirstError err;
  JobGroup decoders(t.pool);
  t.store.get_many(reqs, [&](size_t r, Result<std::optional<Bytes>>&& res) {
    const Target tg = targets[r];
    const ChunkWork& w = plan.chunks[tg.chunk];
    const std::string& key = keys[tg.chunk];
    if (!res.ok()) {
      err.set(res.status().with_context("reading chunk '" + key + "'"));
      return;
    }
    if (!res.value()) {  // never written: all fill value
      if (tg.range < 0) {
        fill_pieces(t, w, buf);
      } else {
        const RangedChunk& rc = ranged[ranged_of[tg.chunk]];
        for (uint32_t p : rc.pieces_of_range[tg.range]) {
          const Piece& pc = w.pieces[p];
          fill_elements(t.meta, buf + pc.buf_offset * es, pc.count);
        }
      }
      if (cache) cache->put(key, nullptr, tag);
      return;
    }
    if (tg.dest >= 0) {  // the store wrote the bytes into buf already
      if (tg.range < 0 && cache_fetched) {  // copy for the cache off the completion thread
        const GetDestination* d = &dests[static_cast<size_t>(tg.dest)];
        decoders.run([cache, &key, &tag, d] { cache->put(key, gather_chunk(*d), tag); });
      }
      return;
    }
    if (tg.range >= 0) {  // ranged: scatter straight from the received bytes
      const RangedChunk& rc = ranged[ranged_of[tg.chunk]];
      const ByteRun& br = rc.plan.ranges[tg.range];
      const Bytes& got = *res.value();
      if (got.size() != br.length) {
        err.set(io_error("chunk '" + key + "' is shorter than its array's chunk size (got " +
                         std::to_string(got.size()) + " bytes for the range at " + std::to_string(br.offset) +
                         " of length " + std::to_string(br.length) + "): the object is corrupt"));
        return;
      }
      for (uint32_t p : rc.pieces_of_range[tg.range]) {
        const Piece& pc = w.pieces[p];
        std::memcpy(buf + pc.buf_offset * es, got.data() + (pc.chunk_offset * es - br.offset), pc.count * es);
      }
      return;
    }
    // `on_pool`: running on the worker pool, where a blocking re-fetch is allowed.
    auto finish = [&t, &w, &err, &key, cache, cache_fetched, &tag, buf](Bytes stored, bool on_pool) {
      auto raw = decode_counted(t, std::move(stored));
      if (!raw.ok() && on_pool) raw = refetch_and_decode(t, key, raw.status());
      if (!raw.ok()) {
        err.set(raw.status().with_context("decoding chunk '" + key + "'"));
        return;
      }
      auto data = std::make_shared<const Bytes>(std::move(raw).value());
      scatter_chunk(t, w, data->data(), buf);
      if (cache_fetched) cache->put(key, std::move(data), tag);
    };
    if (compressed) {  // decode off the completion thread
      decoders.run([finish, stored = std::move(*res.value())]() mutable { finish(std::move(stored), true); });
    } else {
      finish(std::move(*res.value()), false);
    }
  });
  decoders.wait();
  return err.get();
}

namespace {

// One batch of a write: its chunks assembled (and encoded) on the worker pool while the previous
// batch's PUTs are in flight.
struct WriteBatch {
  explicit WriteBatch(ThreadPool& pool) : coders(pool) {}
  size_t begin = 0, size = 0;                   // plan.chunks[begin, begin + size)
  std::vector<std::string> keys;
  std::vector<std::shared_ptr<Bytes>> raw;      // assembled raw chunk (null: PUT from buf)
  std::vector<Bytes> encoded;                   // compressed chunks only
  std::vector<PutRequest> puts;
  std::vector<char> direct;                     // PUT straight from the caller's buffer
  JobGroup coders;                              // the assembly/encode jobs of this batch
};

}  // namespace

Status write_chunks(const ArrayTarget& t, const ChunkPlan& plan, const unsigned char* buf) {
  if (t.meta.shard) return write_sharded(t, plan, buf);  // read-modify-write of whole shards
  CallerScope caller;
  const size_t es = t.meta.element_size;
  const size_t n = plan.chunks.size();
  const uint64_t chunk_bytes = t.meta.chunk_bytes();
  const uint64_t chunk_elements = t.meta.chunk_elements();
  const bool uncompressed = t.meta.uncompressed();
  const bool zero_fill = fill_is_zero(t.meta);
  ChunkCache* cache = (t.cache && t.cache->enabled()) ? t.cache : nullptr;
  const ChunkCache::Tag tag{t.owner, t.meta.shape};

  // Bounded batches: enough chunks to keep max_inflight PUTs busy twice over, at least 32 MiB.
  // Two batches are alive at once: one being PUT, the next being encoded.
  const uint64_t batch_bytes = std::max<uint64_t>(32ull << 20, 2ull * std::max<size_t>(t.max_inflight, 1) * chunk_bytes);
  const size_t batch_chunks = static_cast<size_t>(std::max<uint64_t>(1, batch_bytes / std::max<uint64_t>(chunk_bytes, 1)));

  FirstError err;
  // Fetches the old contents of a batch's partly covered chunks (read-modify-write), then
  // submits its assembly and encoding to the pool and returns without waiting for them.
  auto prepare = [&](size_t b) -> std::unique_ptr<WriteBatch> {
    auto wb = std::make_unique<WriteBatch>(t.pool);
    const size_t m = std::min(n, b + batch_chunks) - b;
    wb->begin = b;
    wb->size = m;
    wb->keys.resize(m);
    wb->raw.resize(m);
    wb->encoded.resize(m);
    wb->puts.resize(m);
    wb->direct.assign(m, 0);
    for (size_t j = 0; j < m; ++j) wb->keys[j] = key_of(t, plan.chunks[b + j]);
    auto& raw = wb->raw;
    auto& keys = wb->keys;

    // 1. Old contents of partially covered chunks: cache, else GET (decoded on the pool).
    std::vector<GetRequest> reqs;
    std::vector<size_t> req_chunk;
    for (size_t j = 0; j < m; ++j) {
      const ChunkWork& w = plan.chunks[b + j];
      if (w.selected >= w.valid) continue;
      if (cache) {
        auto hit = cache->get(keys[j], tag);
        count_cache(t, hit.has_value());
        if (hit) {
          if (*hit) raw[j] = std::make_shared<Bytes>(**hit);  // absent: starts as fill below
          continue;
        }
      }
      reqs.push_back({keys[j], std::nullopt});
      req_chunk.push_back(j);
    }
    if (!reqs.empty()) {
      std::mutex failed_mu;
      std::vector<std::pair<size_t, Status>> failed;  // decode failures, re-fetched below
      {
        JobGroup decoders(t.pool);
        t.store.get_many(reqs, [&](size_t k, Result<std::optional<Bytes>>&& r) {
          if (!r.ok()) {
            err.set(r.status().with_context("reading chunk '" + reqs[k].key + "' before updating it"));
            return;
          }
          if (!r.value()) return;  // absent: starts as fill below
          decoders.run([&, k, stored = std::move(*r.value())]() mutable {
            auto dec = decode_counted(t, std::move(stored));
            if (!dec.ok()) {
              std::lock_guard<std::mutex> lock(failed_mu);
              failed.emplace_back(k, dec.status());
              return;
            }
            raw[req_chunk[k]] = std::make_shared<Bytes>(std::move(dec).value());
          });
        });
        decoders.wait();
      }
      for (const auto& [k, first] : failed) {  // on the calling thread: blocking GETs are fine
        auto dec = refetch_and_decode(t, reqs[k].key, first);
        if (!dec.ok()) {
          err.set(dec.status().with_context("decoding chunk '" + reqs[k].key + "'"));
          break;
        }
        raw[req_chunk[k]] = std::make_shared<Bytes>(std::move(dec).value());
      }
    }
    if (!err.get().ok()) return wb;

    // 2. Assemble and encode on the worker pool, one job per chunk (never on this thread, which
    //    meanwhile sends the previous batch). An uncompressed chunk that is one contiguous span
    //    of the caller's buffer is PUT from there directly.
    WriteBatch* batch = wb.get();
    for (size_t j = 0; j < m; ++j) {
      const ChunkWork& w = plan.chunks[b + j];
      if (uncompressed && !raw[j] && w.pieces.size() == 1 && w.pieces[0].chunk_offset == 0 &&
          w.pieces[0].count == chunk_elements) {
        batch->puts[j] = {keys[j], buf + w.pieces[0].buf_offset * es, static_cast<size_t>(chunk_bytes)};
        batch->direct[j] = 1;
        continue;
      }
      const ChunkWork* work = &w;  // plan outlives the job; the loop's reference does not
      batch->coders.run([&, batch, j, work] {
        const ChunkWork& w = *work;
        auto& r = batch->raw[j];
        if (!r) {
          r = std::make_shared<Bytes>(chunk_bytes);  // zero-initialised: no second pass for a zero fill
          if (!zero_fill) fill_elements(t.meta, r->data(), chunk_elements);
        }
        Bytes& c = *r;
        for (const Piece& p : w.pieces) std::memcpy(c.data() + p.chunk_offset * es, buf + p.buf_offset * es, p.count * es);
        if (uncompressed) {  // the bytes codec is the identity on the in-memory form
          batch->puts[j] = {batch->keys[j], c.data(), c.size()};
          return;
        }
        // Keep the raw bytes only for a cached chunk (write-through); otherwise encode in place.
        const bool keep = cache && cache->get(batch->keys[j], tag).has_value();
        auto enc = keep ? encode_counted(t, c) : encode_counted(t, std::move(c));
        if (!keep) r.reset();
        if (!enc.ok()) {
          err.set(enc.status().with_context("encoding chunk '" + batch->keys[j] + "'"));
          return;
        }
        batch->encoded[j] = std::move(enc).value();
        batch->puts[j] = {batch->keys[j], batch->encoded[j].data(), batch->encoded[j].size()};
      });
    }
    return wb;
  };

  // 3. Stores a prepared batch; then write-through to the cache (buffers stay ours until
  //    put_many returns).
  auto store = [&](WriteBatch& wb) {
    const size_t m = wb.size;
    std::vector<char> stored(m, 0);
    t.store.put_many(wb.puts, [&](size_t j, Status&& st) {
      if (!st.ok()) {
        err.set(st.with_context("writing chunk '" + wb.puts[j].key + "'"));
        return;
      }
      stored[j] = 1;
    });
    if (!cache) return;
    for (size_t j = 0; j < m; ++j) {
      const std::string& key = wb.keys[j];
      if (!stored[j]) {
        cache->erase(key);
      } else if (wb.raw[j]) {
        cache->update(key, std::move(wb.raw[j]), tag);
      } else if (wb.direct[j] && cache->get(key, tag)) {  // from the caller's buffer: cache a copy
        cache->put(key, std::make_shared<const Bytes>(wb.puts[j].data, wb.puts[j].data + wb.puts[j].size), tag);
      } else {
        // Encoded in place, or PUT from the caller's buffer and not cached: never leave an
        // older version behind, nor let a look-ahead GET still in flight put one back.
        cache->erase(key);
      }
    }
  };

  if (n == 0) return ok_status();
  std::unique_ptr<WriteBatch> current = prepare(0);
  while (current) {
    current->coders.wait();
    Status s = err.get();
    if (!s.ok()) return s;
    const size_t next = current->begin + current->size;
    // The next batch is assembled and encoded on the pool while this one's PUTs are in flight.
    std::unique_ptr<WriteBatch> following = next < n ? prepare(next) : nullptr;
    store(*current);
    current = std::move(following);
    if (current && !err.get().ok()) current->coders.wait();  // let its jobs end before returning
    s = err.get();
    if (!s.ok()) return s;
  }
  return ok_status();
}

}  // namespace arraymorph::io
