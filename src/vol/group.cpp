// group.cpp -- the group VOL class: H5Gcreate/H5Gopen/H5Gget_info/H5Gclose.
//
// A group is a Zarr v3 group node ("<file>/<path>/zarr.json"). Intermediate groups are created
// when the link creation property list asks for it (h5py always does).
#include <cstring>

#include "vol/attribute_store.hpp"
#include "model/creation_order.hpp"
#include "model/links.hpp"
#include "vol/callbacks.hpp"
#include "vol/external_links.hpp"
#include "vol/object_model.hpp"

namespace arraymorph::vol {
void* group_create(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t lcpl, hid_t gcpl, hid_t, hid_t,
                   void**) {
  Object* o = as_object(obj);
  o->file->require_writable("create a group");
  std::string base = resolve_path(*o, loc);
  model::Node node;
  node.kind = model::NodeKind::kGroup;
  record_attr_creation_order(gcpl, node);
  record_link_creation_order(gcpl, node);
  if (!name) {  // H5Gcreate_anon: nothing is stored until H5Olink names it (link.cpp)
    auto* g = new Object(Kind::kGroup, *o, "");
    g->anon_node = std::make_shared<model::Node>(std::move(node));
    return g;
  }
  // Soft links in the parents are followed; the new name must not be taken by a soft link either.
  std::string path = check(model::link_location(*o->file->tree, check(model::join_path(base, name))));
  if (check(model::link_info(*o->file->tree, path)).kind != model::LinkKind::kNone)
    throw Error(Status(Code::kAlreadyExists, "a link named '" + path + "' already exists"));
  check(o->file->tree->create(path, node, creates_parents(lcpl)));
  return new Object(Kind::kGroup, *o, path);
}

void* group_open(void* obj, const H5VL_loc_params_t* loc, const char* name, hid_t, hid_t, void**) {
  Object* o = as_object(obj);
  const std::string full = check(model::join_path(resolve_path(*o, loc), name ? name : "."));
  if (void* ext = open_external_as(*o, full, H5I_GROUP)) return ext;
  std::string path = check(model::resolve_object(*o->file->tree, full));
  auto node = check(o->file->tree->get(path));
  if (node->kind != model::NodeKind::kGroup)
    throw Error(invalid_argument("'" + path + "' is a " +
                                 (node->kind == model::NodeKind::kArray ? "dataset" : "committed datatype") +
                                 ", not a group"));
  return new Object(Kind::kGroup, *o, path);
}

herr_t group_get(void* obj, H5VL_group_get_args_t* args, hid_t, void**) {
  Object* o = as_object(obj);
  switch (args->op_type) {
    case H5VL_GROUP_GET_GCPL: {
      auto node = o->anon_node ? o->anon_node : check(o->file->tree->get(o->path));
      args->args.get_gcpl.gcpl_id = H5Pcreate(H5P_GROUP_CREATE);
      apply_attr_creation_order(*node, args->args.get_gcpl.gcpl_id);
      apply_link_creation_order(*node, args->args.get_gcpl.gcpl_id);
      return 0;
    }
    case H5VL_GROUP_GET_INFO: {
      std::string path = resolve_path(*o, &args->args.get_info.loc_params);
      if (o->anon_node && args->args.get_info.loc_params.type == H5VL_OBJECT_BY_SELF) {
        *args->args.get_info.ginfo = H5G_info_t{H5G_STORAGE_TYPE_COMPACT, 0, model::max_creation_index(*o->anon_node), false};
        return 0;
      }
      auto kids = check(model::link_names(*o->file->tree, path));
      H5G_info_t* info = args->args.get_info.ginfo;
      info->storage_type = H5G_STORAGE_TYPE_COMPACT;
      info->nlinks = kids.size();
      info->max_corder = model::max_creation_index(*check(o->file->tree->get(path)));
      info->mounted = false;
      return 0;
    }
  }
  throw Error(unsupported("group get operation " + std::to_string(args->op_type)));
}

herr_t group_specific(void* obj, H5VL_group_specific_args_t* args, hid_t, void**) {
  switch (args->op_type) {
    case H5VL_GROUP_FLUSH: {
      FileShared& f = *as_object(obj)->file;
      if (f.writable()) check(f.tree->flush(false));
      return 0;
    }
    case H5VL_GROUP_REFRESH:
      return 0;
    case H5VL_GROUP_MOUNT:
    case H5VL_GROUP_UNMOUNT:
      throw Error(unsupported("mounting files (H5Fmount/H5Funmount)"));
  }
  throw Error(unsupported("group specific operation " + std::to_string(args->op_type)));
}

namespace {

// H5Gget_objinfo (HDF5 1.6 API; h5py.h5g.get_objinfo): what the link names, from the same
// sources as H5Oget_info/H5Lget_info. arraymorph records no modification times, so mtime is 0
// (what HDF5 reports for an object created with track_times off), and there are no object headers.
void get_objinfo(Object& o, H5VL_native_group_get_objinfo_t& a) {
  FileShared& f = *o.file;
  std::string loc = resolve_path(o, &a.loc_params);
  H5G_stat_t* st = a.statbuf;
  const auto link = check(model::link_info(*f.tree, check(model::link_location(*f.tree, loc))));
  if (link.kind == model::LinkKind::kSoft && !a.follow_link) {
    if (st) {
      std::memset(st, 0, sizeof *st);
      st->type = H5G_LINK;
      st->linklen = link.target.size() + 1;
    }
    return;
  }
  const std::string path = check(model::resolve_object(*f.tree, loc));
  auto node = check(f.tree->get(path));
  if (!st) return;
  std::memset(st, 0, sizeof *st);
  st->fileno[0] = f.fileno;
  const H5O_token_t token = f.token_for(path);
  uint64_t id = 0;
  std::memcpy(&id, token.__data, sizeof id);
  st->objno[0] = static_cast<unsigned long>(id);
  st->objno[1] = static_cast<unsigned long>(sizeof(unsigned long) < sizeof id ? id >> 32 : 0);
  st->nlink = 1;
  st->type = node->kind == model::NodeKind::kGroup ? H5G_GROUP : H5G_DATASET;
  st->mtime = 0;
}

}  // namespace

herr_t group_optional(void* obj, H5VL_optional_args_t* args, hid_t, void**) {
  if (args->op_type == H5VL_NATIVE_GROUP_GET_OBJINFO) {
    get_objinfo(*as_object(obj), static_cast<H5VL_native_group_optional_args_t*>(args->args)->get_objinfo);
    return 0;
  }
  throw Error(unsupported("native group operation #" + std::to_string(args->op_type) +
                          (args->op_type == H5VL_NATIVE_GROUP_ITERATE_OLD ? " (H5Giterate)" : "")));
}

herr_t group_close(void* obj, hid_t, void**) {
  delete as_object(obj);
  return 0;
}

}  // namespace arraymorph::vol
