// object_model.cpp -- see object_model.hpp.
#include "vol/object_model.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>

#include "arraymorph/arraymorph.h"
#include "io/chunk_cache.hpp"
#include "vol/vlen_elements.hpp"
#include "model/creation_order.hpp"
#include "common/log.hpp"
#include "vol/open_files.hpp"
#include "model/links.hpp"
#include "model/object_ids.hpp"
#include "vol/attribute_store.hpp"
#include "vol/type_map.hpp"

namespace arraymorph::vol {

void FileShared::require_writable(const std::string& what) const {
  if (!writable())
    throw Error(Status(Code::kPermissionDenied, "cannot " + what + ": file '" + name +
                                                    "' was opened read-only (no write intent)"));
}

void FileShared::finish_quietly() {
  if (abandoned) return;
  try {
    if (tree && writable() && tree->modified()) {
      Status s = tree->flush(true);
      if (!s.ok()) {
        AM_LOG(kError, "file", "unsaved changes of '" << url << "' are lost: " << s.message());
        abandoned = true;
        return;  // keep the lock: the file is not in a state another writer should trust blindly
      }
    }
    if (write_lock) {
      Status s = write_lock->release();
      if (!s.ok()) AM_LOG(kWarning, "lock", "releasing the write lock of '" << url << "': " << s.message());
      write_lock.reset();
    }
  } catch (const std::exception& e) {
    AM_LOG(kError, "file", "finishing '" << url << "': " << e.what());
  }
}

void FileShared::finish_at_exit() {
  if (abandoned || comm) return;  // MPI files are closed collectively by HDF5 as before
  if (close_failed) {
    AM_LOG(kError, "file", "closing '" << url << "' failed earlier and was not retried; its changes since the "
                                           "last successful flush are lost at exit");
    abandoned = true;
    return;
  }
  finish_quietly();
  abandoned = true;
}

namespace {
std::atomic<uint64_t> g_next_handle{1};
}

Object::Object(Kind k, std::shared_ptr<FileShared> f, std::string p)
    : kind(k), file(std::move(f)), path(std::move(p)), handle(g_next_handle++) {}

Object* FileShared::add_file_object(const std::shared_ptr<FileShared>& self) {
  auto* obj = new Object(Kind::kFile, self, "/");
  closed = false;
  file_objects.push_back(obj);
  if (file_objects.size() == 1) register_open_file(self);
  return obj;
}

Object* FileShared::file_object_for_id(const std::shared_ptr<FileShared>& self) {
  // HDF5 registers an id for a file object it has no id for: a new one is an open file id.
  return file_objects.empty() ? add_file_object(self) : file_objects.back();
}

FileShared::~FileShared() {
  // Last reference gone (objects outlived the file id): write what is still pending. Errors
  // cannot be reported from here (they are logged); H5Fclose already flushed and reported in the
  // normal case.
  finish_quietly();
  unregister_open_file(this);
}

namespace {
constexpr char kTokenTag[8] = {'a', 'm', 'o', 'r', 'p', 'h', '0', '2'};
}

uint64_t FileShared::id_for(const std::string& path) {
  auto node = check(tree->get(path));
  auto id = model::object_id(*node);
  if (!id && writable()) {
    // Written by a Zarr tool or by format 1: give it an identity now (model/object_ids.hpp).
    id = model::assign_object_id(*node);
    tree->mark_dirty(path);
  }
  const uint64_t v = id ? *id : model::path_derived_id(path);
  id_paths[v] = path;
  return v;
}

std::string FileShared::path_for_id(uint64_t id) {
  auto known = id_paths.find(id);
  if (known != id_paths.end()) {  // still there (not moved or deleted since)?
    auto node = tree->get(known->second);
    if (node.ok() && (model::object_id(*node.value()) ? *model::object_id(*node.value()) == id
                                                        : model::path_derived_id(known->second) == id))
      return known->second;
    id_paths.erase(known);
  }
  // Walk the tree once (one GET with consolidated metadata) and remember every object's id.
  std::vector<std::string> stack{"/"};
  std::string found;
  while (!stack.empty()) {
    const std::string p = stack.back();
    stack.pop_back();
    auto node = check(tree->get(p));
    const auto rec = model::object_id(*node);
    const uint64_t v = rec ? *rec : model::path_derived_id(p);
    id_paths[v] = p;
    if (v == id) found = p;
    if (node->kind != model::NodeKind::kGroup) continue;
    for (const auto& k : check(tree->children(p))) stack.push_back(p == "/" ? "/" + k : p + "/" + k);
  }
  if (found.empty()) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(id));
    throw Error(not_found("no object with id " + std::string(hex) + " in file '" + name +
                          "' (the referenced object was deleted, or the reference belongs to another file)"));
  }
  return found;
}

