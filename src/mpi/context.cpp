// context.cpp -- see context.hpp and context_internal.hpp.
#include "mpi/context.hpp"

#include <mutex>
#include <string>

#ifdef ARRAYMORPH_WITH_MPI
#include <limits>

#include "mpi/context_internal.hpp"
#endif

namespace arraymorph::mpi {

#ifndef ARRAYMORPH_WITH_MPI

// ---------------------------------------------------------------------------- serial build stubs
bool available() { return false; }
Status begin(int) {
  return unsupported(
      "MPI collective I/O: this build of arraymorph has no MPI (install MPI, e.g. `pip install mpich "
      "mpi4py`, and rebuild with ARRAYMORPH_ENABLE_MPI=ON)");
}
Status end(bool) { return ok_status(); }
void suspend(bool) {}
ContextPtr process_context() { return nullptr; }
bool active() { return false; }
Result<ContextPtr> from_fapl(hid_t) { return ContextPtr(); }
bool collective_transfer(hid_t) { return false; }

#else

// ---------------------------------------------------------------------------- MPI build
namespace {
std::mutex g_mu;        // guards the process-wide slot
ContextPtr g_process;   // the block of arraymorph.collective(comm), or null
bool g_suspended = false;

bool mpi_usable() {
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  return init && !fin;
}

const char* op_name(int64_t op) {
  switch (op) {
    case kRead: return "read";
    case kWrite: return "write";
    case kEnd: return "end of the block";
    default: return "metadata change";
  }
}
}  // namespace

Context::Context(MPI_Comm c) : comm(c) {
  MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
}

Context::~Context() {
  // After a mismatch some ranks may still be inside other collectives: do not free then.
  if (comm != MPI_COMM_NULL && !broken && mpi_usable()) MPI_Comm_free(&comm);
}

bool available() { return true; }

ContextPtr process_context() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_suspended ? nullptr : g_process;
}
bool active() { return process_context() != nullptr; }

void suspend(bool on) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_suspended = on;
}

Status begin(int comm_f) {
  if (!mpi_usable()) return invalid_argument("collective I/O: MPI is not initialized (import mpi4py.MPI first)");
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_process) return invalid_argument("collective I/O: an arraymorph.collective block is already active (they do not nest)");
  MPI_Comm user = MPI_Comm_f2c(static_cast<MPI_Fint>(comm_f));
  if (user == MPI_COMM_NULL) return invalid_argument("collective I/O: the communicator is MPI_COMM_NULL");
  MPI_Comm dup = MPI_COMM_NULL;
  if (MPI_Comm_dup(user, &dup) != MPI_SUCCESS) return io_error("collective I/O: MPI_Comm_dup failed");
  g_process = std::make_shared<Context>(dup);
  g_suspended = false;
  return ok_status();
}

Status end(bool failed) {
  ContextPtr c;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    c = std::move(g_process);
    g_process.reset();
    g_suspended = false;
  }
  if (!c || c->broken) return ok_status();
  bool any_failed = false;
  Status s = enter(*c, kEnd, "", failed, &any_failed);
  if (s.ok() && any_failed && !failed)
    s = Status(Code::kInvalidArgument, "collective I/O: another rank left the arraymorph.collective block with an error");
  return s;
}

Result<ContextPtr> from_fapl(hid_t fapl) {
#ifdef H5_HAVE_PARALLEL
  if (fapl < 0 || fapl == H5P_DEFAULT) return ContextPtr();
  hid_t driver = H5I_INVALID_HID;
  H5E_BEGIN_TRY { driver = H5Pget_driver(fapl); }
  H5E_END_TRY
  if (driver < 0 || driver != H5FD_MPIO) return ContextPtr();
  if (!mpi_usable()) return invalid_argument("H5Pset_fapl_mpio: MPI is not initialized (MPI_Init, or import mpi4py.MPI)");
  MPI_Comm comm = MPI_COMM_NULL;
  MPI_Info info = MPI_INFO_NULL;
  if (H5Pget_fapl_mpio(fapl, &comm, &info) < 0)
    return invalid_argument("H5Pget_fapl_mpio failed on the file access property list");
  if (info != MPI_INFO_NULL) MPI_Info_free(&info);
  if (comm == MPI_COMM_NULL) return invalid_argument("H5Pset_fapl_mpio: the communicator is MPI_COMM_NULL");
  return std::make_shared<Context>(comm);  // H5Pget_fapl_mpio handed us a duplicate
#else
  (void)fapl;
  return ContextPtr();
#endif
}

