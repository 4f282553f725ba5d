// links.hpp -- soft links, move/rename and deep copy on top of a Hierarchy (docs/format.md, "Links").
//
// Zarr has only a tree of nodes (one hard link per node). What HDF5 adds is kept here:
//  - Soft links live in their parent group's `_hdf5.links` = {"name": {"type": "soft",
//    "target": "/abs/or/rel"}}. Their names share the group's namespace with the child nodes.
//  - A move/rename copies every object of the moved subtree to the new key prefix (the
//    ObjectStore has no server-side copy or rename: GETs and PUTs in parallel batches), writes
//    the nodes' metadata at the new paths, then deletes the old prefix.
//  - A copy (H5Ocopy) is the same without the delete, optionally across two open files.
//
// Path vocabulary: a "link location" is an absolute path whose parent components have had their
// soft links resolved (the last component is the link itself); an "object path" has every
// component resolved (it names a node, or nothing when a link dangles).
//
// Only the Hierarchy's public interface is used. Thread-safety: HDF5 calling thread only.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "model/hierarchy.hpp"

namespace arraymorph::model {

enum class LinkKind { kNone, kHard, kSoft, kExternal };

struct LinkInfo {
  LinkKind kind = LinkKind::kNone;
  std::string target;  // soft links: the target as given; external links: the object path
  std::string file;    // external links: the target file name as given at creation
};

// External links (H5Lcreate_external, h5py.ExternalLink) are records in the same `_hdf5.links`:
// {"type": "external", "file": "<file name as given>", "path": "<object path in that file>"}.
// They are listed, deleted, moved and copied like soft links; resolving a path never crosses one
// (the VOL layer opens the other file, src/vol/external_links.hpp), and a path that continues
// below one fails naming it.

// Soft links recorded in a group node: name -> target.
std::map<std::string, std::string> soft_links_of(const Node& group);

// `path` with soft links followed in every component but the last.
Result<std::string> link_location(Hierarchy& tree, const std::string& path);
// `path` with soft links followed in every component (at most 16 soft links, like HDF5's
// default H5Pset_nlinks). The result may name nothing (dangling link): get() then says NotFound.
Result<std::string> resolve_object(Hierarchy& tree, const std::string& path);

// What the link at location `loc` is. A missing parent group gives kNone, not an error.
Result<LinkInfo> link_info(Hierarchy& tree, const std::string& loc);
// Which index orders a listing: names (HDF5's H5_INDEX_NAME) or creation order (H5_INDEX_CRT_ORDER,
// model/creation_order.hpp; groups that do not track it list in name order).
enum class LinkOrder { kName, kCreation };
// Child nodes and soft links of a group, merged, in the given order.
Result<std::vector<std::string>> link_names(Hierarchy& tree, const std::string& group,
                                            LinkOrder order = LinkOrder::kName);

// Records a soft link at `loc` (parents created as groups with `make_parents`).
Status create_soft_link(Hierarchy& tree, const std::string& loc, const std::string& target, bool make_parents);
// Records an external link at `loc` to object `path` of file `file`.
Status create_external_link(Hierarchy& tree, const std::string& loc, const std::string& file, const std::string& path,
                            bool make_parents);
// Deletes the link at `loc`: a soft or external link's record, or the node and all its objects.
Status delete_link(Hierarchy& tree, const std::string& loc);
// Renames the link `src` to `dst` (both link locations). AlreadyExists when dst is taken.
Status move_link(Hierarchy& tree, const std::string& src, const std::string& dst, bool make_parents);

struct CopyOptions {
  bool shallow = false;        // H5O_COPY_SHALLOW_HIERARCHY_FLAG: only the group's direct members
  bool expand_soft = false;    // H5O_COPY_EXPAND_SOFT_LINK_FLAG: copy soft links' targets as objects
  bool without_attrs = false;  // H5O_COPY_WITHOUT_ATTR_FLAG
  bool keep_ids = false;       // a move: the objects keep their identity (model/object_ids.hpp)
};
// Deep copy of the object at `src_path` (an object path in `src`) to the link location `dst_loc`
// in `dst` (which may be the same hierarchy): metadata, attributes and every chunk object.
Status copy_object(Hierarchy& src, const std::string& src_path, Hierarchy& dst, const std::string& dst_loc,
                   bool make_parents, const CopyOptions& options);

}  // namespace arraymorph::model
