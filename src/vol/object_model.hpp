// object_model.hpp -- what the `void*` HDF5 hands back to arraymorph points at.
//
// Every VOL object is a heap-allocated `Object` (file, group, dataset); HDF5 owns the pointer
// between create/open and close. All objects of one open file share a `FileShared` (the store,
// the node tree, the settings captured at open), which lives until the last object closes, so a
// dataset may outlive its file id as HDF5 allows.
//
// Only src/vol/ sees these types. Thread-safety: HDF5 calls callbacks from one thread at a time.
#pragma once

#include <H5VLconnector.h>
#include <hdf5.h>

#include <map>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/hid.hpp"
#include "io/prefetch.hpp"
#include "io/readahead.hpp"
#include "model/hierarchy.hpp"
#include "model/write_lock.hpp"
#include "mpi/context.hpp"
#include "sched/thread_pool.hpp"

namespace arraymorph::io {
class ChunkCache;
}

namespace arraymorph::vol {

struct FileShared {
  std::string name;   // as given to H5Fcreate/H5Fopen (reported by H5Fget_name)
  std::string url;    // resolved location, for messages: "file:///root/demo.h5"
  Config config;
  std::shared_ptr<ThreadPool> pool;
  std::unique_ptr<model::Hierarchy> tree;
  unsigned intent = H5F_ACC_RDONLY;
  unsigned long fileno = 0;
  Hid fapl;  // copies of the creation/access property lists
  Hid fcpl;
  bool closed = false;  // every file id was closed; remaining objects flush on their own close
  // The VOL file objects HDF5 holds ids for, oldest first: one per H5Fcreate/H5Fopen (a second
  // open of an open file shares this state, vol/open_files.hpp), plus one made for
  // H5Iget_file_id when all of those were closed while objects of the file stayed open. Each
  // counts as an open file id until its file_close; not owned (HDF5 closes them).
  std::vector<struct Object*> file_objects;
  size_t open_file_ids() const { return file_objects.size(); }
  // The file object H5Iget_file_id / H5VL_OBJECT_GET_FILE returns (made and counted if none).
  struct Object* file_object_for_id(const std::shared_ptr<FileShared>& self);
  // Makes, counts and returns a new file object (H5Fcreate/H5Fopen); `self` owns this state.
  struct Object* add_file_object(const std::shared_ptr<FileShared>& self);
  // The last close failed (reported to its caller); the id stays open and may be closed again.
  bool close_failed = false;
  // Settled at process exit (flushed, or given up after a failed close): later closes free the
  // objects without touching the store.
  bool abandoned = false;
  // This process's write lock on the file (model/write_lock.hpp); null for read-only opens, MPI
  // files and when locking is off. Released when the last object of the file goes away.
  std::unique_ptr<model::WriteLock> write_lock;
  std::map<uint64_t, std::string> id_paths;  // object id -> last known path (model/object_ids.hpp)
  // Decoded-chunk cache of this file's datasets (config.cache_bytes), created by the first
  // H5Dread/H5Dwrite (src/vol/dataset_io.cpp) and dropped with the FileShared.
  std::shared_ptr<io::ChunkCache> chunk_cache;
  // The communicator of a file opened with H5Pset_fapl_mpio (parallel HDF5), or null. Metadata
  // changes are then made once by rank 0 (src/mpi/coordinated_store.hpp), and transfers with
  // H5Pset_dxpl_mpio(H5FD_MPIO_COLLECTIVE) are two-phase (src/mpi/collective_io.hpp).
  mpi::ContextPtr comm;

  // Object tokens: the object's stable id (model/object_ids.hpp) in the first 8 bytes (little
  // endian), then the tag "amorph02". Object references hold the same id.
  uint64_t id_for(const std::string& path);        // assigns one to a node without (writable file)
  std::string path_for_id(uint64_t id);            // throws NotFound naming the id
  H5O_token_t token_for(const std::string& path);
  std::string path_for(const H5O_token_t& token);  // throws NotFound