H5O_token_t FileShared::token_for(const std::string& path) {
  const uint64_t id = id_for(path);
  H5O_token_t tok;
  std::memset(&tok, 0, sizeof tok);
  for (int i = 0; i < 8; ++i) tok.__data[i] = static_cast<uint8_t>(id >> (8 * i));
  std::memcpy(tok.__data + 8, kTokenTag, 8);
  return tok;
}

std::string FileShared::path_for(const H5O_token_t& token) {
  if (std::memcmp(token.__data + 8, kTokenTag, 8) != 0)
    throw Error(not_found("the object token does not belong to an arraymorph file '" + name + "'"));
  uint64_t id = 0;
  for (int i = 0; i < 8; ++i) id |= static_cast<uint64_t>(token.__data[i]) << (8 * i);
  return path_for_id(id);
}

Object* owned_object(hid_t id) {
  Object* o = nullptr;
  H5E_BEGIN_TRY {
    char name[32] = {0};
    hid_t conn = H5VLget_connector_id(id);
    if (conn >= 0) {
      H5VLget_connector_name(id, name, sizeof name);
      H5VLclose(conn);
      if (std::strcmp(name, ARRAYMORPH_CONNECTOR_NAME) == 0) o = static_cast<Object*>(H5VLobject(id));
    }
  }
  H5E_END_TRY
  return o;
}

Object* require_owned(hid_t id) {
  Object* o = owned_object(id);
  if (!o) throw Error(invalid_argument("id is not an object opened through arraymorph"));
  return o;
}

bool creates_parents(hid_t lcpl) {
  unsigned flag = 0;
  if (lcpl >= 0 && lcpl != H5P_DEFAULT) H5Pget_create_intermediate_group(lcpl, &flag);
  return flag != 0;
}

DatasetObject* as_dataset(void* p) {
  auto* o = static_cast<Object*>(p);
  if (!o || o->kind != Kind::kDataset) throw Error(invalid_argument("object is not a dataset"));
  return static_cast<DatasetObject*>(o);
}

void record_link_creation_order(hid_t gcpl, model::Node& group) {
  unsigned flags = 0;
  if (gcpl < 0 || gcpl == H5P_DEFAULT || H5Pget_link_creation_order(gcpl, &flags) < 0) flags = 0;
  model::set_link_order_flags(group, flags);
}

void apply_link_creation_order(const model::Node& group, hid_t gcpl) {
  const unsigned flags = model::link_order_flags(group);
  if (flags && gcpl >= 0) H5Pset_link_creation_order(gcpl, flags);
}

std::vector<std::string> links_by_index(FileShared& f, const std::string& group, H5_index_t idx) {
  if (idx != H5_INDEX_CRT_ORDER) return check(model::link_names(*f.tree, group));
  if (!model::tracks_link_order(*check(f.tree->get(group))))
    throw Error(invalid_argument("creation order is not tracked for links in group '" + group +
                                 "' (create it with H5Pset_link_creation_order / h5py track_order=True)"));
  return check(model::link_names(*f.tree, group, model::LinkOrder::kCreation));
}

