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

// Registers a new group/dataset object for `path` and returns its id; release with H5Idec_ref.
hid_t register_object(const Object& via, const std::string& path);

// Fills an H5O_info2_t for the node at `path`.
void object_info(FileShared& file, const std::string& path, H5O_info2_t* info);

}  // namespace arraymorph::vol
