// chunk_io.hpp -- executes a ChunkPlan against a store: the read and write paths of H5Dread and
// H5Dwrite for one dataset.
//
// Reads issue every chunk GET of the plan at once (store.get_many); each completion decodes the
// chunk and scatters its pieces into the destination buffer. A missing chunk scatters the fill
// value. Writes gather pieces into whole chunks — fetching the old chunk first only when the
// selection does not cover all of its in-extent elements (read-modify-write) — encode them on
// the worker pool and PUT them all at once. The call returns when every request has finished and
// reports the first failure with the chunk key.
//
// Buffers hold elements in the file type's representation (meta.element_size bytes each); type
// conversion is done by the caller (src/vol/dataset_io.cpp) on the HDF5 thread.
//
// Thread-safety: callable from the HDF5 thread; internally parallel. Pieces of different chunks
// never overlap in the destination unless the selection itself repeats elements (points), and
// HDF5 leaves that case undefined too.
#pragma once

#include <string>

#include "arraymorph/store.hpp"
#include "io/chunk_plan.hpp"
#include "model/zarr_metadata.hpp"
#include "sched/thread_pool.hpp"

namespace arraymorph::io {

struct ArrayTarget {
  ObjectStore& store;
  std::string node_prefix;  // "<file>/<path>", chunk keys are node_prefix + "/c/..."
  const model::ArrayMeta& meta;
  ThreadPool& pool;
};

Status read_chunks(const ArrayTarget& target, const ChunkPlan& plan, unsigned char* buf);
Status write_chunks(const ArrayTarget& target, const ChunkPlan& plan, const unsigned char* buf);

// Fills `count` elements at dst with the array's fill value.
void fill_elements(const model::ArrayMeta& meta, unsigned char* dst, uint64_t count);

}  // namespace arraymorph::io
