// collective.cpp -- see collective.hpp. Also the C API arraymorph_collective_* (arraymorph.h).
#include "mpi/collective.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "arraymorph/arraymorph.h"

#ifdef ARRAYMORPH_WITH_MPI
#include <mpi.h>
#endif

namespace arraymorph::mpi {
namespace {
std::mutex g_error_mu;
std::string g_last_error;  // message of the last failed C API call (arraymorph_collective_last_error)

int fail(const Status& s) {
  std::lock_guard<std::mutex> lock(g_error_mu);
  g_last_error = s.message();
  return -1;
}
int result(const Status& s) {
  if (s.ok()) return 0;
  return fail(s);
}
}  // namespace

#ifndef ARRAYMORPH_WITH_MPI

// ---------------------------------------------------------------------------- serial build stubs
namespace {
Status no_mpi() {
  return unsupported(
      "MPI collective I/O: this build of arraymorph has no MPI (install MPI, e.g. `pip install mpich "
      "mpi4py`, and rebuild with ARRAYMORPH_ENABLE_MPI=ON)");
}
}  // namespace
bool available() { return false; }
bool active() { return false; }
Status begin(int) { return no_mpi(); }
Status end(bool) { return ok_status(); }
Status read(const io::ArrayTarget&, const std::string&, const io::ChunkPlan&, unsigned char*) { return no_mpi(); }
Status write(const io::ArrayTarget&, const std::string&, const io::ChunkPlan&, const unsigned char*) { return no_mpi(); }

#else

// ---------------------------------------------------------------------------- MPI build
static_assert(sizeof(MPI_Fint) == sizeof(int), "arraymorph.h passes Fortran communicator handles as int");

namespace {

struct Context {
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  int size = 1;
  int64_t seq = 0;
  bool broken = false;  // a step mismatch or MPI error: no further communication
};

std::mutex g_mu;                 // guards g_ctx (pointer); operations run on the HDF5 thread
std::unique_ptr<Context> g_ctx;  // the active context, or null

enum Op : int64_t { kRead = 1, kWrite = 2, kEnd = 3 };
const char* op_name(int64_t op) { return op == kRead ? "read" : op == kWrite ? "write" : "end of the block"; }

Status mpi_failure(Context& c, int rc, const char* what) {
  c.broken = true;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) len = 0;
  return io_error(std::string("collective I/O: MPI error in ") + what + ": " + std::string(msg, static_cast<size_t>(len)));
}
#define AM_MPI(call, what)                                  \
  do {                                                      \
    const int rc_ = (call);                                 \
    if (rc_ != MPI_SUCCESS) return mpi_failure(c, rc_, what); \
  } while (0)

uint64_t fnv1a(const void* data, size_t n, uint64_t h = 1469598103934665603ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}
int owner_of(const std::vector<uint64_t>& coords, int size) {
  return static_cast<int>(fnv1a(coords.data(), coords.size() * sizeof(uint64_t)) % static_cast<uint64_t>(size));
}

// Step agreement: every rank contributes (sequence, operation, dataset); all must match.
// `failed` (end only) is OR-ed across ranks into *any_failed.
Status enter(Context& c, int64_t op, const std::string& key, bool failed = false, bool* any_failed = nullptr) {
  if (c.broken)
    return Status(Code::kInvalidArgument,
                  "collective I/O: the collective context is broken by an earlier failure; leave the "
                  "arraymorph.collective block");
  ++c.seq;
  const int64_t h = static_cast<int64_t>(fnv1a(key.data(), key.size()) >> 2);
  int64_t v[7] = {c.seq, -c.seq, op, -op, h, -h, failed ? 1 : 0};
  int64_t r[7];
  AM_MPI(MPI_Allreduce(v, r, 7, MPI_INT64_T, MPI_MAX, c.comm), "the step agreement (MPI_Allreduce)");
  if (any_failed) *any_failed = r[6] != 0;
  if (r[0] != -r[1] || r[2] != -r[3] || r[4] != -r[5]) {
    c.broken = true;
    std::string mine = std::string(op_name(op)) + (key.empty() ? "" : " of '" + key + "'");
    return Status(Code::kInvalidArgument,
                  "collective I/O: the ranks are not at the same step (rank " + std::to_string(c.rank) + " is at step " +
                      std::to_string(c.seq) + ", " + mine +
                      "): another rank failed or left the arraymorph.collective block, or the ranks did not make the "
                      "same sequence of dataset reads/writes (every rank must take part in each one, even with an "
                      "empty selection)");
  }
  return ok_status();
}

// Agrees on the outcome of a local step: ok everywhere, or every rank returns the error of the
// lowest failing rank (its message is broadcast).
Status agree(Context& c, const Status& local) {
  int mine = local.ok() ? c.size : c.rank;
  int first = c.size;
  AM_MPI(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, c.comm), "the status agreement (MPI_Allreduce)");
  if (first == c.size) return ok_status();
  std::string msg = local.ok() ? std::string() : local.message();
  int64_t head[2] = {static_cast<int64_t>(local.code()), static_cast<int64_t>(msg.size())};
  AM_MPI(MPI_Bcast(head, 2, MPI_INT64_T, first, c.comm), "the error broadcast");
  msg.resize(static_cast<size_t>(head[1]));
  if (head[1] > 0) AM_MPI(MPI_Bcast(msg.data(), static_cast<int>(head[1]), MPI_CHAR, first, c.comm), "the error broadcast");
  if (!local.ok()) return local;
  return Status(static_cast<Code>(head[0]), "collective I/O failed on rank " + std::to_string(first) + ": " + msg);
}

