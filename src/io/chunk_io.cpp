// chunk_io.cpp -- see chunk_io.hpp.
#include "io/chunk_io.hpp"

#include <cstring>
#include <mutex>

#include "io/codec_pipeline.hpp"
#include "model/chunk_key.hpp"

namespace arraymorph::io {
namespace {

// Keeps the first failure of a parallel batch (later ones are usually consequences).
class FirstError {
 public:
  void set(Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    if (first_.ok()) first_ = std::move(s);
  }
  Status get() {
    std::lock_guard<std::mutex> lock(mu_);
    return first_;
  }

 private:
  std::mutex mu_;
  Status first_;
};

std::string key_of(const ArrayTarget& t, const ChunkWork& w) {
  return t.node_prefix + "/" + model::chunk_key(w.coords);
}

}  // namespace

void fill_elements(const model::ArrayMeta& meta, unsigned char* dst, uint64_t count) {
  const size_t es = meta.element_size;
  bool zero = true;
  for (unsigned char b : meta.fill_bytes) zero = zero && b == 0;
  if (zero || meta.fill_bytes.size() != es) {
    std::memset(dst, 0, count * es);
    return;
  }
  for (uint64_t i = 0; i < count; ++i) std::memcpy(dst + i * es, meta.fill_bytes.data(), es);
}

Status read_chunks(const ArrayTarget& t, const ChunkPlan& plan, unsigned char* buf) {
  const size_t es = t.meta.element_size;
  std::vector<GetRequest> reqs;
  reqs.reserve(plan.chunks.size());
  for (const auto& w : plan.chunks) reqs.push_back({key_of(t, w), std::nullopt});
  FirstError err;
  t.store.get_many(reqs, [&](size_t i, Result<std::optional<Bytes>>&& r) {
    const ChunkWork& w = plan.chunks[i];
    if (!r.ok()) {
      err.set(r.status().with_context("reading chunk '" + reqs[i].key + "'"));
      return;
    }
    if (!r.value()) {  // never written: all fill value
      for (const Piece& p : w.pieces) fill_elements(t.meta, buf + p.buf_offset * es, p.count);
      return;
    }
    auto raw = decode_chunk(t.meta, std::move(*r.value()));
    if (!raw.ok()) {
      err.set(raw.status().with_context("decoding chunk '" + reqs[i].key + "'"));
      return;
    }
    const unsigned char* src = raw.value().data();
    for (const Piece& p : w.pieces) std::memcpy(buf + p.buf_offset * es, src + p.chunk_offset * es, p.count * es);
  });
  return err.get();
}

Status write_chunks(const ArrayTarget& t, const ChunkPlan& plan, const unsigned char* buf) {
  const size_t es = t.meta.element_size;
  const size_t n = plan.chunks.size();
  std::vector<Bytes> chunks(n);

  // 1. Old contents of partially covered chunks (read-modify-write).
  std::vector<GetRequest> reqs;
  std::vector<size_t> req_chunk;
  for (size_t i = 0; i < n; ++i) {
    if (plan.chunks[i].selected < plan.chunks[i].valid) {
      reqs.push_back({key_of(t, plan.chunks[i]), std::nullopt});
      req_chunk.push_back(i);
    }
  }
  FirstError err;
  if (!reqs.empty()) {
    t.store.get_many(reqs, [&](size_t k, Result<std::optional<Bytes>>&& r) {
      if (!r.ok()) {
        err.set(r.status().with_context("reading chunk '" + reqs[k].key + "' before updating it"));
        return;
      }
      if (!r.value()) return;  // absent: starts as fill below
      auto raw = decode_chunk(t.meta, std::move(*r.value()));
      if (!raw.ok()) {
        err.set(raw.status().with_context("decoding chunk '" + reqs[k].key + "'"));
        return;
      }
      chunks[req_chunk[k]] = std::move(raw).value();
    });
    Status s = err.get();
    if (!s.ok()) return s;
  }

  // 2. Assemble and encode on the worker pool.
  const uint64_t chunk_bytes = t.meta.chunk_bytes();
  t.pool.parallel_for(n, n, [&](size_t i) {
    const ChunkWork& w = plan.chunks[i];
    Bytes& c = chunks[i];
    if (c.empty()) {
      c.resize(chunk_bytes);
      fill_elements(t.meta, c.data(), t.meta.chunk_elements());
    }
    for (const Piece& p : w.pieces) std::memcpy(c.data() + p.chunk_offset * es, buf + p.buf_offset * es, p.count * es);
    auto enc = encode_chunk(t.meta, std::move(c));
    if (!enc.ok()) {
      err.set(enc.status().with_context("encoding chunk '" + key_of(t, w) + "'"));
      c.clear();
      return;
    }
    c = std::move(enc).value();
  });
  Status s = err.get();
  if (!s.ok()) return s;

  // 3. Store them all.
  std::vector<PutRequest> puts;
  puts.reserve(n);
  for (size_t i = 0; i < n; ++i) puts.push_back({key_of(t, plan.chunks[i]), chunks[i].data(), chunks[i].size()});
  t.store.put_many(puts, [&](size_t i, Status&& st) {
    if (!st.ok()) err.set(st.with_context("writing chunk '" + puts[i].key + "'"));
  });
  return err.get();
}

}  // namespace arraymorph::io
