// datatype.cpp -- the named (committed) datatype VOL class: H5Tcommit2, H5Tcommit_anon, H5Topen2,
// H5Tget_create_plist, H5Tflush/H5Trefresh, and the committed-type references of datasets and
// attributes (vol/committed_types.hpp).
//
// A committed datatype is a node of kind kDatatype: a Zarr group whose `_hdf5.committed_datatype`
// holds the base64 H5Tencode of the type (docs/format.md, "Committed datatypes"). HDF5 rebuilds
// the H5T_t of an opened one from H5VL_DATATYPE_GET_BINARY (the same H5Tencode bytes).
#include "vol/committed_types.hpp"

#include <cstdio>
#include <cstring>

#include "model/links.hpp"
#include "vol/attribute_store.hpp"
#include "vol/callbacks.hpp"
#include "vol/external_links.hpp"
#include "vol/object_model.hpp"
#include "vol/type_map.hpp"

namespace arraymorph::vol {
namespace {

DatatypeObject* as_datatype(void* p) {
  auto* o = static_cast<Object*>(p);
  if (!o || o->kind != Kind::kDatatype) throw Error(invalid_argument("object is not a committed datatype"));
  return static_cast<DatatypeObject*>(o);
}

// The stored type of a kDatatype node; `what` names it in errors.
hid_t type_of_node(const model::Node& node, const std::string& what) {
  const auto it = node.hdf5.find(model::kCommittedDatatypeKey);
  if (node.kind != model::NodeKind::kDatatype || it == node.hdf5.end() || !it->is_string())
    throw Error(invalid_argument("'" + what + "' is not a committed datatype"));
  auto bytes = model::base64_decode(it->get<std::string>());
  hid_t t = bytes.ok() && !bytes.value().empty() ? decode_type(bytes.value()) : -1;
  if (t < 0) throw Error(io_error("the stored datatype of '" + what + "' cannot be decoded"));
  return t;
}

std::string hex_id(uint64_t id) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(id));
  return hex;
}

}  // namespace

DatatypeObject* make_datatype_object(const Object& via, const std::string& path, const model::Node& node) {
  auto t = std::make_unique<DatatypeObject>(via, path);
  t->type.reset(type_of_node(node, path));
  return t.release();
}

std::string committed_type_ref(FileShared& f, hid_t type) {
  if (H5Tcommitted(type) <= 0) return "";
  Object* o = owned_object(type);
  // A type committed in another file (or through another connector) is stored as a plain type,
  // as native HDF5 does for a committed type of another file.
  if (!o || o->kind != Kind::kDatatype || o->file.get() != &f || o->path.empty()) return "";
  return hex_id(f.id_for(o->path));
}

hid_t open_committed_type(const Object& via, const std::string& ref) {
  if (ref.size() != 16) return H5I_INVALID_HID;
  std::string path;
  try {
    path = via.file->path_for_id(std::stoull(ref, nullptr, 16));
  } catch (const std::exception&) {
    return H5I_INVALID_HID;  // the committed type was deleted: the object keeps its own copy
  }
  auto node = via.file->tree->get(path);
  if (!node.ok() || node.value()->kind != model::NodeKind::kDatatype) return H5I_INVALID_HID;
  DatatypeObject* t = make_datatype_object(via, path, *node.value());
  hid_t id = H5VLwrap_register(t, H5I_DATATYPE);
  if (id < 0) {
    delete t;
    H5Eclear2(H5E_DEFAULT);
  }
  return id;
}

