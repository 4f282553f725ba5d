// file.cpp -- the file VOL class: H5Fcreate/H5Fopen/H5Fclose and file queries.
//
// An arraymorph "file" is a key prefix holding a Zarr v3 hierarchy (docs/format.md). Modes keep
// HDF5's meaning: H5F_ACC_TRUNC removes every object under the prefix, H5F_ACC_EXCL fails when
// the file exists, opening a missing file fails with errno 2 in the message (h5py turns that into
// FileNotFoundError), read-only files refuse every change.
#include <algorithm>
#include <atomic>
#include <cstring>

#include "vol/connector_state.hpp"
#include "model/creation_order.hpp"
#include "common/log.hpp"
#include "mpi/coordinated_store.hpp"
#include "store/store_factory.hpp"
#include "vol/attribute_store.hpp"
#include "vol/callbacks.hpp"
#include "vol/connector_info.hpp"
#include "vol/file_driver.hpp"
#include "vol/file_properties.hpp"
#include "vol/object_model.hpp"
#include "vol/trampoline.hpp"
#include "vol/open_files.hpp"

namespace arraymorph::vol {
namespace {

std::atomic<unsigned long> g_next_fileno{1};

// `with_comm`: take the MPI-IO communicator of `fapl` (file create/open, which parallel HDF5 makes
// collective); queries that one rank may make alone must not (duplicating it is collective).
std::shared_ptr<FileShared> make_shared_file(const char* name, hid_t fapl, hid_t fcpl, bool with_comm) {
  if (!name || !*name) throw Error(invalid_argument("empty file name"));
  require_supported_driver(fapl, name);
  auto& state = ConnectorState::instance();
  Config config = check(state.effective_config(settings_from_fapl(fapl)));
  // configure(log_level=...) takes effect from the next open (the value was validated already).
  if (auto level = log::parse_level("log_level", config.log_level); level.ok()) log::set_level(level.value());
  StoreLocation loc = check(arraymorph::resolve_location(name, config));
  if (loc.key.empty()) throw Error(invalid_argument("file name '" + std::string(name) + "' names no key inside the store"));
  auto store = check(state.store(loc, config));
  arm_exit_hook(loc.platform == Platform::kS3 || loc.platform == Platform::kAzure);
  auto f = std::make_shared<FileShared>();
  if (with_comm) f->comm = check(mpi::from_fapl(fapl));
  store = mpi::coordinate_metadata(std::move(store), f->comm);
  f->name = name;
  f->url = store->describe() + "/" + loc.key;
  f->config = config;
  f->pool = state.pool(config);
  f->tree = std::make_unique<model::Hierarchy>(store, loc.key);
  f->fileno = g_next_fileno++;
  f->fapl.reset((fapl >= 0 && fapl != H5P_DEFAULT) ? H5Pcopy(fapl) : H5Pcreate(H5P_FILE_ACCESS));
  f->fcpl.reset((fcpl >= 0 && fcpl != H5P_DEFAULT) ? H5Pcopy(fcpl) : H5Pcreate(H5P_FILE_CREATE));
  return f;
}

void* new_file_object(const std::shared_ptr<FileShared>& f) { return f->add_file_object(f); }

// Takes the write lock unless locking is off (configuration or the fapl's H5Pset_file_locking)
// or the file is opened by MPI ranks together (they are one writer by construction).
void lock_for_writing(FileShared& f, hid_t fapl) {
  if (!f.config.file_locking || f.comm || mpi::active()) return;
  if (fapl >= 0 && fapl != H5P_DEFAULT) {
    hbool_t use = true, ignore = false;
    if (H5Pget_file_locking(fapl, &use, &ignore) >= 0 && !use) return;
  }
  f.write_lock = check(model::WriteLock::acquire(f.tree->store_ptr(), f.tree->file_key()));
}

// A user block is bytes at the start of a native HDF5 file that the program writes itself
// (h5py userblock_size=, then open(name, "r+b")); an arraymorph file has no such bytes, so
// reporting the size without them would be a silent lie.
void require_no_userblock(hid_t fcpl, const char* name) {
  hsize_t size = 0;
  if (fcpl >= 0 && fcpl != H5P_DEFAULT && H5Pget_userblock(fcpl, &size) >= 0 && size > 0)
    throw Error(unsupported("a user block of " + std::to_string(size) + " bytes for '" + std::string(name) +
                            "' (H5Pset_userblock, h5py userblock_size=): it is bytes at the start of a native "
                            "HDF5 file, and an arraymorph file is a set of objects"));
}

// A second open of an open file must ask for the same file locking as the first (HDF5 refuses it
// otherwise, "file locking flag values don't match"): both share one write lock.
void require_same_locking(const FileShared& open, hid_t fapl, const char* name) {
  auto locking = [](hid_t p) {
    hbool_t use = true, ignore = false;
    H5E_BEGIN_TRY { H5Pget_file_locking(p, &use, &ignore); }
    H5E_END_TRY
    return std::make_pair(static_cast<bool>(use), static_cast<bool>(ignore));
  };
  const auto want = locking(fapl == H5P_DEFAULT ? H5P_FILE_ACCESS_DEFAULT : fapl);
  const auto have = locking(open.fapl.get());
  if (want != have)
    throw Error(Status(Code::kConflict, "file '" + std::string(name) + "' is already open in this process with other "
                                            "file locking settings (H5Pset_file_locking use=" +
                                            std::to_string(have.first) + ", ignore_when_disabled=" +
                                            std::to_string(have.second) + "); HDF5 refuses this too"));
}

// Counts (and optionally lists) open ids of this file whose types are in `types`; with
// H5F_OBJ_LOCAL only those opened through the file id `self` (as natively: an H5Fopen of an open
// file is another file id, and h5py's close of one must not close the other's objects).
struct ObjIdsQuery {
  const Object* self;
  unsigned types;
  size_t max;
  hid_t* out;
  size_t count;
};

herr_t visit_id(hid_t id, void* udata) {
  auto* q = static_cast<ObjIdsQuery*>(udata);
  Object* o = owned_object(id);
  if (!o || o->file != q->self->file) return 0;
  if ((q->types & H5F_OBJ_LOCAL) && o->handle != q->self->handle) return 0;
  if (q->out && q->count < q->max) q->out[q->count] = id;
  ++q->count;
  return 0;
}

size_t collect_ids(const Object& self, unsigned types, size_t max, hid_t* out) {
  ObjIdsQuery q{&self, types, max, out, 0};
  H5E_BEGIN_TRY {
    if (types & H5F_OBJ_FILE) H5Iiterate(H5I_FILE, visit_id, &q);
    if (types & H5F_OBJ_DATASET) H5Iiterate(H5I_DATASET, visit_id, &q);
    if (types & H5F_OBJ_GROUP) H5Iiterate(H5I_GROUP, visit_id, &q);
    if (types & H5F_OBJ_DATATYPE) H5Iiterate(H5I_DATATYPE, visit_id, &q);
    if (types & H5F_OBJ_ATTR) H5Iiterate(H5I_ATTR, visit_id, &q);
  }
  H5E_END_TRY
  return q.count;
}

}  // namespace

void* file_create(const char* name, unsigned flags, hid_t fcpl, hid_t fapl, hid_t, void**) {
  keep_error_ids_alive();
  auto f = make_shared_file(name, fapl, fcpl, true);
  if (find_open_file(f->url))
    throw Error(Status(Code::kConflict, "unable to truncate file '" + std::string(name) +
                                            "': it is already open in this process; close it first"));
  if (flags & H5F_ACC_EXCL) {
    if (check(f->tree->file_exists()))
      throw Error(Status(Code::kAlreadyExists, "file '" + std::string(name) + "' already exists in " +
                                                   f->tree->store().describe() + " (errno = 17)"));
  }
  require_page_buffer_allowed(fcpl, fapl);
  require_no_userblock(fcpl, name);
  lock_for_writing(*f, fapl);
  check(f->tree->create_truncate());
  f->intent = H5F_ACC_RDWR | (flags & H5F_ACC_SWMR_WRITE);
  adjust_page_buffer(f->fcpl.get(), f->fapl.get());
  AM_LOG(kInfo, "file", "created " << f->url);
  {
    auto root = check(f->tree->get("/"));
    record_attr_creation_order(f->fcpl.get(), *root);
    record_link_creation_order(f->fcpl.get(), *root);
    const bool file_space = record_file_space(f->fcpl.get(), *root);
    if (file_space || root->hdf5.contains("attr_creation_order") || model::tracks_link_order(*root)) {
      f->tree->mark_dirty("/");
      check(f->tree->flush(false));
    }
  }
  return new_file_object(f);
}

void* file_open(const char* name, unsigned flags, hid_t fapl, hid_t, void**) {
  keep_error_ids_alive();
  auto f = make_shared_file(name, fapl, H5P_DEFAULT, true);
  if (auto open = find_open_file(f->url)) {
    // As HDF5: a second open of an open file shares its state (and sees its writes at once).
    if ((flags & H5F_ACC_RDWR) && !open->writable())
      throw Error(Status(Code::kConflict, "file '" + std::string(name) +
                                              "' is already open read-only in this process; close it before "
                                              "opening it for writing"));
    require_same_locking(*open, fapl, name);
    AM_LOG(kInfo, "file", "sharing the open file " << open->url);
    return new_file_object(open);
  }
  if (flags & H5F_ACC_RDWR) lock_for_writing(*f, fapl);
  check(f->tree->open());
  apply_attr_creation_order(*check(f->tree->get("/")), f->fcpl.get());
  apply_link_creation_order(*check(f->tree->get("/")), f->fcpl.get());
  apply_file_space(*check(f->tree->get("/")), f->fcpl.get());
  adjust_page_buffer(f->fcpl.get(), f->fapl.get());
  // H5Fget_intent reports the SWMR flags too (h5py's File.swmr_mode); see file_optional.
  f->intent = ((flags & H5F_ACC_RDWR) ? H5F_ACC_RDWR : H5F_ACC_RDONLY) |
              (flags & (H5F_ACC_SWMR_READ | H5F_ACC_SWMR_WRITE));
  AM_LOG(kInfo, "file", "opened " << f->url << (f->writable() ? " for writing" : " read-only"));
  return new_file_object(f);
}

herr_t file_get(void* obj, H5VL_file_get_args_t* args, hid_t, void**) {
  Object* o = as_object(obj);
  FileShared& f = *o->file;
  switch (args->op_type) {
    case H5VL_FILE_GET_CONT_INFO: {
      auto* info = args->args.get_cont_info.info;
      info->feature_flags = 0;
      info->token_size = H5O_MAX_TOKEN_SIZE;
      info->blob_id_size = 0;
      return 0;
    }
    case H5VL_FILE_GET_FAPL:
      args->args.get_fapl.fapl_id = H5Pcopy(f.fapl.get());
      return 0;
    case H5VL_FILE_GET_FCPL:
      args->args.get_fcpl.fcpl_id = H5Pcopy(f.fcpl.get());
      return 0;
    case H5VL_FILE_GET_FILENO:
      *args->args.get_fileno.fileno = f.fileno;
      return 0;
    case H5VL_FILE_GET_INTENT:
      *args->args.get_intent.flags = f.intent;
      return 0;
    case H5VL_FILE_GET_NAME: {
      auto& a = args->args.get_name;
      if (a.file_name_len) *a.file_name_len = f.name.size();
      if (a.buf && a.buf_size > 0) {
        size_t n = std::min(a.buf_size - 1, f.name.size());
        std::memcpy(a.buf, f.name.data(), n);
        a.buf[n] = '\0';
      }
      return 0;
    }
    case H5VL_FILE_GET_OBJ_COUNT:
      *args->args.get_obj_count.count = collect_ids(*o, args->args.get_obj_count.types, 0, nullptr);
      return 0;
    case H5VL_FILE_GET_OBJ_IDS: {
      auto& a = args->args.get_obj_ids;
      *a.count = std::min(collect_ids(*o, a.types, a.max_objs, a.oid_list), a.max_objs);
      return 0;
    }
  }
  throw Error(unsupported("file get operation " + std::to_string(args->op_type)));
}

herr_t file_specific(void* obj, H5VL_file_specific_args_t* args, hid_t, void**) {
  switch (args->op_type) {
    case H5VL_FILE_FLUSH: {
      FileShared& f = *as_object(obj)->file;
      if (f.writable()) check(f.tree->flush(true));
      return 0;
    }
    case H5VL_FILE_IS_ACCESSIBLE: {
      auto& a = args->args.is_accessible;
      auto f = make_shared_file(a.filename, a.fapl_id, H5P_DEFAULT, false);
      *a.accessible = check(f->tree->file_exists());
      return 0;
    }
    case H5VL_FILE_DELETE: {
      auto& a = args->args.del;
      auto f = make_shared_file(a.filename, a.fapl_id, H5P_DEFAULT, false);
      if (!check(f->tree->file_exists()))
        throw Error(not_found("file '" + std::string(a.filename) + "' does not exist (errno = 2)"));
      check(delete_prefix(f->tree->store(), f->tree->file_key() + "/").status());
      return 0;
    }
    case H5VL_FILE_IS_EQUAL: {
      auto& a = args->args.is_equal;
      *a.same_file = as_object(obj)->file == as_object(a.obj2)->file;
      return 0;
    }
    case H5VL_FILE_REOPEN:  // a new file id on the same open file (as natively: it shares its state)
      *args->args.reopen.file = new_file_object(as_object(obj)->file);
      return 0;
  }
  throw Error(unsupported("file specific operation " + std::to_string(args->op_type)));
}

// Native file operations that keep their meaning for an object store, or that are accepted and
// answered truthfully for a cache arraymorph does not have (vol/file_properties.hpp).
herr_t file_optional(void* obj, H5VL_optional_args_t* args, hid_t, void**) {
  FileShared& f = *as_object(obj)->file;
  auto* a = static_cast<H5VL_native_file_optional_args_t*>(args->args);
  switch (args->op_type) {
    case H5VL_NATIVE_FILE_START_SWMR_WRITE:
      // Every chunk is its own object and metadata is written at each resize/flush, so a reader
      // that refreshes (H5Drefresh re-reads zarr.json) sees what was flushed: nothing to switch.
      f.require_writable("start SWMR writing");
      f.intent |= H5F_ACC_SWMR_WRITE;
      return 0;
    case H5VL_NATIVE_FILE_GET_MDC_CONF:
      if (H5Pget_mdc_config(f.fapl.get(), a->get_mdc_config.config) < 0)
        throw Error(invalid_argument("H5Fget_mdc_config: bad H5AC_cache_config_t (version field?)"));
      return 0;
    case H5VL_NATIVE_FILE_SET_MDC_CONFIG:
      if (H5Pset_mdc_config(f.fapl.get(), const_cast<H5AC_cache_config_t*>(a->set_mdc_config.config)) < 0)
        throw Error(invalid_argument("H5Fset_mdc_config: invalid metadata cache configuration"));
      return 0;
    case H5VL_NATIVE_FILE_GET_MDC_HR:
      *a->get_mdc_hit_rate.hit_rate = 0.0;  // HDF5's metadata cache is never used for this file
      return 0;
    case H5VL_NATIVE_FILE_RESET_MDC_HIT_RATE:
      return 0;
    case H5VL_NATIVE_FILE_GET_MDC_SIZE: {
      auto& m = a->get_mdc_size;
      H5AC_cache_config_t conf{};
      conf.version = H5AC__CURR_CACHE_CONFIG_VERSION;
      H5Pget_mdc_config(f.fapl.get(), &conf);
      if (m.max_size) *m.max_size = conf.max_size;
      if (m.min_clean_size) *m.min_clean_size = conf.min_clean_fraction * conf.max_size;
      if (m.cur_size) *m.cur_size = 0;
      if (m.cur_num_entries) *m.cur_num_entries = 0;
      return 0;
    }
  }
  throw Error(unsupported("native file operation #" + std::to_string(args->op_type) +
                          " (H5F* calls specific to the native HDF5 file format)"));
}

herr_t file_close(void* obj, hid_t, void**) {
  Object* o = as_object(obj);
  auto f = o->file;
  // Flush before freeing: when it fails HDF5 keeps the id open (and closes it again later), so
  // the object must stay valid; it stays open, as a native H5Fclose failure leaves the file, and
  // a later H5Fclose tries again. After the exit hook settled the file, nothing is written.
  if (!f->abandoned && f->writable() && f->tree->modified() && f->open_file_ids() <= 1) {
    Status s = f->tree->flush(true);
    if (!s.ok()) {
      f->close_failed = true;
      AM_LOG(kError, "file", "closing " << f->url << " failed: " << s.message());
      throw Error(s);
    }
  }
  f->close_failed = false;
  auto& objs = f->file_objects;
  objs.erase(std::remove(objs.begin(), objs.end(), o), objs.end());
  if (objs.empty()) f->closed = true;
  AM_LOG(kInfo, "file", "closed " << f->url);
  delete o;
  return 0;
}

}  // namespace arraymorph::vol
