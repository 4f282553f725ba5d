// chunk_plan.hpp -- turns a selection into per-chunk work: which chunks an H5Dread/H5Dwrite
// touches and, for each, the element runs to copy between the chunk and the caller's buffer.
//
// Input is two lists of runs in selection order (HDF5 pairs the i-th selected file element with
// the i-th selected memory element): file runs as linear element offsets in the dataset's
// row-major index space, buffer runs as element offsets in the memory buffer. Produced by
// selection_runs() from any HDF5 selection (hyperslabs, points, all) through H5Ssel_iter_*.
//
// Thread-safety: selection_runs calls H5S functions and must run on the calling (HDF5) thread;
// plan_chunks is pure.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <vector>

#include "common/status.hpp"

namespace arraymorph::io {

struct Run {
  uint64_t offset = 0;  // elements
  uint64_t length = 0;  // elements
};

// One contiguous copy between a chunk and the buffer (all in elements).
struct Piece {
  uint64_t chunk_offset = 0;
  uint64_t buf_offset = 0;
  uint64_t count = 0;
};

struct ChunkWork {
  std::vector<uint64_t> coords;  // chunk grid coordinates
  std::vector<Piece> pieces;
  uint64_t selected = 0;  // elements of this chunk in the selection (with repeats)
  uint64_t valid = 0;     // elements of this chunk inside the dataset's extent
};

struct ChunkPlan {
  std::vector<ChunkWork> chunks;
  uint64_t elements = 0;  // total selected elements
};

// Selected elements of `space` as runs of linear element offsets, in HDF5's iteration order.
Result<std::vector<Run>> selection_runs(hid_t space);

Result<ChunkPlan> plan_chunks(const std::vector<uint64_t>& shape, const std::vector<uint64_t>& chunk_shape,
                              const std::vector<Run>& file_runs, const std::vector<Run>& buf_runs);

}  // namespace arraymorph::io
