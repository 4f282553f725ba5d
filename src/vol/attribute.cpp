// attribute.cpp -- the attribute VOL class: H5Acreate/H5Aopen/H5Aread/H5Awrite/H5Aget_*/
// H5Adelete/H5Aexists/H5Aiterate/H5Arename/H5Aclose.
//
// Attributes live in the owner's zarr.json: the plain JSON value under "attributes", exact HDF5
// type/shape under "_hdf5.attributes" when JSON alone loses them, and the creation order in
// "_hdf5.attribute_order" (attribute_value.hpp describes the mapping). Every change is written
// at once (flush of the owner's zarr.json); a freshly created attribute is written by its first
// H5Awrite or its H5Aclose, whichever comes first, so h5py's create+write costs one PUT.
#include <hdf5.h>
#include <H5VLconnector.h>
#include <H5VLnative.h>

#include <algorithm>
#include <vector>
#include <cstring>
#include <memory>

#include "vol/attribute_object.hpp"
#include "vol/attribute_store.hpp"
#include "vol/callbacks.hpp"
#include "vol/committed_types.hpp"
#include "vol/dimension_sync.hpp"
#include "vol/object_model.hpp"
#include "vol/reference_values.hpp"
#include "vol/registration.hpp"

namespace arraymorph::vol {

AttrObject* as_attribute(void* p) {
  auto* a = dynamic_cast<AttrObject*>(static_cast<Object*>(p));
  if (!a) throw Error(invalid_argument("object is not an attribute"));
  return a;
}

namespace {

constexpr const char* kReserved = "_hdf5";

std::string where(const std::string& name, const std::string& path) {
  return "attribute '" + name + "' of '" + path + "'";
}

// Path of the object owning the attributes named by (obj, loc). By-index locations name the
// object in loc_by_idx.name; the index then selects an attribute, not a link.
std::string owner_path(const Object& o, const H5VL_loc_params_t* loc) {
  if (loc && loc->type == H5VL_OBJECT_BY_IDX) return check(model::join_path(o.path, loc->loc_data.loc_by_idx.name));
  return resolve_path(o, loc);
}

std::shared_ptr<model::Node> node_at(FileShared& f, const std::string& path) { return check(f.tree->get(path)); }

std::string nth_name(const model::Node& node, const std::string& path, H5_index_t index, H5_iter_order_t order,
                     hsize_t n) {
  const auto names = attribute_names(node, index, order);
  if (n >= names.size())
    throw Error(invalid_argument("attribute index " + std::to_string(n) + " is out of range for '" + path + "' with " +
                                 std::to_string(names.size()) + " attributes"));
  return names[n];
}

void require_attribute(const model::Node& node, const std::string& name, const std::string& path) {
  if (!has_attribute(node, name)) throw Error(not_found(where(name, path) + " does not exist"));
}

void check_new_name(const model::Node& node, const std::string& name, const std::string& path) {
  if (name.empty()) throw Error(invalid_argument("attribute names must not be empty"));
  if (name == kReserved)
    throw Error(invalid_argument("the attribute name '_hdf5' is reserved by arraymorph for HDF5 metadata"));
  if (has_attribute(node, name)) throw Error(Status(Code::kAlreadyExists, where(name, path) + " already exists"));
}

// Writes the owner's zarr.json now, with its dimension_names refreshed when attribute `name`
// is one they depend on (vol/dimension_sync.hpp: every caller, h5py or H5DS* from C).
void persist(FileShared& f, const std::string& path, const std::string& name) {
  if (affects_dimension_names(name)) sync_dimension_names(f, path);
  f.tree->mark_dirty(path);
  check(f.tree->flush(false));
}

// New-style references (H5R_ref_t) in H5Aread/H5Awrite buffers of attributes of file `file`
// (vol/attribute_value.hpp). Stored, a reference is its object's id (vol/reference_values.hpp);
// in memory HDF5 builds and opens it from the object's token, which holds the same id.
class RefCodec {
 public:
  // `via`: the attribute the buffer belongs to (its file, and the file id objects open through).
  explicit RefCodec(const Object& via) : via_(via), file_(via.file) {
    codec_.encode = [this](const unsigned char* p) { return encode(p); };
    codec_.decode = [this](const json& j, unsigned char* p) { decode(j, p); };
  }
  RefCodec(const RefCodec&) = delete;
  RefCodec& operator=(const RefCodec&) = delete;
  ~RefCodec() {
    if (loc_ >= 0) H5Idec_ref(loc_);
  }
  const NewRefCodec* get() const { return &codec_; }

