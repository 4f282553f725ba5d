// collective_io.hpp -- two-phase MPI collective chunk I/O (docs/design.md §6, issue 8).
//
// src/vol/dataset_io.cpp routes a dataset read/write here when a Context applies (context.hpp:
// inside arraymorph.collective(comm), or a collective transfer on a file opened with
// H5Pset_fapl_mpio) and the transfer has fixed-size elements with the same memory and file type
// on a named dataset (other cases keep the independent path). Every rank of the context makes the
// same sequence of these calls.
//
// Reads are two-phase:
//   1. each rank sends, to the owner of every chunk its plan touches (owner = FNV-1a(coords) %
//      size), the chunk coords and its pieces {chunk_offset, count} (MPI_Alltoall of counts +
//      MPI_Alltoallv of the descriptions): the owner thus learns the union of needs for its chunks;
//   2. each owner builds one ChunkPlan with every distinct chunk it owns once, whose pieces point
//      into a send buffer laid out per destination rank in that rank's plan order, and runs it
//      through io::read_chunks (cache, ranged reads, decode: the regular engine). Every chunk is
//      fetched once across the communicator;
//   3. the ranks agree on a status (MPI_Allreduce; the failing rank's message is broadcast);
//   4. the pieces are exchanged with MPI_Alltoallv and each rank scatters them into its buffer.
// Writes mirror it: pieces (descriptions + elements) go to the chunk's owner, which assembles
// each chunk from every rank's pieces (in rank order: for overlapping elements the highest rank
// wins) and runs io::write_chunks: read-modify-write only when the union of all ranks' pieces
// does not cover the chunk's valid elements, one PUT per chunk. After a collective write every
// rank drops the dataset's chunks from its own chunk cache (other owners may have changed them).
//
// Never hangs on a rank's failure: every operation starts with the step agreement of
// context_internal.hpp (a rank that left the block enters it from arraymorph_collective_end(), so
// the others see the mismatch and fail too). Errors inside an operation are agreed on before any
// data moves.
//
// Requirements (documented in python/arraymorph/__init__.py): every rank calls H5Dread/H5Dwrite
// the same number of times on the same datasets, in the same order, even with an empty selection
// (h5py skips H5Dread for empty selections, so give every rank at least one element, or the
// mismatch is reported as an error at the next step).
//
// Thread-safety: the context is process-wide; collective operations must be issued from one
// thread (the HDF5 thread), like MPI collectives themselves.
#pragma once

#include <string>

#include "common/status.hpp"
#include "io/chunk_io.hpp"
#include "io/chunk_plan.hpp"
#include "mpi/context.hpp"

namespace arraymorph::mpi {

// `dataset_key` identifies the dataset (checked to be the same on every rank).
Status read(Context& c, const io::ArrayTarget& target, const std::string& dataset_key, const io::ChunkPlan& plan,
            unsigned char* buf);
Status write(Context& c, const io::ArrayTarget& target, const std::string& dataset_key, const io::ChunkPlan& plan,
             const unsigned char* buf);

}  // namespace arraymorph::mpi
