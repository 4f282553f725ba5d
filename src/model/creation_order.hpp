// creation_order.hpp -- link creation order of groups (HDF5 H5Pset_link_creation_order, h5py
// `track_order=True`), kept in the group's `_hdf5` (docs/format.md, "Creation order").
//
// A group created with link creation order tracked records the flags in
// `_hdf5.link_creation_order` (H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) and the names of
// its links, oldest first, in `_hdf5.link_order`. Every link made in the group (child node, soft
// link, the destination of a move) is appended; a deleted link is dropped. Names present in the
// group but missing from the list (written by a Zarr tool that knows nothing of `_hdf5`) are
// listed after the recorded ones, in name order, so listing never loses a member.
//
// Pure functions on Node values; the Hierarchy calls note_link_added/note_link_removed when it
// creates or removes a child. Thread-safety: as Node (value type).
#pragma once

#include <string>
#include <vector>

#include "model/zarr_metadata.hpp"

namespace arraymorph::model {

// H5P_CRT_ORDER_* flags recorded for the group (0 when creation order is not tracked).
unsigned link_order_flags(const Node& group);
void set_link_order_flags(Node& group, unsigned flags);
bool tracks_link_order(const Node& group);

// Records that link `name` was made in `group` (no-op unless tracked or when already listed).
// Returns true when the node changed (the caller marks it dirty).
bool note_link_added(Node& group, const std::string& name);
// Drops `name` from the recorded order; returns true when the node changed.
bool note_link_removed(Node& group, const std::string& name);

// `names` (every link of the group, any order) in creation order: recorded names first, then
// unrecorded ones by name.
std::vector<std::string> in_creation_order(const Node& group, const std::vector<std::string>& names);
// Creation index of link `name` (its position in the recorded order), or -1 when not recorded.
long long creation_index(const Node& group, const std::string& name);
// Number of links ever recorded (H5Gget_info max_corder).
long long max_creation_index(const Node& group);

}  // namespace arraymorph::model