 private:
  json encode(const unsigned char* p) {
    const auto* ref = reinterpret_cast<const H5R_ref_t*>(p);
    bool null = true;
    for (size_t i = 0; i < sizeof(H5R_ref_t) && null; ++i) null = p[i] == 0;
    if (null) return nullptr;
    if (H5Rget_type(ref) != H5R_OBJECT2)
      throw Error(unsupported("new-style region and attribute references (H5Rcreate_region, H5Rcreate_attr) in "
                              "attribute values; store object references (H5Rcreate_object)"));
    hid_t id = H5Ropen_object(const_cast<H5R_ref_t*>(ref), H5P_DEFAULT, H5P_DEFAULT);
    if (id < 0) throw Error(invalid_argument("an attribute value holds a reference whose object cannot be opened"));
    Object* o = owned_object(id);
    std::string path = o ? o->path : "";
    const bool same_file = o && o->file == file_;
    H5Oclose(id);
    if (!same_file)
      throw Error(unsupported("a reference to an object of another file in an attribute value (arraymorph "
                              "stores references to objects of the attribute's own file only)"));
    unsigned char raw[sizeof(hobj_ref_t)];
    const uint64_t oid = file_->id_for(path);
    for (size_t i = 0; i < sizeof raw; ++i) raw[i] = static_cast<unsigned char>(oid >> (8 * i));
    return reference_json(RefKind::kObject, raw);
  }

  void decode(const json& j, unsigned char* p) {
    unsigned char raw[sizeof(hobj_ref_t)];
    reference_from_json(RefKind::kObject, j, raw);
    uint64_t oid = 0;
    for (size_t i = 0; i < sizeof raw; ++i) oid |= static_cast<uint64_t>(raw[i]) << (8 * i);
    std::memset(p, 0, sizeof(H5R_ref_t));
    if (oid == 0) return;
    const std::string path = file_->path_for_id(oid);
    if (loc_ < 0) loc_ = register_object(via_, "/");
    if (H5Rcreate_object(loc_, path.c_str(), H5P_DEFAULT, reinterpret_cast<H5R_ref_t*>(p)) < 0)
      throw Error(io_error("cannot make a reference to '" + path + "'"));
  }

