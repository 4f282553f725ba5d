// collective_io.cpp -- see collective_io.hpp.
#include "mpi/collective_io.hpp"

#ifdef ARRAYMORPH_WITH_MPI
#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

#include "mpi/context_internal.hpp"
#endif

namespace arraymorph::mpi {

#ifndef ARRAYMORPH_WITH_MPI

Status read(Context&, const io::ArrayTarget&, const std::string&, const io::ChunkPlan&, unsigned char*) {
  return unsupported("MPI collective I/O: this build of arraymorph has no MPI");
}
Status write(Context&, const io::ArrayTarget&, const std::string&, const io::ChunkPlan&, const unsigned char*) {
  return unsupported("MPI collective I/O: this build of arraymorph has no MPI");
}

#else

namespace {

// Chunks of one shard (model/shard_index.hpp) share an owner: their object is written whole, so
// two owners updating inner chunks of the same shard would each overwrite the other's update.
int owner_of(const std::vector<uint64_t>& coords, const std::optional<model::ShardLayout>& shard, int size) {
  const std::vector<uint64_t> key = shard ? model::shard_coords(coords, *shard) : coords;
  return static_cast<int>(fnv1a(key.data(), key.size() * sizeof(uint64_t)) % static_cast<uint64_t>(size));
}

// What a rank sends to each owner: for every chunk of its plan owned there, in plan order,
// the words {valid, npieces, coords..., (chunk_offset, count) per piece}.
struct Outgoing {
  std::vector<int> owner;                    // per chunk of the plan
  std::vector<std::vector<uint64_t>> words;  // per destination
  std::vector<uint64_t> elements;            // per destination: elements of the pieces
};
Outgoing describe(const io::ChunkPlan& plan, const std::optional<model::ShardLayout>& shard, int size) {
  Outgoing o;
  o.owner.resize(plan.chunks.size());
  o.words.resize(size);
  o.elements.assign(size, 0);
  for (size_t i = 0; i < plan.chunks.size(); ++i) {
    const io::ChunkWork& w = plan.chunks[i];
    const int d = o.owner[i] = owner_of(w.coords, shard, size);
    auto& out = o.words[d];
    out.push_back(w.valid);
    out.push_back(w.pieces.size());
    out.insert(out.end(), w.coords.begin(), w.coords.end());
    for (const io::Piece& p : w.pieces) {
      out.push_back(p.chunk_offset);
      out.push_back(p.count);
      o.elements[d] += p.count;
    }
  }
  return o;
}

// Exchanges the descriptions: recv_words[r] = what rank r sent here.
Status exchange_descriptions(Context& c, const Outgoing& out, std::vector<std::vector<uint64_t>>& recv_words) {
  const int n = c.size;
  std::vector<uint64_t> sc(n), rc(n);
  for (int i = 0; i < n; ++i) sc[i] = out.words[i].size() * sizeof(uint64_t);
  AM_MPI(c, MPI_Alltoall(sc.data(), 1, MPI_UINT64_T, rc.data(), 1, MPI_UINT64_T, c.comm), "exchanging request sizes");
  std::vector<unsigned char> send, recv;
  uint64_t stotal = 0, rtotal = 0;
  for (int i = 0; i < n; ++i) {
    stotal += sc[i];
    rtotal += rc[i];
  }
  send.resize(stotal);
  recv.resize(rtotal);
  uint64_t pos = 0;
  for (int i = 0; i < n; ++i) {
    if (sc[i]) std::memcpy(send.data() + pos, out.words[i].data(), sc[i]);
    pos += sc[i];
  }
  Status s = alltoallv_bytes(c, send.data(), sc, recv.data(), rc, "exchanging chunk requests (MPI_Alltoallv)");
  if (!s.ok()) return s;
  recv_words.assign(n, {});
  pos = 0;
  for (int i = 0; i < n; ++i) {
    recv_words[i].resize(rc[i] / sizeof(uint64_t));
    if (rc[i]) std::memcpy(recv_words[i].data(), recv.data() + pos, rc[i]);
    pos += rc[i];
  }
  return ok_status();
}

// The owner's plan: every chunk it owns once, with every requesting rank's pieces (rank order,
// then that rank's plan order); buf_offset counts from the start of `base[r]` (elements).
struct OwnerPlan {
  io::ChunkPlan plan;
  std::vector<uint64_t> elements;  // per source rank
};
Status build_owner_plan(const std::vector<std::vector<uint64_t>>& recv_words, size_t ndims,
                        const std::vector<uint64_t>& base, bool distinct_coverage, OwnerPlan& op) {
  std::map<std::vector<uint64_t>, size_t> index;
  const size_t n = recv_words.size();
  op.elements.assign(n, 0);
  for (size_t r = 0; r < n; ++r) {
    const auto& w = recv_words[r];
    size_t i = 0;
    uint64_t running = 0;
    while (i < w.size()) {
      if (i + 2 + ndims > w.size()) return internal_error("collective I/O: truncated chunk request");
      const uint64_t valid = w[i], np = w[i + 1];
      std::vector<uint64_t> coords(w.begin() + static_cast<long>(i + 2), w.begin() + static_cast<long>(i + 2 + ndims));
      i += 2 + ndims;
      if (i + 2 * np > w.size()) return internal_error("collective I/O: truncated chunk request");
      auto it = index.find(coords);
      if (it == index.end()) {
        it = index.emplace(coords, op.plan.chunks.size()).first;
        io::ChunkWork cw;
        cw.coords = coords;
        cw.valid = valid;
        op.plan.chunks.push_back(std::move(cw));
      }
      io::ChunkWork& cw = op.plan.chunks[it->second];
      for (uint64_t k = 0; k < np; ++k, i += 2) {
        io::Piece p{w[i], base[r] + running, w[i + 1]};
        running += p.count;
        cw.pieces.push_back(p);
        cw.selected += p.count;
      }
    }
    op.elements[r] = running;
    op.plan.elements += running;
  }
  if (distinct_coverage) {
    // Writes: `selected` must count distinct elements (ranks may overlap), because the write
    // path skips the read-modify-write when selected >= valid.
    for (auto& cw : op.plan.chunks) {
      std::vector<std::pair<uint64_t, uint64_t>> iv;
      iv.reserve(cw.pieces.size());
      for (const auto& p : cw.pieces) iv.emplace_back(p.chunk_offset, p.chunk_offset + p.count);
      std::sort(iv.begin(), iv.end());
      uint64_t covered = 0, cur_b = 0, cur_e = 0;
      bool open = false;
      for (const auto& [b, e] : iv) {
        if (open && b <= cur_e) {
          cur_e = std::max(cur_e, e);
        } else {
          if (open) covered += cur_e - cur_b;
          cur_b = b;
          cur_e = e;
          open = true;
        }
      }
      if (open) covered += cur_e - cur_b;
      cw.selected = covered;
    }
  }
  return ok_status();
}

// Elements described by each source rank's requests.
std::vector<uint64_t> source_elements(const std::vector<std::vector<uint64_t>>& recv_words, size_t nd) {
  std::vector<uint64_t> e(recv_words.size(), 0);
  for (size_t r = 0; r < recv_words.size(); ++r) {
    const auto& w = recv_words[r];
    for (size_t i = 0; i + 2 + nd <= w.size();) {
      const uint64_t np = w[i + 1];
      i += 2 + nd;
      for (uint64_t k = 0; k < np && i + 1 < w.size(); ++k, i += 2) e[r] += w[i + 1];
    }
  }
  return e;
}

// The first half of both directions: step agreement, then every rank tells each chunk's owner
// which pieces of it this rank reads or writes.
struct Exchange {
  Outgoing out;
  std::vector<std::vector<uint64_t>> recv_words;  // [r]: what rank r asked of this rank's chunks
};
Status start(Context& c, int64_t op, const std::string& dataset_key, const io::ChunkPlan& plan,
             const std::optional<model::ShardLayout>& shard, Exchange& x) {
  Status s = enter(c, op, dataset_key);
  if (!s.ok()) return s;
  x.out = describe(plan, shard, c.size);
  return exchange_descriptions(c, x.out, x.recv_words);
}

}  // namespace

Status read(Context& c, const io::ArrayTarget& target, const std::string& dataset_key, const io::ChunkPlan& plan,
            unsigned char* buf) {
  // 1. Requests to the owners.
  Exchange x;
  Status s = start(c, kRead, dataset_key, plan, target.meta.shard, x);
  if (!s.ok()) return s;
  const Outgoing& out = x.out;
  const auto& recv_words = x.recv_words;
  const size_t es = target.meta.element_size;
  const int n = c.size;

  // 2. The owner fetches each of its chunks once, straight into the per-destination send buffer
  //    (segment r holds rank r's pieces in its plan order).
  const std::vector<uint64_t> from = source_elements(recv_words, target.meta.chunk_shape.size());
  std::vector<uint64_t> base(n, 0);
  for (int r = 1; r < n; ++r) base[r] = base[r - 1] + from[r - 1];
  OwnerPlan op;
  s = build_owner_plan(recv_words, target.meta.chunk_shape.size(), base, false, op);
  std::vector<unsigned char> send;
  if (s.ok()) {
    try {
      send.resize(op.plan.elements * es);
      if (!op.plan.chunks.empty()) s = io::read_chunks(target, op.plan, send.data());
    } catch (const std::exception& e) {
      s = internal_error(std::string("collective I/O: ") + e.what());
    }
  }
  // 3. Everyone agrees before any data moves.
  s = agree(c, s);
  if (!s.ok()) return s;

  // 4. Exchange and scatter.
  std::vector<uint64_t> sc(n), rc(n);
  for (int r = 0; r < n; ++r) {
    sc[r] = op.elements[r] * es;
    rc[r] = out.elements[r] * es;
  }
  uint64_t rtotal = 0;
  for (int r = 0; r < n; ++r) rtotal += rc[r];
  std::vector<unsigned char> recv(rtotal);
  s = alltoallv_bytes(c, send.data(), sc, recv.data(), rc, "exchanging chunk data (MPI_Alltoallv)");
  if (!s.ok()) return s;
  std::vector<uint64_t> cursor(n, 0);
  for (int r = 1; r < n; ++r) cursor[r] = cursor[r - 1] + rc[r - 1];
  for (size_t i = 0; i < plan.chunks.size(); ++i) {
    uint64_t& pos = cursor[out.owner[i]];
    for (const io::Piece& p : plan.chunks[i].pieces) {
      std::memcpy(buf + p.buf_offset * es, recv.data() + pos, p.count * es);
      pos += p.count * es;
    }
  }
  return ok_status();
}

Status write(Context& c, const io::ArrayTarget& target, const std::string& dataset_key, const io::ChunkPlan& plan,
             const unsigned char* buf) {
  // 1. Descriptions and elements to the owners (same order).
  Exchange x;
  Status s = start(c, kWrite, dataset_key, plan, target.meta.shard, x);
  if (!s.ok()) return s;
  const Outgoing& out = x.out;
  const auto& recv_words = x.recv_words;
  const size_t es = target.meta.element_size;
  const int n = c.size;
  std::vector<uint64_t> sc(n), cursor(n, 0);
  for (int r = 0; r < n; ++r) sc[r] = out.elements[r] * es;
  for (int r = 1; r < n; ++r) cursor[r] = cursor[r - 1] + sc[r - 1];
  std::vector<unsigned char> send(plan.elements * es);
  for (size_t i = 0; i < plan.chunks.size(); ++i) {
    uint64_t& pos = cursor[out.owner[i]];
    for (const io::Piece& p : plan.chunks[i].pieces) {
      std::memcpy(send.data() + pos, buf + p.buf_offset * es, p.count * es);
      pos += p.count * es;
    }
  }
  // What each source sends here follows from its descriptions.
  std::vector<uint64_t> rc = source_elements(recv_words, target.meta.chunk_shape.size()), base(n, 0);
  for (int r = 1; r < n; ++r) base[r] = base[r - 1] + rc[r - 1];
  uint64_t rtotal = 0;
  for (int r = 0; r < n; ++r) rtotal += rc[r];
  for (int r = 0; r < n; ++r) rc[r] *= es;
  std::vector<unsigned char> recv(rtotal * es);
  s = alltoallv_bytes(c, send.data(), sc, recv.data(), rc, "exchanging chunk data (MPI_Alltoallv)");
  if (!s.ok()) return s;
  send.clear();
  send.shrink_to_fit();

  // 2. The owner assembles its chunks from every rank's pieces and PUTs each once.
  OwnerPlan op;
  s = build_owner_plan(recv_words, target.meta.chunk_shape.size(), base, true, op);
  if (s.ok() && !op.plan.chunks.empty()) {
    try {
      s = io::write_chunks(target, op.plan, recv.data());
    } catch (const std::exception& e) {
      s = internal_error(std::string("collective I/O: ") + e.what());
    }
  }
  s = agree(c, s);
  // Other owners changed chunks this rank may have cached.
  if (target.cache) target.cache->erase_prefix(target.node_prefix + "/c");
  return s;
}

#endif  // ARRAYMORPH_WITH_MPI

}  // namespace arraymorph::mpi
