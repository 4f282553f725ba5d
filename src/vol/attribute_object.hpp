// attribute_object.hpp -- the VOL object behind an HDF5 attribute id (H5Acreate/H5Aopen).
//
// An attribute lives in its owner's zarr.json (attribute_value.hpp); the object only remembers
// which one (owner path + name) and its HDF5 type and dataspace. Values are re-read from the
// node on every H5Aread, so two open ids of one attribute always agree.
//
// It derives from Object so that HDF5 calls that accept an attribute id as a location
// (H5Iget_file_id, H5Iget_name, H5Oopen/H5Gopen relative to it) act on the owner, as native HDF5
// does. Its kind is kGroup -- never kDataset -- so as_dataset() cannot mistake it for a dataset.
//
// Thread-safety: HDF5 calling thread only.
#pragma once

#include <memory>
#include <string>

#include "vol/object_model.hpp"

namespace arraymorph::vol {

struct AttrObject : Object {
  std::string name;                 // attribute name
  Hid type;                         // stored HDF5 datatype
  Hid space;                        // dataspace
  bool unflushed = false;           // created but its zarr.json not yet written (write/close do)
  // The attribute reference view (vol/reference_values.hpp) when this id was opened or created:
  // H5Aget_type reports references in it for the id's whole life, so a caller that opened it
  // in one view (h5py) reads its type the same way later.
  bool new_style_refs = true;
  // Created with a committed datatype of this file: its id in hex (vol/committed_types.hpp), or "".
  std::string committed_type;
  AttrObject(const Object& via, std::string owner_path, std::string attr_name)
      : Object(Kind::kGroup, via, std::move(owner_path)), name(std::move(attr_name)) {}
};

// The attribute object behind `p`; throws InvalidArgument when p is not an attribute.
AttrObject* as_attribute(void* p);

}  // namespace arraymorph::vol
