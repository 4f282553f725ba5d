// hierarchy.hpp -- the node tree of one open arraymorph file, backed by its store.
//
// Paths are HDF5 absolute paths ("/", "/a/b"). Node metadata is loaded lazily (one GET of
// zarr.json the first time a path is touched) or all at once from consolidated metadata in the
// root zarr.json. Children of a group are listed on first iteration. Creations and deletions go to
// the store at once; metadata edits (attributes, resize) are written by flush() and at close,
// together with consolidated metadata, so a file with thousands of nodes opens with one GET.
//
// Commit protocol (docs/format.md): per-node zarr.json documents are the truth. Consolidated
// metadata in the store is trusted only because every writer withdraws it (rewrites the root
// without it) before its first change and writes it back, rebuilt, as the last step of a flush.
// A crash or failed request anywhere in between leaves the root without it, and readers fall back
// to per-node documents and store listings.
//
// Thread-safety: none; used only from the HDF5 calling thread (docs/design.md §3).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "model/zarr_metadata.hpp"

namespace arraymorph::model {

// "/a/b/" -> "/a/b", "a//b" -> "/a/b"; "." segments dropped. ".." is rejected.
Result<std::string> normalize_path(const std::string& path);
// Resolves `name` relative to `base` (an absolute path); absolute names ignore base.
Result<std::string> join_path(const std::string& base, const std::string& name);
std::string parent_path(const std::string& path);
std::string base_name(const std::string& path);

class Hierarchy {
 public:
  Hierarchy(std::shared_ptr<ObjectStore> store, std::string file_key);

  // Reads the root zarr.json (and consolidated metadata). NotFound when the file does not exist.
  Status open();
  // Creates an empty file: removes every object under the file's prefix, writes the root group.
  Status create_truncate();
  // True when the root zarr.json exists.
  Result<bool> file_exists();

  // The node at `path` (loaded on demand), or NotFound naming the path.
  Result<std::shared_ptr<Node>> get(const std::string& path);
  Result<bool> exists(const std::string& path);
  // Names (not paths) of a group's children, sorted by name (HDF5's default name index).
  Result<std::vector<std::string>> children(const std::string& path);
  // Creates a node; parents are created as groups when `make_parents` (HDF5 lcpl
  // create_intermediate_group). AlreadyExists / NotFound name the path.
  Status create(const std::string& path, Node node, bool make_parents);
  // Removes the node and every object below it from the store.
  Status remove(const std::string& path);
  // Re-reads the zarr.json of the node at `path` into the same Node object (H5Drefresh, so a SWMR
  // reader sees what a writer flushed since). A node with unflushed edits here is left as is.
  Status reload(const std::string& path);
  // Records an edit of a node's metadata; written by flush().
  void mark_dirty(const std::string& path);
  // Writes dirty nodes; with `consolidate`, also writes consolidated metadata in the root.
  Status flush(bool consolidate);
  // Prefix of a node's keys in the store ("demo.h5/a/b").
  std::string key_prefix(const std::string& path) const;
  const std::string& file_key() const { return file_key_; }
  ObjectStore& store() { return *store_; }
  std::shared_ptr<ObjectStore> store_ptr() { return store_; }
  bool modified() const { return modified_; }

 private:
  struct Entry {
    std::shared_ptr<Node> node;                  // null: known absent (or unreadable: see error)
    Status error;                                // its zarr.json exists but is corrupt
    std::optional<std::set<std::string>> kids;   // listed children
  };
  Status write_node(const std::string& path, const Node& node);
  // Before the first change of a session: withdraws consolidated metadata from the store (see
  // the commit protocol in docs/format.md). No-op when none is stored.
  Status begin_change();
  Result<std::shared_ptr<Node>> load(const std::string& path);
  Status load_all();  // every node, for consolidated metadata

  std::shared_ptr<ObjectStore> store_;
  std::string file_key_;
  std::map<std::string, Entry> entries_;
  std::set<std::string> dirty_;
  bool complete_ = false;  // entries_ holds the whole tree (consolidated or created here)
  // The tree was created by this handle (H5F_ACC_TRUNC), so a path missing from entries_ does not
  // exist. After consolidated metadata, a missing path is still looked up: another writer may
  // have added it without updating the consolidated copy (it is "stale").
  bool authoritative_ = false;
  bool modified_ = false;
  // The root zarr.json in the store carries consolidated metadata this handle read or wrote.
  bool consolidated_stored_ = false;
};

}  // namespace arraymorph::model