  bool writable() const { return (intent & H5F_ACC_RDWR) != 0; }
  // The exit hook's last attempt (vol/open_files.hpp).
  void finish_at_exit();
  // Flushes what is pending and releases the write lock; errors are logged (destructor path).
  void finish_quietly();
  void require_writable(const std::string& what) const;
  ~FileShared();
};

enum class Kind { kFile, kGroup, kDataset, kDatatype };

struct Object {
  Kind kind;
  // HDF5 1.14's native H5Lmove/H5Ldelete rename the open objects of *every* connector
  // (H5G_name_replace iterates all group and dataset ids and reads each as a native H5G_t or
  // H5D_t). It skips an object whose `path.full_path_r` is null, at byte 32 of an H5G_t and 24 of
  // an H5D_t: these null pointers sit at those offsets (after the vtable pointer and `kind`), so
  // a native move while arraymorph objects are open does not read our memory as HDF5's.
  const void* native_name_guard_[3] = {nullptr, nullptr, nullptr};
  std::shared_ptr<FileShared> file;
  std::string path;  // absolute HDF5 path of the object ("/" for the file); "" while anonymous
  // The file id this object was opened through (the serial of that file object; a file object's
  // own): H5Fget_obj_count/ids with H5F_OBJ_LOCAL count only these, so closing one of two opens
  // of a file (h5py closes the objects "of" a file before the file) leaves the other's alone.
  uint64_t handle = 0;
  // A file object (handle = a new serial).
  Object(Kind k, std::shared_ptr<FileShared> f, std::string p);
  // An object opened through `via` (same file, same handle).
  Object(Kind k, const Object& via, std::string p) : kind(k), file(via.file), path(std::move(p)), handle(via.handle) {}
  // H5Gcreate_anon / H5Tcommit_anon: the group's or committed datatype's metadata until H5Olink
  // names it (link.cpp); null otherwise. Only linking, H5Gget_create_plist/H5Gget_info (groups),
  // the type's own queries (datatypes) and closing work before that.
  std::shared_ptr<model::Node> anon_node;
  virtual ~Object() = default;
};

struct DatasetObject : Object {
  std::shared_ptr<model::Node> node;  // metadata (shared with the tree once linked)
  // H5Dcreate_anon (h5py's `f["x"] = data`): until H5Olink gives the dataset a name, its chunks
  // live in this private in-memory store and `path` is empty. Linking moves them to the file.
  std::shared_ptr<ObjectStore> anon_store;
  bool anonymous() const { return anon_store != nullptr; }
  ObjectStore& store() const { return anonymous() ? *anon_store : file->tree->store(); }
  std::string key_prefix() const { return anonymous() ? std::string("anon") : file->tree->key_prefix(path); }
  Hid type;   // file datatype
  Hid space;  // current extent + max dims
  Hid dcpl;
  Hid dapl;
  io::ReadAhead readahead;  // sequential-pass detection of this handle's reads (HDF5 thread)
  // Chunks this handle's reads waited for because their look-ahead was in flight (bumped by
  // io::read_chunks on any thread), and the value the pass detector saw last.
  std::atomic<uint64_t> readahead_waits{0};
  uint64_t readahead_waits_seen = 0;
  // Background fetches of the look-ahead (declared last: destroyed first, waiting for the steps
  // in flight while the store, cache and metadata above are still alive).
  io::Prefetcher prefetch;
  DatasetObject(const Object& via, std::string p) : Object(Kind::kDataset, via, std::move(p)) {
    readahead.cancel_hook = [this] { return prefetch.cancel(); };
  }
};

// A committed (named) datatype (H5Tcommit2/H5Tcommit_anon/H5Topen2; src/vol/datatype.cpp).
struct DatatypeObject : Object {
  Hid type;  // the stored type (transient copy)
  DatatypeObject(const Object& via, std::string p) : Object(Kind::kDatatype, via, std::move(p)) {}
};

inline Object* as_object(void* p) { return static_cast<Object*>(p); }
// The arraymorph object behind an HDF5 id, or nullptr when the id belongs to another connector
// (or is not an object id). Pushes no HDF5 error.
Object* owned_object(hid_t id);
DatasetObject* as_dataset(void* p);  // throws when p is not a dataset
// The arraymorph object behind a caller's id (public C API entry points), or InvalidArgument.
Object* require_owned(hid_t id);

// Ends the handle's sequential read pass (src/io/readahead.hpp) and counts look-ahead it never
// read in stats() (dataset close; src/vol/dataset_io.cpp).
void end_readahead(DatasetObject& d);

// Rebuilds d.space when the shared metadata's shape changed (H5Dset_extent through another
// handle of the same dataset).
void refresh_space(DatasetObject& d);
// H5Drefresh / H5Orefresh of a dataset: in a file opened read-only, re-reads its metadata from the
// store (a SWMR reader then sees a writer's flushed resizes) and forgets its cached chunks. A
// writable handle's own view is current already (one writer per file, model/write_lock.hpp).
void refresh_dataset(DatasetObject& d);

// True when a link creation property list asks for missing intermediate groups (h5py always does).
bool creates_parents(hid_t lcpl);

// Link creation order flags (H5Pset_link_creation_order; h5py track_order=True) of a group or file
// creation property list, kept in the group node (model/creation_order.hpp); apply_ sets them on a
// gcpl/fcpl returned by H5Gget_create_plist / H5Fget_create_plist.
void record_link_creation_order(hid_t gcpl, model::Node& group);
void apply_link_creation_order(const model::Node& group, hid_t gcpl);

// Links of `group` in the order of HDF5 index `idx`: H5_INDEX_NAME, or H5_INDEX_CRT_ORDER, which
// (as natively) fails naming the group when it does not track link creation order.
std::vector<std::string> links_by_index(FileShared& f, const std::string& group, H5_index_t idx);

// The absolute path named by (obj, loc_params); by-self gives the object's own path.
std::string resolve_path(const Object& obj, const H5VL_loc_params_t* loc);

// Builds the in-memory dataset object for a node (type, space, dcpl from metadata).
DatasetObject* make_dataset_object(const Object& via, const std::string& path, std::shared_ptr<model::Node> node,
                                   hid_t dapl);

}  // namespace arraymorph::vol