// MPI_Alltoallv of bytes with 64-bit counts (MPI-4 large-count form when an int is too small).
Status alltoallv_bytes(Context& c, const unsigned char* send, const std::vector<uint64_t>& scounts, unsigned char* recv,
                       const std::vector<uint64_t>& rcounts, const char* what) {
  const int n = c.size;
  std::vector<uint64_t> sd(n, 0), rd(n, 0);
  for (int i = 1; i < n; ++i) {
    sd[i] = sd[i - 1] + scounts[i - 1];
    rd[i] = rd[i - 1] + rcounts[i - 1];
  }
  const uint64_t lim = static_cast<uint64_t>(std::numeric_limits<int>::max());
  const bool small = (sd[n - 1] + scounts[n - 1] <= lim) && (rd[n - 1] + rcounts[n - 1] <= lim);
  if (small) {
    std::vector<int> sc(n), rc(n), sdi(n), rdi(n);
    for (int i = 0; i < n; ++i) {
      sc[i] = static_cast<int>(scounts[i]);
      rc[i] = static_cast<int>(rcounts[i]);
      sdi[i] = static_cast<int>(sd[i]);
      rdi[i] = static_cast<int>(rd[i]);
    }
    AM_MPI(MPI_Alltoallv(send, sc.data(), sdi.data(), MPI_BYTE, recv, rc.data(), rdi.data(), MPI_BYTE, c.comm), what);
    return ok_status();
  }
#if MPI_VERSION >= 4
  std::vector<MPI_Count> sc(n), rc(n);
  std::vector<MPI_Aint> sdi(n), rdi(n);
  for (int i = 0; i < n; ++i) {
    sc[i] = static_cast<MPI_Count>(scounts[i]);
    rc[i] = static_cast<MPI_Count>(rcounts[i]);
    sdi[i] = static_cast<MPI_Aint>(sd[i]);
    rdi[i] = static_cast<MPI_Aint>(rd[i]);
  }
  AM_MPI(MPI_Alltoallv_c(send, sc.data(), sdi.data(), MPI_BYTE, recv, rc.data(), rdi.data(), MPI_BYTE, c.comm), what);
  return ok_status();
#else
  // Every rank computes `small` from different counts: agree first so nobody enters alone.
  c.broken = true;
  return unsupported("collective I/O exchanging more than 2 GiB per rank with an MPI older than 4.0");
#endif
}

// What a rank sends to each owner: for every chunk of its plan owned there, in plan order,
// the words {valid, npieces, coords..., (chunk_offset, count) per piece}.
struct Outgoing {
  std::vector<int> owner;                    // per chunk of the plan
  std::vector<std::vector<uint64_t>> words;  // per destination
  std::vector<uint64_t> elements;            // per destination: elements of the pieces
};
Outgoing describe(const io::ChunkPlan& plan, int size) {
  Outgoing o;
  o.owner.resize(plan.chunks.size());
  o.words.resize(size);
  o.elements.assign(size, 0);
  for (size_t i = 0; i < plan.chunks.size(); ++i) {
    const io::ChunkWork& w = plan.chunks[i];
    const int d = o.owner[i] = owner_of(w.coords, size);
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
  AM_MPI(MPI_Alltoall(sc.data(), 1, MPI_UINT64_T, rc.data(), 1, MPI_UINT64_T, c.comm), "exchanging request sizes");
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

Context* current() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_ctx.get();
}

}  // namespace

