// context_internal.hpp -- the Context type and the agreement steps shared by src/mpi/*.cpp.
// MPI builds only (ARRAYMORPH_WITH_MPI); nothing outside src/mpi/ includes it.
//
// Every coordinated operation starts with enter(): an MPI_Allreduce that checks all ranks are at
// the same step (sequence number, operation, key). A rank that is elsewhere (it failed, left the
// block, or made another call) makes every rank fail with a message instead of hanging; the
// context is then "broken" and does no further communication. agree() makes every rank return
// the same outcome of a step (the lowest failing rank's message is broadcast).
//
// Thread-safety: one thread at a time per Context (the HDF5 thread).
#pragma once

#ifndef ARRAYMORPH_WITH_MPI
#error "context_internal.hpp is only for MPI builds"
#endif

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mpi/context.hpp"

namespace arraymorph::mpi {

class Context {
 public:
  // Takes ownership of `comm` (already duplicated), frees it when destroyed unless broken or
  // MPI is finalized.
  explicit Context(MPI_Comm comm);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  int size = 1;
  int64_t seq = 0;
  bool broken = false;  // a step mismatch or MPI error: no further communication
};

// Operation codes of the step agreement (also named in its error messages).
enum Op : int64_t { kRead = 1, kWrite = 2, kEnd = 3, kMetadata = 4 };

// Marks the context broken and turns an MPI error code into a Status.
Status mpi_failure(Context& c, int rc, const char* what);

// Step agreement over (sequence, op, key). `failed` (end of a block only) is OR-ed across the
// ranks into *any_failed.
Status enter(Context& c, int64_t op, const std::string& key, bool failed = false, bool* any_failed = nullptr);

// Agrees on the outcome of a local step: ok everywhere, or every rank returns an error (its own,
// or "failed on rank N: <message>").
Status agree(Context& c, const Status& local);

// MPI_Alltoallv of bytes with 64-bit counts (MPI-4 large-count form when an int is too small).
Status alltoallv_bytes(Context& c, const unsigned char* send, const std::vector<uint64_t>& scounts, unsigned char* recv,
                       const std::vector<uint64_t>& rcounts, const char* what);

uint64_t fnv1a(const void* data, size_t n, uint64_t h = 1469598103934665603ull);

}  // namespace arraymorph::mpi

#define AM_MPI(ctx, call, what)                                          \
  do {                                                                   \
    const int rc_ = (call);                                              \
    if (rc_ != MPI_SUCCESS) return ::arraymorph::mpi::mpi_failure(ctx, rc_, what); \
  } while (0)
