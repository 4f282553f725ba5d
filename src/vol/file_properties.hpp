// file_properties.hpp -- native file-format properties of an arraymorph file: kept so they read
// back as in HDF5, though none of them changes how arraymorph stores anything.
//
// A native HDF5 file has a file space strategy (H5Pset_file_space_strategy, fs_page_size), a page
// buffer (H5Pset_page_buffer_size), a metadata cache (H5Fget/set_mdc_config) and SWMR modes.
// arraymorph stores one object per chunk and one zarr.json per node, so free-space management,
// paging and HDF5's metadata cache have no meaning for it. Code written for native files sets
// them anyway, so (docs/compatibility.md, "Native file-format features"):
//  - the file space strategy, persistence, threshold and page size given at creation are recorded
//    in the root's `_hdf5.file_space` (docs/format.md) and reported by H5Fget_create_plist after
//    every later open;
//  - a page buffer size is checked and adjusted with HDF5 1.14.5's rules (refused at creation
//    unless the strategy is "page"; on open, 0 for a file without paged strategy, else rounded
//    down to whole pages and at least one page) and reported by H5Fget_access_plist. No page
//    buffer exists; arraymorph caches decoded chunks itself (Config::cache_bytes);
//  - the metadata cache calls report the configuration of the access property list (and keep
//    what H5Fset_mdc_config sets), a hit rate of 0 and a size of 0 bytes / 0 entries: HDF5's
//    metadata cache never sees an arraymorph file.
//
// Thread-safety: HDF5 calling thread only.
#pragma once

#include <hdf5.h>

#include "model/zarr_metadata.hpp"

namespace arraymorph::vol {

// At creation, before anything is written: throws when `fapl` asks for a page buffer the file
// space strategy of `fcpl` does not allow.
void require_page_buffer_allowed(hid_t fcpl, hid_t fapl);
// At creation: records a non-default file space strategy of `fcpl` in `root` (returns whether it did).
bool record_file_space(hid_t fcpl, model::Node& root);
// At open: copies the recorded file space strategy into `fcpl`.
void apply_file_space(const model::Node& root, hid_t fcpl);
// Adjusts the page buffer size of the file's own `fapl` copy as HDF5 1.14.5 does (see above).
void adjust_page_buffer(hid_t fcpl, hid_t fapl);

}  // namespace arraymorph::vol