void* datatype_commit(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t type, hid_t lcpl, hid_t,
                      hid_t tapl, hid_t, void**) {
  Object* o = as_object(obj);
  // HDF5 passes an invalid TAPL through to the connector; native HDF5 fails on it, so do we.
  if (tapl != H5P_DEFAULT && H5Pisa_class(tapl, H5P_DATATYPE_ACCESS) <= 0)
    throw Error(invalid_argument("H5Tcommit: the datatype access property list is not valid"));
  o->file->require_writable("commit a datatype");
  model::Node node;
  node.kind = model::NodeKind::kDatatype;
  node.hdf5[model::kCommittedDatatypeKey] = encode_type(type);
  if (!name) {  // H5Tcommit_anon: nothing is stored until H5Olink names it (link.cpp)
    DatatypeObject* t = make_datatype_object(*o, "", node);
    t->anon_node = std::make_shared<model::Node>(std::move(node));
    return t;
  }
  // As for groups: soft links in the parents are followed; the name itself must be free.
  const std::string path =
      check(model::link_location(*o->file->tree, check(model::join_path(resolve_path(*o, loc), name))));
  if (check(model::link_info(*o->file->tree, path)).kind != model::LinkKind::kNone)
    throw Error(Status(Code::kAlreadyExists, "a link named '" + path + "' already exists"));
  check(o->file->tree->create(path, node, creates_parents(lcpl)));
  return make_datatype_object(*o, path, *check(o->file->tree->get(path)));
}

void* datatype_open(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t, hid_t, void**) {
  Object* o = as_object(obj);
  const std::string full = check(model::join_path(resolve_path(*o, loc), name ? name : "."));
  if (void* ext = open_external_as(*o, full, H5I_DATATYPE)) return ext;
  const std::string path = check(model::resolve_object(*o->file->tree, full));
  auto node = check(o->file->tree->get(path));
  if (node->kind != model::NodeKind::kDatatype)
    throw Error(invalid_argument("'" + path + "' is a " + (node->kind == model::NodeKind::kGroup ? "group" : "dataset") +
                                 ", not a committed datatype"));
  return make_datatype_object(*o, path, *node);
}

herr_t datatype_get(void* obj, H5VL_datatype_get_args_t* args, hid_t, void**) {
  DatatypeObject* t = as_datatype(obj);
  switch (args->op_type) {
    case H5VL_DATATYPE_GET_BINARY_SIZE:
      *args->args.get_binary_size.size = encode_type_bytes(t->type.get()).size();
      return 0;
    case H5VL_DATATYPE_GET_BINARY: {
      const auto bytes = encode_type_bytes(t->type.get());
      auto& a = args->args.get_binary;
      if (a.buf) {
        if (a.buf_size < bytes.size()) throw Error(invalid_argument("buffer too small for the encoded datatype"));
        std::memcpy(a.buf, bytes.data(), bytes.size());
      }
      return 0;
    }
    case H5VL_DATATYPE_GET_TCPL: {
      hid_t tcpl = H5Pcreate(H5P_DATATYPE_CREATE);
      if (tcpl < 0) throw Error(internal_error("cannot create a datatype creation property list"));
      args->args.get_tcpl.tcpl_id = tcpl;
      return 0;
    }
  }
  throw Error(unsupported("datatype get operation " + std::to_string(args->op_type)));
}

herr_t datatype_specific(void* obj, H5VL_datatype_specific_args_t* args, hid_t, void**) {
  DatatypeObject* t = as_datatype(obj);
  switch (args->op_type) {
    case H5VL_DATATYPE_FLUSH:
      if (t->file->writable()) check(t->file->tree->flush(false));
      return 0;
    case H5VL_DATATYPE_REFRESH:
      return 0;
  }
  throw Error(unsupported("datatype specific operation " + std::to_string(args->op_type)));
}

herr_t datatype_optional(void*, H5VL_optional_args_t* args, hid_t, void**) {
  throw Error(unsupported("native datatype operation #" + std::to_string(args->op_type)));
}

herr_t datatype_close(void* obj, hid_t, void**) {
  DatatypeObject* t = as_datatype(obj);
  auto f = t->file;
  // As in dataset_close: the last object of a closed file writes what is still pending.
  if (f->closed && f->writable() && f->tree->modified()) check(f->tree->flush(true));
  delete t;
  return 0;
}

}  // namespace arraymorph::vol
