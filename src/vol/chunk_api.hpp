// chunk_api.hpp -- HDF5's chunk-level dataset API on an object-per-chunk store.
//
// H5Dget_num_chunks, H5Dget_chunk_info(_by_coord), H5Dget_chunk_storage_size, H5Dread_chunk,
// H5Dwrite_chunk and H5Dchunk_iter reach a connector as the dataset "optional" callback with the
// native connector's operation codes (H5VLnative.h, H5VL_NATIVE_DATASET_*); arraymorph implements
// them from the dataset's chunk objects:
//   - the chunks that exist are the objects under "<dataset>/c/" (one LIST), in C order of their
//     chunk coordinates (the order native HDF5's fixed/extensible-array indexes use);
//   - "offset" (H5Dget_chunk_info's offset argument) is, as in HDF5, the chunk's first element;
//   - "addr" (the byte address of the chunk in a native file) is 0: a chunk's bytes start at byte
//     0 of its own object, whose key is its chunk key (docs/format.md); a chunk that is not
//     stored has HADDR_UNDEF and size 0, as in HDF5;
//   - "size" and the bytes read/written are HDF5's raw chunk form (io/hdf5_chunk_form.hpp),
//     filter mask 0 on reads; writes with a filter mask are decoded and stored fully encoded,
//     writes with every filter applied are stored as given (gzip: re-framed, not recompressed);
//   - sharded datasets (io/shard_io.hpp): the chunks are the inner chunks their shards' indexes
//     list; "addr" is the inner chunk's byte offset inside its shard object (whose key is the
//     shard's chunk key), "size" its stored size in HDF5's form; H5Dwrite_chunk rewrites the
//     shard (one GET unless every inner chunk of it is given, one PUT);
//   - H5Dwrite_chunk and arraymorph_write_chunks (many chunks per call, the `arraymorph cp` path)
//     share one implementation, write_raw_chunks.
//
// Thread-safety: HDF5 calling thread only.
#pragma once

#include <hdf5.h>

#include "io/chunk_io.hpp"
#include "vol/object_model.hpp"

namespace arraymorph::vol {

// H5Dget_space_status: NOT_ALLOCATED when no chunk object exists, ALLOCATED when every chunk of
// the extent does (or a contiguous dataset has any), else PART_ALLOCATED.
H5D_space_status_t space_status(DatasetObject& d);

// One chunk in HDF5's raw chunk form, as H5Dwrite_chunk takes it.
struct RawChunk {
  const hsize_t* offset = nullptr;     // the chunk's first element, one value per dimension
  uint32_t filter_mask = 0;            // bit i set: filter i was not applied
  const unsigned char* data = nullptr; // borrowed for the call
  size_t size = 0;
};

// Stores `n` whole chunks of the chunked dataset `d`. Every offset is checked before anything is
// stored (on a chunk boundary, inside the extent, no chunk twice), so a bad one stores nothing.
// The chunks are then converted to objects (io::from_hdf5_form, counted in Stats' direct_*
// counters) on the file's worker pool and PUT concurrently, in groups of at most max_inflight
// chunks and 64 MiB of input (16 MiB when they need converting); the next group is converted while the current one is PUT, so at
// most two groups of converted bytes exist besides the caller's buffers. Uncompressed chunks
// are PUT straight from the caller's buffers (no copy). Returns when every PUT has finished,
// and throws the first failure naming the chunk key; then any subset of the chunks may be
// stored, each whole or not at all. The chunks leave the file's chunk cache.
void write_raw_chunks(DatasetObject& d, const RawChunk* chunks, size_t n);

// The engine's view of `d` (store, chunk cache, range planner settings; defined in dataset_io.cpp).
io::ArrayTarget make_target(DatasetObject& d);

// H5Dvlen_get_buf_size (defined in dataset_io.cpp): the bytes H5Dread of the selection `space`
// into `mem_type` would allocate for variable-length data (strings: each plus its NUL).
hsize_t vlen_buf_size(DatasetObject& d, hid_t mem_type, hid_t space);

}  // namespace arraymorph::vol
