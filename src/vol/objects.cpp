// objects.cpp -- see objects.hpp.
#include "vol/objects.hpp"

#include <algorithm>
#include <cstring>

#include "arraymorph/arraymorph.h"
#include "model/links.hpp"
#include "vol/attribute_value.hpp"
#include "vol/type_map.hpp"

namespace arraymorph::vol {

void FileShared::require_writable(const std::string& what) const {
  if (!writable())
    throw Error(Status(Code::kPermissionDenied, "cannot " + what + ": file '" + name +
                                                    "' was opened read-only (no write intent)"));
}

FileShared::~FileShared() {
  // Last reference gone (objects outlived the file id): write what is still pending. Errors
  // cannot be reported from here; H5Fclose already flushed and reported in the normal case.
  try {
    if (tree && writable() && tree->modified()) (void)tree->flush(true);
  } catch (...) {
  }
  if (fapl >= 0) H5Pclose(fapl);
  if (fcpl >= 0) H5Pclose(fcpl);
}

H5O_token_t FileShared::token_for(const std::string& path) {
  // FNV-1a over the path; the second half marks the token as ours (never all zero, which HDF5
  // treats as "undefined").
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : path) h = (h ^ c) * 1099511628211ull;
  H5O_token_t tok;
  std::memset(&tok, 0, sizeof tok);
  std::memcpy(tok.__data, &h, sizeof h);
  const char tag[8] = {'a', 'm', 'o', 'r', 'p', 'h', '0', '1'};
  std::memcpy(tok.__data + 8, tag, 8);
  token_paths[std::string(reinterpret_cast<const char*>(tok.__data), sizeof tok.__data)] = path;
  return tok;
}

std::string FileShared::path_for(const H5O_token_t& token) const {
  auto it = token_paths.find(std::string(reinterpret_cast<const char*>(token.__data), sizeof token.__data));
  if (it == token_paths.end()) throw Error(not_found("no object with this token in file '" + name + "'"));
  return it->second;
}

DatasetObject::~DatasetObject() {
  if (type >= 0) H5Tclose(type);
  if (space >= 0) H5Sclose(space);
  if (dcpl >= 0) H5Pclose(dcpl);
  if (dapl >= 0) H5Pclose(dapl);
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

std::string resolve_path(const Object& obj, const H5VL_loc_params_t* loc) {
  if (!loc || loc->type == H5VL_OBJECT_BY_SELF) return obj.path;
  if (loc->type == H5VL_OBJECT_BY_NAME) return check(model::join_path(obj.path, loc->loc_data.loc_by_name.name));
  if (loc->type == H5VL_OBJECT_BY_TOKEN) return obj.file->path_for(*loc->loc_data.loc_by_token.token);
  if (loc->type == H5VL_OBJECT_BY_IDX) {
    const auto& by = loc->loc_data.loc_by_idx;
    std::string group = check(model::join_path(obj.path, by.name));
    if (by.idx_type == H5_INDEX_CRT_ORDER)
      throw Error(unsupported("access by creation order (arraymorph does not track link creation order)"));
    auto kids = check(model::link_names(*obj.file->tree, group));
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
  if (meta.rank() == 0) return H5Screate(H5S_SCALAR);
  std::vector<hsize_t> dims(meta.shape.begin(), meta.shape.end()), maxd(dims);
  if (meta.max_shape && meta.max_shape->size() == dims.size())
    for (size_t i = 0; i < dims.size(); ++i)
      maxd[i] = (*meta.max_shape)[i] < 0 ? H5S_UNLIMITED : static_cast<hsize_t>((*meta.max_shape)[i]);
  return H5Screate_simple(static_cast<int>(dims.size()), dims.data(), maxd.data());
}
}  // namespace

void refresh_space(DatasetObject& d) {
  const auto& shape = d.node->array->shape;
  const int rank = H5Sget_simple_extent_ndims(d.space);
  std::vector<hsize_t> dims(rank > 0 ? rank : 0);
  if (rank > 0) H5Sget_simple_extent_dims(d.space, dims.data(), nullptr);
  if (dims.size() == shape.size() && std::equal(dims.begin(), dims.end(), shape.begin())) return;
  H5Sclose(d.space);
  d.space = space_from_meta(*d.node->array);
}

DatasetObject* make_dataset_object(std::shared_ptr<FileShared> file, const std::string& path,
                                   std::shared_ptr<model::Node> node, hid_t dapl) {
  if (!node->array) throw Error(invalid_argument("'" + path + "' is a group, not a dataset"));
  const model::ArrayMeta& meta = *node->array;
  auto d = std::make_unique<DatasetObject>(std::move(file), path);
  d->node = node;
  d->type = type_from_meta(meta);
  if (H5Tget_size(d->type) != meta.element_size)
    throw Error(io_error("stored datatype of '" + path + "' does not match its Zarr data_type"));
  d->space = space_from_meta(meta);
  d->dcpl = dcpl_from_meta(meta, d->type);
  apply_attr_creation_order(*node, d->dcpl);
  d->dapl = (dapl >= 0 && dapl != H5P_DEFAULT) ? H5Pcopy(dapl) : H5Pcreate(H5P_DATASET_ACCESS);
  return d.release();
}

}  // namespace arraymorph::vol