bool available() { return true; }
bool active() { return current() != nullptr; }

Status begin(int comm_f) {
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  if (!init || fin) return invalid_argument("collective I/O: MPI is not initialized (import mpi4py.MPI first)");
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_ctx) return invalid_argument("collective I/O: an arraymorph.collective block is already active (they do not nest)");
  MPI_Comm user = MPI_Comm_f2c(static_cast<MPI_Fint>(comm_f));
  if (user == MPI_COMM_NULL) return invalid_argument("collective I/O: the communicator is MPI_COMM_NULL");
  auto ctx = std::make_unique<Context>();
  Context& c = *ctx;  // (the name AM_MPI expects)
  AM_MPI(MPI_Comm_dup(user, &c.comm), "MPI_Comm_dup");
  MPI_Comm_set_errhandler(c.comm, MPI_ERRORS_RETURN);
  MPI_Comm_rank(c.comm, &c.rank);
  MPI_Comm_size(c.comm, &c.size);
  g_ctx = std::move(ctx);
  return ok_status();
}

Status end(bool failed) {
  std::unique_ptr<Context> c;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    c = std::move(g_ctx);
  }
  if (!c) return ok_status();
  Status s;
  bool any_failed = false;
  if (!c->broken) {
    s = enter(*c, kEnd, "", failed, &any_failed);
    if (s.ok() && any_failed && !failed)
      s = Status(Code::kInvalidArgument, "collective I/O: another rank left the arraymorph.collective block with an error");
  }
  // After a mismatch some ranks may still be inside other collectives: do not free (collective).
  if (!c->broken) MPI_Comm_free(&c->comm);
  return s;
}

Status read(const io::ArrayTarget& target, const std::string& dataset_key, const io::ChunkPlan& plan,
            unsigned char* buf) {
  Context* cp = current();
  if (!cp) return internal_error("collective I/O: no active collective context");
  Context& c = *cp;
  Status s = enter(c, kRead, dataset_key);
  if (!s.ok()) return s;
  const size_t es = target.meta.element_size;
  const int n = c.size;

  // 1. Requests to the owners.
  Outgoing out = describe(plan, n);
  std::vector<std::vector<uint64_t>> recv_words;
  s = exchange_descriptions(c, out, recv_words);
  if (!s.ok()) return s;

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

Status write(const io::ArrayTarget& target, const std::string& dataset_key, const io::ChunkPlan& plan,
             const unsigned char* buf) {
  Context* cp = current();
  if (!cp) return internal_error("collective I/O: no active collective context");
  Context& c = *cp;
  Status s = enter(c, kWrite, dataset_key);
  if (!s.ok()) return s;
  const size_t es = target.meta.element_size;
  const int n = c.size;

  // 1. Descriptions and elements to the owners (same order).
  Outgoing out = describe(plan, n);
  std::vector<std::vector<uint64_t>> recv_words;
  s = exchange_descriptions(c, out, recv_words);
  if (!s.ok()) return s;
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

// ---------------------------------------------------------------------------- C API
extern "C" {

ARRAYMORPH_API int arraymorph_collective_available(void) { return arraymorph::mpi::available() ? 1 : 0; }

ARRAYMORPH_API int arraymorph_collective_begin(int comm_f) {
  return arraymorph::mpi::result(arraymorph::mpi::begin(comm_f));
}

ARRAYMORPH_API int arraymorph_collective_end(void) { return arraymorph::mpi::result(arraymorph::mpi::end(false)); }

ARRAYMORPH_API int arraymorph_collective_abort(void) { return arraymorph::mpi::result(arraymorph::mpi::end(true)); }

ARRAYMORPH_API int arraymorph_collective_active(void) { return arraymorph::mpi::active() ? 1 : 0; }

ARRAYMORPH_API size_t arraymorph_collective_last_error(char* buf, size_t len) {
  std::lock_guard<std::mutex> lock(arraymorph::mpi::g_error_mu);
  const std::string& m = arraymorph::mpi::g_last_error;
  if (buf && len) {
    const size_t k = std::min(len - 1, m.size());
    std::memcpy(buf, m.data(), k);
    buf[k] = '\0';
  }
  return m.size();
}

}  // extern "C"
