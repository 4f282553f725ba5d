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
//     filter mask 0 on reads; writes with a filter mask are decoded and stored fully encoded.
//
// Thread-safety: HDF5 calling thread only.
#pragma once

#include <hdf5.h>

#include "vol/objects.hpp"

namespace arraymorph::vol {

// H5Dget_space_status: NOT_ALLOCATED when no chunk object exists, ALLOCATED when every chunk of
// the extent does (or a contiguous dataset has any), else PART_ALLOCATED.
H5D_space_status_t space_status(DatasetObject& d);

}  // namespace arraymorph::vol
