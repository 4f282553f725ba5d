// registration.hpp -- hands HDF5 new ids for arraymorph objects created inside a callback
// (iteration callbacks need an id for the group being iterated).
//
// Thread-safety: HDF5 calling thread only.
#pragma once

#include <hdf5.h>

#include <memory>
#include <string>

#include "vol/object_model.hpp"

namespace arraymorph::vol {

// A new group, dataset or committed-datatype object for the node at `path` (an object path);
// `type` receives its HDF5 id type. Throws NotFound naming the path.
void* open_object(const Object& via, const std::string& path, H5I_type_t* type, hid_t dapl);

// Registers a new group/dataset object for `path` and returns its id; release with H5Idec_ref.
hid_t register_object(const Object& via, const std::string& path);

// Fills an H5O_info2_t for the node at `path`.
void object_info(FileShared& file, const std::string& path, H5O_info2_t* info);

}  // namespace arraymorph::vol
