// committed_types.hpp -- committed (named) datatypes as VOL objects, and the references datasets
// and attributes keep to the committed type they were created with (docs/format.md,
// "Committed datatypes"). Implemented in datatype.cpp.
//
// A dataset or attribute created with a committed type of the same file records the type's
// object id (16 hex digits) in `_hdf5.committed_type`; H5Dget_type/H5Aget_type then return the
// committed type (H5Tcommitted is true, as natively). The object keeps its own full copy of the
// type, so deleting the committed type changes nothing but that.
//
// Thread-safety: HDF5 calling thread only.
#pragma once

#include <hdf5.h>

#include <string>

#include "model/zarr_metadata.hpp"
#include "vol/object_model.hpp"

namespace arraymorph::vol {

// The VOL object of the committed datatype `node` at `path` (a kDatatype node), opened via `via`.
DatatypeObject* make_datatype_object(const Object& via, const std::string& path, const model::Node& node);

// The reference to record for an object of file `f` created with `type`: the committed type's id
// in hex when `type` is a committed datatype of `f` (named, not anonymous), else "".
std::string committed_type_ref(FileShared& f, hid_t type);

// A new HDF5 id of the committed datatype `ref` names (opened via `via`), or H5I_INVALID_HID when
// it no longer exists (the caller then returns its own copy of the type).
hid_t open_committed_type(const Object& via, const std::string& ref);

}  // namespace arraymorph::vol