bool collective_transfer(hid_t dxpl) {
#ifdef H5_HAVE_PARALLEL
  if (dxpl < 0 || dxpl == H5P_DEFAULT) return false;
  H5FD_mpio_xfer_t mode = H5FD_MPIO_INDEPENDENT;
  herr_t rc = -1;
  H5E_BEGIN_TRY { rc = H5Pget_dxpl_mpio(dxpl, &mode); }
  H5E_END_TRY
  return rc >= 0 && mode == H5FD_MPIO_COLLECTIVE;
#else
  (void)dxpl;
  return false;
#endif
}

Status mpi_failure(Context& c, int rc, const char* what) {
  c.broken = true;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) len = 0;
  return io_error(std::string("collective I/O: MPI error in ") + what + ": " + std::string(msg, static_cast<size_t>(len)));
}

uint64_t fnv1a(const void* data, size_t n, uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

Status enter(Context& c, int64_t op, const std::string& key, bool failed, bool* any_failed) {
  if (c.broken)
    return Status(Code::kInvalidArgument,
                  "collective I/O: the collective context is broken by an earlier failure; leave the "
                  "arraymorph.collective block (or close the MPI-IO file)");
  ++c.seq;
  // MAX of (x, -x) pairs: equal on every rank iff max == -min.
  const int64_t h = static_cast<int64_t>(fnv1a(key.data(), key.size()) >> 2);
  int64_t v[7] = {c.seq, -c.seq, op, -op, h, -h, failed ? 1 : 0};
  int64_t r[7];
  AM_MPI(c, MPI_Allreduce(v, r, 7, MPI_INT64_T, MPI_MAX, c.comm), "the step agreement (MPI_Allreduce)");
  if (any_failed) *any_failed = r[6] != 0;
  if (r[0] != -r[1] || r[2] != -r[3] || r[4] != -r[5]) {
    c.broken = true;
    std::string mine = std::string(op_name(op)) + (key.empty() ? "" : " of '" + key + "'");
    return Status(Code::kInvalidArgument,
                  "collective I/O: the ranks are not at the same step (rank " + std::to_string(c.rank) + " is at step " +
                      std::to_string(c.seq) + ", " + mine +
                      "): another rank failed or left the collective block, or the ranks did not make the same "
                      "sequence of dataset reads/writes and metadata changes (every rank must take part in each "
                      "one, even with an empty selection)");
  }
  return ok_status();
}

Status agree(Context& c, const Status& local) {
  int mine = local.ok() ? c.size : c.rank;
  int first = c.size;
  AM_MPI(c, MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, c.comm), "the status agreement (MPI_Allreduce)");
  if (first == c.size) return ok_status();
  std::string msg = local.ok() ? std::string() : local.message();
  int64_t head[2] = {static_cast<int64_t>(local.code()), static_cast<int64_t>(msg.size())};
  AM_MPI(c, MPI_Bcast(head, 2, MPI_INT64_T, first, c.comm), "the error broadcast");
  msg.resize(static_cast<size_t>(head[1]));
  if (head[1] > 0) AM_MPI(c, MPI_Bcast(msg.data(), static_cast<int>(head[1]), MPI_CHAR, first, c.comm), "the error broadcast");
  if (!local.ok()) return local;
  return Status(static_cast<Code>(head[0]), "collective I/O failed on rank " + std::to_string(first) + ": " + msg);
}

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
    AM_MPI(c, MPI_Alltoallv(send, sc.data(), sdi.data(), MPI_BYTE, recv, rc.data(), rdi.data(), MPI_BYTE, c.comm), what);
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
  AM_MPI(c, MPI_Alltoallv_c(send, sc.data(), sdi.data(), MPI_BYTE, recv, rc.data(), rdi.data(), MPI_BYTE, c.comm), what);
  return ok_status();
#else
  // Every rank computes `small` from different counts: agree first so nobody enters alone.
  c.broken = true;
  return unsupported("collective I/O exchanging more than 2 GiB per rank with an MPI older than 4.0");
#endif
}

#endif  // ARRAYMORPH_WITH_MPI

}  // namespace arraymorph::mpi
