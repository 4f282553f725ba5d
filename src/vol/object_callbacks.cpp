// object_callbacks.cpp -- the object VOL class: H5Oopen (groups, datasets, committed datatypes), H5Oget_info, H5Iget_name, H5Ovisit, H5Ocopy, tokens.
//
// Names given by path follow soft links (model/links.hpp) in every component, as HDF5 does.
#include <H5VLconnector_passthru.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "model/creation_order.hpp"
#include "model/links.hpp"

#include "vol/callbacks.hpp"
#include "vol/committed_types.hpp"
#include "vol/external_links.hpp"
#include "vol/object_model.hpp"
#include "vol/registration.hpp"

namespace arraymorph::vol {
namespace {

// The object named by (obj, loc), soft links followed (a dangling link names a missing path).
std::string object_path(const Object& o, const H5VL_loc_params_t* loc) {
  if (!loc || loc->type == H5VL_OBJECT_BY_SELF) return o.path;
  return check(model::resolve_object(*o.file->tree, resolve_path(o, loc)));
}

herr_t visit(const std::shared_ptr<FileShared>& f, const std::string& root, const std::string& path,
             H5_index_t index, H5_iter_order_t order, unsigned fields, H5O_iterate2_t op, void* op_data, hid_t oid) {
  std::string rel = path == root ? "." : (root == "/" ? path.substr(1) : path.substr(root.size() + 1));
  H5O_info2_t info;
  object_info(*f, path, &info);
  (void)fields;
  herr_t rc = op(oid, rel.c_str(), &info, op_data);
  if (rc != 0) return rc;
  if (info.type != H5O_TYPE_GROUP) return 0;
  // Soft links are not followed (as H5Ovisit); only child nodes are visited, in index order.
  auto names = links_by_index(*f, path, index);
  auto nodes = check(f->tree->children(path));
  std::vector<std::string> kids;
  for (const auto& n : names)
    if (std::binary_search(nodes.begin(), nodes.end(), n)) kids.push_back(n);
  if (order == H5_ITER_DEC) std::reverse(kids.begin(), kids.end());
  for (const auto& k : kids) {
    rc = visit(f, root, path == "/" ? "/" + k : path + "/" + k, index, order, fields, op, op_data, oid);
    if (rc != 0) return rc;
  }
  return 0;
}

}  // namespace

namespace {
H5O_type_t object_type(const model::Node& node) {
  switch (node.kind) {
    case model::NodeKind::kGroup: return H5O_TYPE_GROUP;
    case model::NodeKind::kArray: return H5O_TYPE_DATASET;
    case model::NodeKind::kDatatype: return H5O_TYPE_NAMED_DATATYPE;
  }
  return H5O_TYPE_UNKNOWN;
}
}  // namespace

void* open_object(const Object& via, const std::string& path, H5I_type_t* type, hid_t dapl) {
  auto node = check(via.file->tree->get(path));
  if (node->kind == model::NodeKind::kGroup) {
    if (type) *type = H5I_GROUP;
    return new Object(Kind::kGroup, via, path);
  }
  if (node->kind == model::NodeKind::kDatatype) {
    if (type) *type = H5I_DATATYPE;
    return make_datatype_object(via, path, *node);
  }
  if (type) *type = H5I_DATASET;
  return make_dataset_object(via, path, node, dapl);
}

hid_t register_object(const Object& via, const std::string& path) {
  H5I_type_t type = H5I_GROUP;
  void* obj = open_object(via, path, &type, H5P_DEFAULT);
  hid_t id = H5VLwrap_register(obj, type);
  if (id < 0) {
    delete static_cast<Object*>(obj);
    throw Error(internal_error("cannot register an id for '" + path + "'"));
  }
  return id;
}

void object_info(FileShared& f, const std::string& path, H5O_info2_t* info) {
  auto node = check(f.tree->get(path));
  std::memset(info, 0, sizeof *info);
  info->fileno = f.fileno;
  info->token = f.token_for(path);
  info->type = object_type(*node);
  info->rc = 1;
  info->num_attrs = node->attributes.is_object() ? node->attributes.size() : 0;
}

void* object_open(void* obj, const H5VL_loc_params_t* loc, H5I_type_t* opened_type, hid_t, void**) {
  Object* o = as_object(obj);
  if (loc && loc->type != H5VL_OBJECT_BY_SELF && loc->type != H5VL_OBJECT_BY_TOKEN)
    if (void* ext = open_if_external(*o, resolve_path(*o, loc), lapl_of(loc), opened_type)) return ext;
  return open_object(*o, object_path(*o, loc), opened_type, H5P_DEFAULT);
}

// H5Ocopy / h5py Group.copy: a deep copy (metadata, attributes, chunks), within one file or
// between two arraymorph files. Honours the shallow-hierarchy, expand-soft-links and
// without-attributes flags; the other flags concern native-only objects and change nothing here.
herr_t object_copy(void* src_obj, const H5VL_loc_params_t* loc1, const char* src_name, void* dst_obj,
                   const H5VL_loc_params_t* loc2, const char* dst_name, hid_t ocpypl, hid_t lcpl, hid_t,
                   void**) {
  Object* src = as_object(src_obj);
  Object* dst = as_object(dst_obj);
  dst->file->require_writable("copy an object into it");
  const std::string named = check(model::join_path(resolve_path(*src, loc1), src_name ? src_name : "."));
  // The source named through an external link: copied from the linked file (H5Ocopy follows it).
  H5I_type_t linked_type = H5I_BADID;
  std::unique_ptr<Object> linked(as_object(open_if_external(*src, named, H5P_DEFAULT, &linked_type)));
  if (linked) src = linked.get();
  const std::string from = linked ? linked->path : check(model::resolve_object(*src->file->tree, named));
  if (!dst_name || !*dst_name) throw Error(invalid_argument("H5Ocopy needs a destination name"));
  const std::string to = check(model::link_location(
      *dst->file->tree, check(model::join_path(resolve_path(*dst, loc2), dst_name))));
  unsigned flags = 0;
  if (ocpypl >= 0 && ocpypl != H5P_DEFAULT) H5Pget_copy_object(ocpypl, &flags);
  model::CopyOptions opts;
  opts.shallow = (flags & H5O_COPY_SHALLOW_HIERARCHY_FLAG) != 0;
  opts.expand_soft = (flags & H5O_COPY_EXPAND_SOFT_LINK_FLAG) != 0;
  opts.without_attrs = (flags & H5O_COPY_WITHOUT_ATTR_FLAG) != 0;
  // h5py passes its default lcpl, which creates missing intermediate groups.
  check(model::copy_object(*src->file->tree, from, *dst->file->tree, to, creates_parents(lcpl), opts));
  return 0;
}

herr_t object_get(void* obj, const H5VL_loc_params_t* loc, H5VL_object_get_args_t* args, hid_t, void**) {
  Object* o = as_object(obj);
  switch (args->op_type) {
    case H5VL_OBJECT_GET_FILE: {
      *args->args.get_file.file = o->file->file_object_for_id(o->file);
      return 0;
    }
    case H5VL_OBJECT_GET_NAME: {
      const std::string path = resolve_path(*o, loc);
      auto& a = args->args.get_name;
      if (a.name_len) *a.name_len = path.size();
      if (a.buf && a.buf_size > 0) {
        size_t n = std::min(a.buf_size - 1, path.size());
        std::memcpy(a.buf, path.data(), n);
        a.buf[n] = '\0';
      }
      return 0;
    }
    case H5VL_OBJECT_GET_TYPE: {
      auto node = check(o->file->tree->get(object_path(*o, loc)));
      *args->args.get_type.obj_type = object_type(*node);
      return 0;
    }
    case H5VL_OBJECT_GET_INFO:
      object_info(*o->file, object_path(*o, loc), args->args.get_info.oinfo);
      return 0;
  }
  throw Error(unsupported("object get operation " + std::to_string(args->op_type)));
}

herr_t object_specific(void* obj, const H5VL_loc_params_t* loc, H5VL_object_specific_args_t* args, hid_t, void**) {
  Object* o = as_object(obj);
  switch (args->op_type) {
    case H5VL_OBJECT_CHANGE_REF_COUNT:
      return 0;  // objects live while a link names them; there is no separate reference count
    case H5VL_OBJECT_EXISTS: {
      auto path = model::resolve_object(*o->file->tree, resolve_path(*o, loc));
      if (!path.ok() && path.status().code() != Code::kNotFound) check(path.status());
      *args->args.exists.exists = path.ok() && check(o->file->tree->exists(path.value()));
      return 0;
    }
    case H5VL_OBJECT_LOOKUP: {
      const std::string path = object_path(*o, loc);
      check(o->file->tree->get(path).status());
      *args->args.lookup.token_ptr = o->file->token_for(path);
      return 0;
    }
    case H5VL_OBJECT_VISIT: {
      auto& a = args->args.visit;
      const std::string root = object_path(*o, loc);
      hid_t oid = register_object(*o, root);
      herr_t rc;
      try {
        rc = visit(o->file, root, root, a.idx_type, a.order, a.fields, a.op, a.op_data, oid);
      } catch (...) {
        H5Idec_ref(oid);
        throw;
      }
      H5Idec_ref(oid);
      return rc;
    }
    case H5VL_OBJECT_FLUSH:
      if (o->file->writable()) check(o->file->tree->flush(false));
      return 0;
    case H5VL_OBJECT_REFRESH:
      if (auto* d = dynamic_cast<DatasetObject*>(o)) refresh_dataset(*d);
      return 0;
  }
  throw Error(unsupported("object specific operation " + std::to_string(args->op_type)));
}

herr_t object_optional(void*, const H5VL_loc_params_t*, H5VL_optional_args_t* args, hid_t, void**) {
  throw Error(unsupported("native object operation #" + std::to_string(args->op_type) +
                          " (e.g. object comments or native object headers)"));
}

herr_t token_cmp(void*, const H5O_token_t* t1, const H5O_token_t* t2, int* cmp) {
  *cmp = std::memcmp(t1, t2, sizeof(H5O_token_t));
  return 0;
}

}  // namespace arraymorph::vol
