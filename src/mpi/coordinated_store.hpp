// coordinated_store.hpp -- a file's store whose metadata changes are made once, by rank 0.
//
// With MPI, every rank of a collective context (context.hpp: the file's own MPI-IO communicator,
// else the process-wide arraymorph.collective block when one is active) runs the same HDF5 calls
// that change metadata (create a file, group, dataset or attribute, write an attribute, resize,
// link, copy, delete, flush) with the same arguments, as parallel HDF5 requires. Each rank runs
// the connector's code unchanged; this wrapper turns each store write of such a call (put,
// put_many, delete_many) into one step of the context:
//   1. step agreement (context_internal.hpp): every rank has reached the same write, so every
//      rank has finished the reads that came before it in the same call (an existence check,
//      a listing), and they all saw the store as it was before the change;
//   2. rank 0 performs the write; the others skip it;
//   3. the outcome is agreed: every rank returns ok, or the same error.
// So each rank's in-memory view (the node tree) ends identical, the store is written once, and a
// rank that is elsewhere makes every rank fail instead of hanging. After such a failure (the
// context is "broken") rank 0 writes alone, without communicating, so files can still be closed. Reads are not coordinated:
// every rank reads for itself (after step 3, rank 0's writes are visible to everyone).
//
// Dataset data is not metadata: H5Dread/H5Dwrite run inside a DataTransferScope (set by
// src/vol/dataset_io.cpp), whose writes pass straight through (independent transfers, or the
// owner rank's PUTs of collective_io.hpp).
//
// Without MPI in the build, coordinate_metadata returns the store unchanged.
//
// Thread-safety: like any ObjectStore for reads; coordinated writes must come from the HDF5 thread
// (they issue MPI collectives), which is the only thread that changes metadata.
#pragma once

#include <memory>

#include "store/store.hpp"
#include "mpi/context.hpp"

namespace arraymorph::mpi {

// `file_context`: the file's own communicator (from_fapl), or null to follow the process-wide
// block. In an MPI build the wrapper is installed on every file, so a block begun after the file
// was opened still coordinates its metadata.
std::shared_ptr<ObjectStore> coordinate_metadata(std::shared_ptr<ObjectStore> inner, ContextPtr file_context);

// While one exists on a thread, that thread's store writes are dataset data, not coordinated.
class DataTransferScope {
 public:
  DataTransferScope();
  ~DataTransferScope();
  DataTransferScope(const DataTransferScope&) = delete;
  DataTransferScope& operator=(const DataTransferScope&) = delete;
};

}  // namespace arraymorph::mpi
