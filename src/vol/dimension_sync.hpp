// dimension_sync.hpp -- keeps every array's Zarr `dimension_names` in step with its HDF5
// dimension scales and labels (docs/format.md, "Dimension scales and dimension_names";
// model/dimension_names.hpp computes the names).
//
// Called wherever what the names depend on changes, for every caller (h5py, HDF5_HL's H5DS* from
// C, plain H5A* calls): an attribute write/delete/rename of DIMENSION_LIST, DIMENSION_LABELS or
// CLASS (src/vol/attribute.cpp), a move or rename of a scale or of a group holding scales
// (src/vol/link.cpp), a deleted scale (its datasets' dimension falls back to the label or null),
// and arraymorph_sync_dimension_names.
//
// Thread-safety: HDF5 calling thread only (as FileShared).
#pragma once

#include <set>
#include <string>

#include "vol/object_model.hpp"

namespace arraymorph::vol {

// True for the attribute names `dimension_names` depends on.
bool affects_dimension_names(const std::string& attribute);

// Recomputes the names of the array at `path` (groups: nothing) and marks its zarr.json dirty
// when they changed and the file is writable. Returns whether they changed.
bool sync_dimension_names(FileShared& f, const std::string& path);

// The datasets that the scales in the subtree at `path` are attached to (their REFERENCE_LIST).
std::set<std::string> arrays_attached_to_scales_in(FileShared& f, const std::string& path);

// Syncs the arrays at `paths` that still exist and writes the changed ones at once.
void sync_arrays(FileShared& f, const std::set<std::string>& paths);

// After the object now at `path` was moved or renamed: the names of every array in its subtree
// (a scale names itself) and of every dataset a scale in the subtree is attached to.
void sync_after_move(FileShared& f, const std::string& path);

}  // namespace arraymorph::vol
