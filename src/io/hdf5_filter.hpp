// hdf5_filter.hpp -- runs any HDF5 filter (built-in, registered by the application, or an
// HDF5_PLUGIN_PATH plugin) on a chunk buffer through the filter's own code.
//
// HDF5 1.14 has no public call that returns a registered filter's H5Z_class2_t or runs the filter
// pipeline on a buffer, so the class is found the way HDF5's own plugin loader finds it:
//   1. HDF5's built-in filters: the class objects libhdf5 exports (H5Z_DEFLATE, H5Z_SHUFFLE,
//      H5Z_FLETCHER32, H5Z_SZIP, H5Z_NBIT, H5Z_SCALEOFFSET);
//   2. filter plugins already loaded in the process (hdf5plugin's libraries, plugins HDF5 loaded
//      from HDF5_PLUGIN_PATH): every loaded shared object exporting H5PLget_plugin_type() ==
//      H5PL_TYPE_FILTER whose H5PLget_plugin_info() has the id;
//   3. else H5Zfilter_avail(id), which makes HDF5 load the plugin from HDF5_PLUGIN_PATH, then 2
//      again;
//   4. h5py's own LZF filter (32000), which h5py registers from functions its h5z module exports
//      (lzf_set_local, lzf_filter).
// A filter found nowhere is an error naming it. The class's can_apply/set_local run at dataset
// creation (prepare_filter), as native HDF5 runs them, so cd_values hold what native HDF5 stores.
//
// Chunks encoded so carry the Zarr codec "arraymorph.hdf5_filter" (docs/format.md) with
// configuration {"id", "name", "flags", "cd_values"}; the stored bytes are exactly the filter's
// output, as in a native HDF5 file.
//
// Thread-safety: every call into a filter's code holds one process-wide mutex (filters such as
// blosc's keep global state, and HDF5's built-in ones may touch HDF5's error stack), so these
// codecs encode one chunk at a time.
#pragma once

#include <hdf5.h>

#include <string>
#include <vector>

#include "common/status.hpp"
#include "model/zarr_metadata.hpp"

namespace arraymorph::io {

inline constexpr const char* kHdf5FilterCodec = "arraymorph.hdf5_filter";
// prepare_filter's answer for an *optional* filter (H5Z_FLAG_OPTIONAL, h5py
// allow_unknown_filter=True) that is not available: as in HDF5, the filter stays in the dataset's
// pipeline (recorded in `_hdf5.skipped_filters`, reported by H5Dget_create_plist) but chunks are
// stored without it. Same configuration as kHdf5FilterCodec; never part of the codec chain.
inline constexpr const char* kSkippedFilter = "arraymorph.skipped_filter";

// The codec for filter `index` of `dcpl` (HDF5 calling thread, at dataset creation): checks the
// filter is available and can_apply to (type, chunk dims), runs its set_local on a copy of the
// DCPL, and records the resulting cd_values.
Result<model::Codec> prepare_filter(hid_t dcpl, unsigned index, hid_t type, const std::vector<uint64_t>& chunk_dims);

// Status ok when the codec's filter can be found (dataset open).
Status check_filter(const model::Codec& codec);

// Runs the codec's filter forward (encode) or in reverse (decode) on `buf`.
Result<std::vector<unsigned char>> run_filter(const model::Codec& codec, std::vector<unsigned char> buf, bool reverse);

// Sets the codec's filter on a DCPL (H5Pset_filter with the recorded flags and cd_values).
void set_filter(hid_t dcpl, const model::Codec& codec);

}  // namespace arraymorph::io