std::string resolve_path(const Object& obj, const H5VL_loc_params_t* loc) {
  if (!loc || loc->type == H5VL_OBJECT_BY_SELF) return obj.path;
  if (loc->type == H5VL_OBJECT_BY_NAME) return check(model::join_path(obj.path, loc->loc_data.loc_by_name.name));
  if (loc->type == H5VL_OBJECT_BY_TOKEN) return obj.file->path_for(*loc->loc_data.loc_by_token.token);
  if (loc->type == H5VL_OBJECT_BY_IDX) {
    const auto& by = loc->loc_data.loc_by_idx;
    std::string group = check(model::join_path(obj.path, by.name));
    auto kids = links_by_index(*obj.file, group, by.idx_type);
    if (by.n >= kids.size())
      throw Error(invalid_argument("index " + std::to_string(by.n) + " is out of range for group '" + group +
                                   "' with " + std::to_string(kids.size()) + " links"));
    size_t i = by.order == H5_ITER_DEC ? kids.size() - 1 - by.n : by.n;
    return group == "/" ? "/" + kids[i] : group + "/" + kids[i];
  }
  throw Error(invalid_argument("unknown location type"));
}

namespace {
hid_t space_from_meta(const model::ArrayMeta& meta) {
  if (meta.null_space) return H5Screate(H5S_NULL);
  if (meta.rank() == 0) return H5Screate(H5S_SCALAR);
  std::vector<hsize_t> dims(meta.shape.begin(), meta.shape.end()), maxd(dims);
  if (meta.max_shape && meta.max_shape->size() == dims.size())
    for (size_t i = 0; i < dims.size(); ++i)
      maxd[i] = (*meta.max_shape)[i] < 0 ? H5S_UNLIMITED : static_cast<hsize_t>((*meta.max_shape)[i]);
  return H5Screate_simple(static_cast<int>(dims.size()), dims.data(), maxd.data());
}
}  // namespace

void refresh_space(DatasetObject& d) {
  if (d.node->array->null_space) return;  // never changes
  const auto& shape = d.node->array->shape;
  const int rank = H5Sget_simple_extent_ndims(d.space.get());
  std::vector<hsize_t> dims(rank > 0 ? rank : 0);
  if (rank > 0) H5Sget_simple_extent_dims(d.space.get(), dims.data(), nullptr);
  if (dims.size() == shape.size() && std::equal(dims.begin(), dims.end(), shape.begin())) return;
  d.space.reset(space_from_meta(*d.node->array));
}

void refresh_dataset(DatasetObject& d) {
  if (d.file->writable() || d.anonymous()) return;
  check(d.file->tree->reload(d.path));
  if (d.file->chunk_cache) d.file->chunk_cache->erase_prefix(d.key_prefix() + "/");
  refresh_space(d);
}

DatasetObject* make_dataset_object(const Object& via, const std::string& path, std::shared_ptr<model::Node> node,
                                   hid_t dapl) {
  if (!node->array) throw Error(invalid_argument("'" + path + "' is a group, not a dataset"));
  const model::ArrayMeta& meta = *node->array;
  auto d = std::make_unique<DatasetObject>(via, path);
  d->node = node;
  d->type.reset(type_from_meta(meta));
  // Serialized elements (vol/vlen_elements.hpp) are as large in memory as their HDF5 type; the
  // Zarr data type (variable_length_bytes) says nothing about it.
  if (meta.data_type == "variable_length_bytes" && serialized_elements(d->type.get()))
    node->array->element_size = H5Tget_size(d->type.get());
  if (H5Tget_size(d->type.get()) != meta.element_size)
    throw Error(io_error("stored datatype of '" + path + "' does not match its Zarr data_type"));
  d->space.reset(space_from_meta(meta));
  d->dcpl.reset(dcpl_from_meta(meta, d->type.get()));
  apply_attr_creation_order(*node, d->dcpl.get());
  d->dapl.reset((dapl >= 0 && dapl != H5P_DEFAULT) ? H5Pcopy(dapl) : H5Pcreate(H5P_DATASET_ACCESS));
  return d.release();
}

}  // namespace arraymorph::vol