  const Object& via_;
  std::shared_ptr<FileShared> file_;
  hid_t loc_ = H5I_INVALID_HID;  // the root group, registered at the first decoded reference
  NewRefCodec codec_;
};

void fill_info(const model::Node& node, const std::string& name, H5A_info_t* info) {
  AttrRecord rec = load_attribute(node, name);
  std::memset(info, 0, sizeof *info);
  info->corder_valid = true;
  info->corder = attribute_creation_index(node, name);
  bool ascii = true;
  for (unsigned char c : name) ascii = ascii && c < 0x80;
  info->cset = ascii ? H5T_CSET_ASCII : H5T_CSET_UTF8;
  info->data_size = space_elements(rec.space.get()) * H5Tget_size(rec.type.get());
}

void copy_name(const std::string& name, H5VL_attr_get_name_args_t& a) {
  if (a.attr_name_len) *a.attr_name_len = name.size();
  if (a.buf && a.buf_size > 0) {
    const size_t n = std::min(a.buf_size - 1, name.size());
    std::memcpy(a.buf, name.data(), n);
    a.buf[n] = '\0';
  }
}

// An id for the object whose attributes are iterated, released on scope exit.
struct ScopedId {
  hid_t id;
  ~ScopedId() {
    if (id >= 0) H5Idec_ref(id);
  }
};

}  // namespace

void* attr_create(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t type, hid_t space, hid_t, hid_t,
                  hid_t, void**) {
  Object* o = as_object(obj);
  const std::string path = resolve_path(*o, loc);
  const std::string aname = name ? name : "";
  o->file->require_writable("create " + where(aname, path));
  auto node = node_at(*o->file, path);
  check_new_name(*node, aname, path);
  const std::string committed = committed_type_ref(*o->file, type);  // before `type` becomes a copy
  // New-style references are stored as old-style ones (vol/reference_values.hpp).
  Hid stored(with_reference_style(type, false));
  type = stored.get();
  check_attribute_type(type);
  // A new attribute reads as zeros (NULL strings) until written, as in native HDF5.
  const hsize_t n = space_elements(space);
  std::vector<unsigned char> zeros(std::max<size_t>(1, n * H5Tget_size(type)), 0);
  EncodedValue v = encode_value(type, space, zeros.data());

  auto a = std::make_unique<AttrObject>(*o, path, aname);
  a->type.reset(H5Tcopy(type));
  a->space.reset(H5Scopy(space));
  a->new_style_refs = attribute_references_new_style();
  a->committed_type = committed;
  if (!a->type.valid() || !a->space.valid()) throw Error(invalid_argument("invalid datatype or dataspace for " + where(aname, path)));
  store_attribute(*node, aname, a->type.get(), a->space.get(), v, a->committed_type);
  o->file->tree->mark_dirty(path);
  a->unflushed = true;
  return a.release();
}

void* attr_open(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t, hid_t, void**) {
  Object* o = as_object(obj);
  const std::string path = owner_path(*o, loc);
  auto node = node_at(*o->file, path);
  std::string aname;
  if (loc && loc->type == H5VL_OBJECT_BY_IDX) {
    const auto& by = loc->loc_data.loc_by_idx;
    aname = nth_name(*node, path, by.idx_type, by.order, by.n);
  } else {
    if (!name) throw Error(invalid_argument("no attribute name given"));
    aname = name;
  }
  require_attribute(*node, aname, path);
  AttrRecord rec;
  try {
    rec = load_attribute(*node, aname);
  } catch (const Error& e) {
    throw Error(e.status().with_context("opening " + where(aname, path)));
  }
  auto a = std::make_unique<AttrObject>(*o, path, aname);
  a->type = std::move(rec.type);
  a->space = std::move(rec.space);
  a->new_style_refs = attribute_references_new_style();
  a->committed_type = attribute_committed_type(*node, aname);
  return a.release();
}

herr_t attr_read(void* attr, hid_t mem_type, void* buf, hid_t, void**) {
  AttrObject* a = as_attribute(attr);
  auto node = node_at(*a->file, a->path);
  require_attribute(*node, a->name, a->path);
  try {
    AttrRecord rec = load_attribute(*node, a->name);
    RefCodec refs(*a);
    read_into_memory(rec, mem_type, buf, refs.get());
  } catch (const Error& e) {
    throw Error(e.status().with_context("reading " + where(a->name, a->path)));
  }
  return 0;
}

herr_t attr_write(void* attr, hid_t mem_type, const void* buf, hid_t, void**) {
  AttrObject* a = as_attribute(attr);
  a->file->require_writable("write " + where(a->name, a->path));
  auto node = node_at(*a->file, a->path);
  require_attribute(*node, a->name, a->path);
  try {
    // Writing some members of a compound: the others keep the stored values (as in HDF5).
    std::vector<unsigned char> current;
    const bool subset = H5Tget_class(mem_type) == H5T_COMPOUND && H5Tget_class(a->type.get()) == H5T_COMPOUND &&
                        H5Tequal(mem_type, a->type.get()) <= 0 && H5Tdetect_class(a->type.get(), H5T_VLEN) <= 0 &&
                        H5Tdetect_class(a->type.get(), H5T_STRING) <= 0;
    if (subset) {
      current.assign(H5Tget_size(a->type.get()) * std::max<hssize_t>(H5Sget_simple_extent_npoints(a->space.get()), 0), 0);
      read_into_memory(load_attribute(*node, a->name), a->type.get(), current.data());
    }
    RefCodec refs(*a);
    EncodedValue v =
        encode_from_memory(a->type.get(), a->space.get(), mem_type, buf, subset ? current.data() : nullptr, refs.get());
    store_attribute(*node, a->name, a->type.get(), a->space.get(), v, a->committed_type);
  } catch (const Error& e) {
    throw Error(e.status().with_context("writing " + where(a->name, a->path)));
  }
  persist(*a->file, a->path, a->name);
  a->unflushed = false;
  return 0;
}

herr_t attr_get(void* obj, H5VL_attr_get_args_t* args, hid_t, void**) {
  switch (args->op_type) {
    case H5VL_ATTR_GET_ACPL: {
      hid_t acpl = H5Pcreate(H5P_ATTRIBUTE_CREATE);
      if (acpl < 0) throw Error(internal_error("cannot create an attribute creation property list"));
      args->args.get_acpl.acpl_id = acpl;
      return 0;
    }
    case H5VL_ATTR_GET_SPACE: {
      AttrObject* a = as_attribute(obj);
      args->args.get_space.space_id = H5Scopy(a->space.get());
      return args->args.get_space.space_id < 0 ? -1 : 0;
    }
    case H5VL_ATTR_GET_TYPE: {
      AttrObject* a = as_attribute(obj);
      // The stored type in the reference view the id was opened in (arraymorph_set_attribute_reference_style).
      hid_t t = a->committed_type.empty() ? H5I_INVALID_HID : open_committed_type(*a, a->committed_type);
      args->args.get_type.type_id = t >= 0 ? t : with_reference_style(a->type.get(), a->new_style_refs);
      return 0;
    }
    case H5VL_ATTR_GET_STORAGE_SIZE: {
      AttrObject* a = as_attribute(obj);
      *args->args.get_storage_size.data_size = space_elements(a->space.get()) * H5Tget_size(a->type.get());
      return 0;
    }
    case H5VL_ATTR_GET_NAME: {
      auto& g = args->args.get_name;
      if (g.loc_params.type == H5VL_OBJECT_BY_SELF) {
        copy_name(as_attribute(obj)->name, g);
        return 0;
      }
      if (g.loc_params.type != H5VL_OBJECT_BY_IDX) throw Error(invalid_argument("unknown location for an attribute name"));
      Object* o = as_object(obj);
      const std::string path = owner_path(*o, &g.loc_params);
      auto node = node_at(*o->file, path);
      const auto& by = g.loc_params.loc_data.loc_by_idx;
      copy_name(nth_name(*node, path, by.idx_type, by.order, by.n), g);
      return 0;
    }
    case H5VL_ATTR_GET_INFO: {
      auto& g = args->args.get_info;
      Object* o = as_object(obj);
      std::string path, aname;
      if (g.loc_params.type == H5VL_OBJECT_BY_SELF) {
        AttrObject* a = as_attribute(obj);
        path = a->path;
        aname = a->name;
      } else if (g.loc_params.type == H5VL_OBJECT_BY_IDX) {
        path = owner_path(*o, &g.loc_params);
        const auto& by = g.loc_params.loc_data.loc_by_idx;
        aname = nth_name(*node_at(*o->file, path), path, by.idx_type, by.order, by.n);
      } else {
        path = owner_path(*o, &g.loc_params);
        aname = g.attr_name ? g.attr_name : "";
      }
      auto node = node_at(*o->file, path);
      require_attribute(*node, aname, path);
      fill_info(*node, aname, g.ainfo);
      return 0;
    }
  }
  throw Error(unsupported("attribute get operation " + std::to_string(args->op_type)));
}

herr_t attr_specific(void* obj, const H5VL_loc_params_t* loc, H5VL_attr_specific_args_t* args, hid_t, void**) {
  Object* o = as_object(obj);
  FileShared& f = *o->file;
  const std::string path = owner_path(*o, loc);
  switch (args->op_type) {
    case H5VL_ATTR_EXISTS: {
      auto node = node_at(f, path);
      *args->args.exists.exists = has_attribute(*node, args->args.exists.name ? args->args.exists.name : "");
      return 0;
    }
    case H5VL_ATTR_DELETE:
    case H5VL_ATTR_DELETE_BY_IDX: {
      auto node = node_at(f, path);
      std::string aname;
      if (args->op_type == H5VL_ATTR_DELETE) {
        aname = args->args.del.name ? args->args.del.name : "";
      } else {
        const auto& by = args->args.delete_by_idx;
        aname = nth_name(*node, path, by.idx_type, by.order, by.n);
      }
      f.require_writable("delete " + where(aname, path));
      require_attribute(*node, aname, path);
      erase_attribute(*node, aname);
      persist(f, path, aname);
      return 0;
    }
    case H5VL_ATTR_RENAME: {
      const std::string from = args->args.rename.old_name ? args->args.rename.old_name : "";
      const std::string to = args->args.rename.new_name ? args->args.rename.new_name : "";
      f.require_writable("rename " + where(from, path));
      auto node = node_at(f, path);
      require_attribute(*node, from, path);
      if (from == to) return 0;
      check_new_name(*node, to, path);
      rename_attribute(*node, from, to);
      if (affects_dimension_names(to)) sync_dimension_names(f, path);
      persist(f, path, from);
      return 0;
    }
    case H5VL_ATTR_ITER: {
      auto& it = args->args.iterate;
      auto node = node_at(f, path);
      const auto names = attribute_names(*node, it.idx_type, it.order);
      const hsize_t start = it.idx ? *it.idx : 0;
      if (start > 0 && start >= names.size())
        throw Error(invalid_argument("attribute iteration start index " + std::to_string(start) +
                                     " is out of range for '" + path + "' with " + std::to_string(names.size()) +
                                     " attributes"));
      if (names.empty()) return 0;
      ScopedId oid{register_object(*o, path)};
      herr_t rc = 0;
      hsize_t i = start;
      for (; i < names.size() && rc == 0; ++i) {
        if (!has_attribute(*node, names[i])) continue;  // deleted by an earlier callback
        H5A_info_t info;
        fill_info(*node, names[i], &info);
        rc = it.op(oid.id, names[i].c_str(), &info, it.op_data);
      }
      if (it.idx) *it.idx = i;
      return rc;
    }
  }
  throw Error(unsupported("attribute specific operation " + std::to_string(args->op_type)));
}

herr_t attr_optional(void* obj, H5VL_optional_args_t* args, hid_t, void**) {
#ifndef H5_NO_DEPRECATED_SYMBOLS
  if (args->op_type == H5VL_NATIVE_ATTR_ITERATE_OLD) {
    // H5Aiterate1: creation order, operator without the info argument.
    auto* a = static_cast<H5VL_native_attr_optional_args_t*>(args->args);
    auto& old = a->iterate_old;
    Object* o = as_object(obj);
    auto node = node_at(*o->file, o->path);
    const auto names = attribute_names(*node, H5_INDEX_CRT_ORDER, H5_ITER_INC);
    unsigned i = old.attr_num ? *old.attr_num : 0;
    if (i > 0 && i >= names.size()) throw Error(invalid_argument("attribute iteration start index out of range"));
    herr_t rc = 0;
    for (; i < names.size() && rc == 0; ++i) rc = old.op(old.loc_id, names[i].c_str(), old.op_data);
    if (old.attr_num) *old.attr_num = i;
    return rc;
  }
#endif
  (void)obj;
  throw Error(unsupported("native attribute operation #" + std::to_string(args->op_type)));
}

herr_t attr_close(void* attr, hid_t, void**) {
  std::unique_ptr<AttrObject> a(as_attribute(attr));
  if (a->unflushed && a->file->writable()) persist(*a->file, a->path, a->name);
  return 0;
}

}  // namespace arraymorph::vol
