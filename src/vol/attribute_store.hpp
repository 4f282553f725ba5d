// attribute_store.hpp -- a node's attributes: node.attributes (the values any Zarr reader sees)
// and node.hdf5["attributes"|"attribute_order"|"attr_creation_order"] (exact HDF5 type and
// shape when JSON alone is not exact, creation order). Values are encoded by attribute_value.hpp.
//
// Thread-safety: calls H5T/H5S functions: HDF5 calling thread only.
#pragma once

#include <hdf5.h>

#include <string>
#include <vector>

#include "vol/attribute_value.hpp"

namespace arraymorph::vol {

bool has_attribute(const model::Node& node, const std::string& name);
// The stored record of attribute `name`; NotFound naming it when absent.
AttrRecord load_attribute(const model::Node& node, const std::string& name);
// Sets value (+ `_hdf5` entry when JSON alone is not exact, or when the attribute was created
// with a committed datatype: `committed_ref`, vol/committed_types.hpp); appends new names to the
// creation order.
void store_attribute(model::Node& node, const std::string& name, hid_t type, hid_t space, const EncodedValue& v,
                     const std::string& committed_ref = "");
// The committed-type reference recorded for attribute `name`, or "".
std::string attribute_committed_type(const model::Node& node, const std::string& name);
void erase_attribute(model::Node& node, const std::string& name);
void rename_attribute(model::Node& node, const std::string& from, const std::string& to);
// Attribute names in HDF5 index order: H5_INDEX_NAME (byte order) or H5_INDEX_CRT_ORDER.
std::vector<std::string> attribute_names(const model::Node& node, H5_index_t index, H5_iter_order_t order);
// Creation-order index of `name` (position in the creation order).
uint32_t attribute_creation_index(const model::Node& node, const std::string& name);

// Attribute creation-order flags (H5Pset_attr_creation_order: H5P_CRT_ORDER_TRACKED |
// H5P_CRT_ORDER_INDEXED) of an object creation property list (gcpl, dcpl or fcpl), kept in
// node.hdf5["attr_creation_order"]. h5py's `track_order=True` sets them and h5py iterates
// attributes by creation order only when the object's create plist reports them, so:
// group/dataset/file create call record_..., H5Gget_create_plist/H5Dget_create_plist/
// H5Fget_create_plist call apply_... (arraymorph tracks creation order for every attribute
// anyway; the flags only choose h5py's default iteration order).
void record_attr_creation_order(hid_t ocpl, model::Node& node);
void apply_attr_creation_order(const model::Node& node, hid_t ocpl);

}  // namespace arraymorph::vol
