// context.hpp -- MPI communicators arraymorph coordinates over (docs/design.md §6, issue 8).
//
// A Context is a duplicated communicator plus the step counter that keeps the ranks in lock step
// (context_internal.hpp). There are two sources of one:
//   * the process-wide block of arraymorph.collective(comm) (C: arraymorph_collective_begin/end):
//     active between begin and end, for every file, with serial or parallel HDF5;
//   * parallel HDF5's file access property list: a file created/opened with H5Pset_fapl_mpio
//     (h5py: driver="mpio", comm=...) owns a Context for its lifetime (from_fapl), as the native
//     MPI-IO driver does. Its collective transfers are chosen per call by the dataset transfer
//     property list (H5Pset_dxpl_mpio(H5FD_MPIO_COLLECTIVE), h5py: `with dset.collective:`).
// With either, metadata changes are made once, by rank 0 (coordinated_store.hpp), and collective
// dataset reads/writes are two-phase (collective_io.hpp).
//
// Without MPI in the build (no ARRAYMORPH_WITH_MPI) every function here is a stub: available()
// is false, no context ever exists, begin() fails with a message saying how to get MPI.
//
// Thread-safety: the process-wide slot is guarded by a mutex; a Context itself must be used from
// one thread at a time (the HDF5 thread), like the MPI collectives it issues.
#pragma once

#include <hdf5.h>

#include <memory>

#include "common/status.hpp"

namespace arraymorph::mpi {

class Context;  // defined in context_internal.hpp (MPI builds only)
using ContextPtr = std::shared_ptr<Context>;

// True when built with MPI (ARRAYMORPH_WITH_MPI).
bool available();

// The process-wide block: `comm_f` is a Fortran handle (MPI_Comm_c2f / mpi4py's comm.py2f()),
// duplicated for the block. Nested blocks are refused.
Status begin(int comm_f);
// `failed`: this rank leaves the block because of an error. Returns an error when another rank
// failed or when the ranks did not make the same sequence of operations.
Status end(bool failed);
// Suspends (true) or resumes (false) the process-wide block on this rank, for work one rank does
// alone inside it (Python's Collective.once).
void suspend(bool on);
// The active, not suspended, process-wide block, or null.
ContextPtr process_context();
bool active();

// The communicator of `fapl` when it selects the MPI-IO driver (H5Pset_fapl_mpio), or null. Fails
// when MPI is not initialised or the communicator cannot be duplicated.
Result<ContextPtr> from_fapl(hid_t fapl);
// True when `dxpl` asks for collective transfers (H5Pset_dxpl_mpio with H5FD_MPIO_COLLECTIVE).
bool collective_transfer(hid_t dxpl);

}  // namespace arraymorph::mpi
