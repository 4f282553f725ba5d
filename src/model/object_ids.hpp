// object_ids.hpp -- stable object identities (docs/format.md, "Object identity and references").
//
// Every node arraymorph creates gets `_hdf5.id`: 16 lowercase hex digits of a random 63-bit
// number, chosen once at creation and kept by moves and renames (the node's metadata travels
// with it) but not by copies (a copy is a new object). It is the object's HDF5 token and the
// content of object references, so references survive `move` as they do in native HDF5, where
// they hold the object header address.
//
// Nodes without `_hdf5.id` (written by Zarr tools or by format 1) get an id the first time one
// is needed when the file is writable; in a read-only file they are named by a path-derived id
// (top bit set, so it never collides with an assigned one), valid until the object is moved.
//
// A dataset's region references point into `_hdf5.regions` of that dataset: a list of base64
// H5Sencode2 selections; a region reference is (id, index into that list).
//
// Pure functions on Node values. Thread-safety: as Node.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "model/zarr_metadata.hpp"

namespace arraymorph::model {

// The node's recorded id, or nullopt when it has none (or it is malformed).
std::optional<uint64_t> object_id(const Node& node);
// Gives the node a fresh random id (replacing any). Returns it.
uint64_t assign_object_id(Node& node);
// Removes the id (a copied node gets a new one when created).
void clear_object_id(Node& node);
// Id of a node that has none, derived from its path (read-only files).
uint64_t path_derived_id(const std::string& path);

// Region selections of a dataset node (base64 of H5Sencode2).
// Index of `encoded` in `_hdf5.regions`, appending it when new; `changed` tells whether it was.
uint32_t region_index(Node& dataset, const std::string& encoded, bool* changed);
// The selection at `index`, or NotFound naming the index.
Result<std::string> region_at(const Node& dataset, uint32_t index);

}  // namespace arraymorph::model
