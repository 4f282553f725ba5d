// link.cpp -- the link VOL class: H5Lcreate_soft/_external, H5Lmove, H5Lcopy (soft and external
// links), H5Lexists,
// H5Ldelete, H5Literate/H5Lvisit, H5Lget_info, H5Lget_val.
//
// Every child node of a group is a hard link named after its key segment; soft links are records
// in the group's `_hdf5.links` (src/model/links.hpp). Links are listed in name order (HDF5's
// default name index) or, in groups that track it, creation order (model/creation_order.hpp),
// nodes and soft/external links merged. External links (H5Lcreate_external) are records like soft
// links; following one opens the other file (vol/external_links.hpp). Second hard links to an
// existing object and user-defined links fail with a clear "not supported" error (Zarr has only a
// tree).
#include <cstring>
#include <optional>

#include "arraymorph/arraymorph.h"
#include "model/creation_order.hpp"
#include "model/links.hpp"
#include "vol/callbacks.hpp"
#include "vol/dimension_sync.hpp"
#include "vol/external_links.hpp"
#include "vol/object_model.hpp"
#include "vol/registration.hpp"

namespace arraymorph::vol {
namespace {

std::string child_path(const std::string& group, const std::string& name) {
  return group == "/" ? "/" + name : group + "/" + name;
}

// The link location named by (obj, loc): soft links in the parent components followed.
std::string link_loc(const Object& o, const H5VL_loc_params_t* loc) {
  return check(model::link_location(*o.file->tree, resolve_path(o, loc)));
}

void fill_link_info(FileShared& f, const std::string& path, const model::LinkInfo& link, H5L_info2_t* info) {
  std::memset(info, 0, sizeof *info);
  if (path != "/") {
    auto parent = f.tree->get(model::parent_path(path));
    const long long corder = parent.ok() ? model::creation_index(*parent.value(), model::base_name(path)) : -1;
    info->corder_valid = corder >= 0;
    info->corder = corder >= 0 ? corder : 0;
  }
  info->cset = H5T_CSET_UTF8;
  if (link.kind == model::LinkKind::kSoft) {
    info->type = H5L_TYPE_SOFT;
    info->u.val_size = link.target.size() + 1;
  } else if (link.kind == model::LinkKind::kExternal) {
    info->type = H5L_TYPE_EXTERNAL;
    info->u.val_size = pack_external_value(link.file, link.target).size();
  } else {
    info->type = H5L_TYPE_HARD;
    info->u.token = f.token_for(path);
  }
}

// Calls op for each link of `group` (recursively with `recursive`), names relative to `root`.
// Soft links are reported but never followed, as H5Lvisit does.
herr_t iterate(const std::shared_ptr<FileShared>& f, const std::string& root, const std::string& group, bool recursive,
               H5_index_t index, H5_iter_order_t order, hsize_t* idx, H5L_iterate2_t op, void* op_data, hid_t gid) {
  auto kids = links_by_index(*f, group, index);
  if (order == H5_ITER_DEC) std::reverse(kids.begin(), kids.end());
  hsize_t start = (idx && !recursive) ? *idx : 0;
  for (hsize_t i = start; i < kids.size(); ++i) {
    const std::string path = child_path(group, kids[i]);
    std::string rel = root == "/" ? path.substr(1) : path.substr(root.size() + 1);
    const model::LinkInfo link = check(model::link_info(*f->tree, path));
    H5L_info2_t info;
    fill_link_info(*f, path, link, &info);
    herr_t rc = op(gid, rel.c_str(), &info, op_data);
    if (idx && !recursive) *idx = i + 1;
    if (rc != 0) return rc;
    if (recursive && link.kind == model::LinkKind::kHard) {
      auto node = check(f->tree->get(path));
      if (node->kind == model::NodeKind::kGroup) {
        rc = iterate(f, root, path, true, index, order, nullptr, op, op_data, gid);
        if (rc != 0) return rc;
      }
    }
  }
  return 0;
}


// Gives an anonymous dataset (H5Dcreate_anon) its name: writes its metadata at `path` and moves
// the chunks written so far from its private memory store into the file.
void link_anonymous(DatasetObject& d, const std::string& path, bool parents) {
  model::Hierarchy& tree = *d.file->tree;
  if (check(model::link_info(tree, path)).kind != model::LinkKind::kNone)
    throw Error(Status(Code::kAlreadyExists, "object '" + path + "' already exists"));
  check(tree.create(path, *d.node, parents));
  auto objs = check(list_all(*d.anon_store, "anon/"));
  std::vector<Bytes> bytes;
  bytes.reserve(objs.size());
  for (const auto& o : objs) bytes.push_back(std::move(*check(d.anon_store->get(o.key))));
  std::vector<PutRequest> puts;
  const std::string prefix = tree.key_prefix(path);
  for (size_t i = 0; i < objs.size(); ++i)
    puts.push_back({prefix + objs[i].key.substr(4), bytes[i].data(), bytes[i].size()});
  Status first;
  tree.store().put_many(puts, [&](size_t i, Status&& st) {
    if (!st.ok() && first.ok()) first = st.with_context("writing chunk '" + puts[i].key + "'");
  });
  check(first);
  d.anon_store.reset();
  d.path = path;
  d.node = check(tree.get(path));
}

// After a move, open ids of objects under `from` (in the same open file) take their new name, as
// they do in native HDF5; open datasets also pick up their node at the new path.
struct Renamed {
  FileShared* file;
  std::string from, to;
};

herr_t rename_open_object(hid_t id, void* udata) {
  auto* r = static_cast<Renamed*>(udata);
  Object* o = owned_object(id);
  if (!o || o->file.get() != r->file || o->path.empty()) return 0;
  const std::string& p = o->path;
  if (p != r->from && !(p.size() > r->from.size() && p.compare(0, r->from.size(), r->from) == 0 && p[r->from.size()] == '/'))
    return 0;
  o->path = r->to + p.substr(r->from.size());
  if (o->kind == Kind::kDataset) {
    auto got = o->file->tree->get(o->path);
    if (got.ok()) static_cast<DatasetObject*>(o)->node = got.value();
  }
  return 0;
}

void rename_open_objects(FileShared& f, const std::string& from, const std::string& to) {
  Renamed r{&f, from, to};
  H5E_BEGIN_TRY {
    for (H5I_type_t t : {H5I_GROUP, H5I_DATASET, H5I_ATTR}) H5Iiterate(t, rename_open_object, &r);
  }
  H5E_END_TRY
}

// HDF5 passes invalid LCPL/LAPL ids through to the connector; native HDF5 fails on them, so do we.
void check_link_plists(const char* call, hid_t lcpl, hid_t lapl) {
  if (lcpl != H5P_DEFAULT && H5Pisa_class(lcpl, H5P_LINK_CREATE) <= 0)
    throw Error(invalid_argument(std::string(call) + ": the link creation property list is not valid"));
  if (lapl != H5P_DEFAULT && H5Pisa_class(lapl, H5P_LINK_ACCESS) <= 0)
    throw Error(invalid_argument(std::string(call) + ": the link access property list is not valid"));
}

std::shared_ptr<FileShared> same_file(Object* a, Object* b, const char* what) {
  if (b && a->file != b->file)
    throw Error(unsupported(std::string(what) + " between two files (links cannot cross files; use H5Ocopy)"));
  return a->file;
}

}  // namespace

herr_t link_create(H5VL_link_create_args_t* args, void* obj, const H5VL_loc_params_t* loc, hid_t lcpl, hid_t lapl,
                   hid_t, void**) {
  switch (args->op_type) {
    case H5VL_LINK_CREATE_HARD: {
      Object* where = as_object(obj ? obj : args->args.hard.curr_obj);
      Object* target = as_object(args->args.hard.curr_obj ? args->args.hard.curr_obj : obj);
      where->file->require_writable("create a link");
      const std::string path = link_loc(*where, loc);
      if (target->kind == Kind::kDataset && static_cast<DatasetObject*>(target)->anonymous() &&
          args->args.hard.curr_loc_params.type == H5VL_OBJECT_BY_SELF) {
        if (target->file != where->file)
          throw Error(invalid_argument("cannot link an object into another file ('" + where->file->name + "')"));
        link_anonymous(*static_cast<DatasetObject*>(target), path, creates_parents(lcpl));
        return 0;
      }
      if (target->anon_node && args->args.hard.curr_loc_params.type == H5VL_OBJECT_BY_SELF) {
        if (target->file != where->file)
          throw Error(invalid_argument("cannot link an object into another file ('" + where->file->name + "')"));
        if (check(model::link_info(*where->file->tree, path)).kind != model::LinkKind::kNone)
          throw Error(Status(Code::kAlreadyExists, "a link named '" + path + "' already exists"));
        check(where->file->tree->create(path, *target->anon_node, creates_parents(lcpl)));
        target->path = path;
        target->anon_node.reset();
        return 0;
      }
      throw Error(unsupported("a second hard link to an existing object (H5Lcreate_hard/H5Olink to '" + path +
                              "'; Zarr stores a tree, so an object has exactly one name -- use a soft link, "
                              "or copy the object)"));
    }
    case H5VL_LINK_CREATE_SOFT: {
      Object* where = as_object(obj);
      check_link_plists("H5Lcreate_soft", lcpl, lapl);
      where->file->require_writable("create a soft link");
      const char* target = args->args.soft.target;
      check(model::create_soft_link(*where->file->tree, link_loc(*where, loc), target ? target : "",
                                    creates_parents(lcpl)));
      return 0;
    }
    case H5VL_LINK_CREATE_UD: {
      if (args->args.ud.type != H5L_TYPE_EXTERNAL) throw Error(unsupported("user-defined links (H5Lcreate_ud)"));
      Object* where = as_object(obj);
      check_link_plists("H5Lcreate_external", lcpl, lapl);
      where->file->require_writable("create an external link");
      std::string file, path;
      unpack_external_value(args->args.ud.buf, args->args.ud.buf_size, &file, &path);
      check(model::create_external_link(*where->file->tree, link_loc(*where, loc), file, path, creates_parents(lcpl)));
      return 0;
    }
  }
  throw Error(unsupported("link create operation"));
}

namespace {
// The file and the two link paths of H5Lcopy / H5Lmove (either object may be NULL: HDF5 passes
// one when both locations are in the same place). Both must be in one writable file.
struct LinkEnds {
  std::shared_ptr<FileShared> file;
  std::string from, to;
};
LinkEnds link_ends(void* src_obj, const H5VL_loc_params_t* loc1, void* dst_obj, const H5VL_loc_params_t* loc2,
                   const char* doing, const char* change) {
  Object* src = as_object(src_obj ? src_obj : dst_obj);
  Object* dst = as_object(dst_obj ? dst_obj : src_obj);
  auto f = same_file(src, dst, doing);
  f->require_writable(change);
  return {f, link_loc(*src, loc1), link_loc(*dst, loc2)};
}
}  // namespace

herr_t link_copy(void* src_obj, const H5VL_loc_params_t* loc1, void* dst_obj, const H5VL_loc_params_t* loc2,
                 hid_t lcpl, hid_t, hid_t, void**) {
  const auto [f, from, to] = link_ends(src_obj, loc1, dst_obj, loc2, "copying links", "copy a link");
  const model::LinkInfo link = check(model::link_info(*f->tree, from));
  if (link.kind == model::LinkKind::kNone) throw Error(not_found("cannot copy link '" + from + "': it does not exist"));
  if (link.kind == model::LinkKind::kHard)
    throw Error(unsupported("copying the hard link '" + from + "' (H5Lcopy would give the object a second name; "
                            "use H5Ocopy / Group.copy to copy the object)"));
  if (link.kind == model::LinkKind::kExternal)
    check(model::create_external_link(*f->tree, to, link.file, link.target, creates_parents(lcpl)));
  else
    check(model::create_soft_link(*f->tree, to, link.target, creates_parents(lcpl)));
  return 0;
}

herr_t link_move(void* src_obj, const H5VL_loc_params_t* loc1, void* dst_obj, const H5VL_loc_params_t* loc2,
                 hid_t lcpl, hid_t, hid_t, void**) {
  const auto [f, from, to] = link_ends(src_obj, loc1, dst_obj, loc2, "moving links", "move a link");
  if (from == to) return 0;
  const bool hard = check(model::link_info(*f->tree, from)).kind == model::LinkKind::kHard;
  check(model::move_link(*f->tree, from, to, creates_parents(lcpl)));
  if (hard) {
    rename_open_objects(*f, from, to);
    sync_after_move(*f, to);  // a scale's new name is the dimension's new name
  }
  return 0;
}

herr_t link_get(void* obj, const H5VL_loc_params_t* loc, H5VL_link_get_args_t* args, hid_t, void**) {
  Object* o = as_object(obj);
  switch (args->op_type) {
    case H5VL_LINK_GET_INFO: {
      const std::string path = link_loc(*o, loc);
      const model::LinkInfo link = check(model::link_info(*o->file->tree, path));
      if (link.kind == model::LinkKind::kNone) check(o->file->tree->get(path).status());  // NotFound naming it
      fill_link_info(*o->file, path, link, args->args.get_info.linfo);
      return 0;
    }
    case H5VL_LINK_GET_NAME: {
      const std::string path = resolve_path(*o, loc);
      auto& a = args->args.get_name;
      const std::string name = model::base_name(path);
      if (a.name_len) *a.name_len = name.size();
      if (a.name && a.name_size > 0) {
        size_t n = std::min(a.name_size - 1, name.size());
        std::memcpy(a.name, name.data(), n);
        a.name[n] = '\0';
      }
      return 0;
    }
    case H5VL_LINK_GET_VAL: {
      const std::string path = link_loc(*o, loc);
      const model::LinkInfo link = check(model::link_info(*o->file->tree, path));
      if (link.kind == model::LinkKind::kNone) check(o->file->tree->get(path).status());
      if (link.kind == model::LinkKind::kHard)
        throw Error(invalid_argument("'" + path + "' is a hard link; only soft and external links have a value"));
      // A soft link's target with its NUL; an external link's packed value (H5Lunpack_elink_val).
      const std::string value = link.kind == model::LinkKind::kExternal ? pack_external_value(link.file, link.target)
                                                                        : link.target + '\0';
      auto& a = args->args.get_val;
      if (a.buf && a.buf_size > 0) std::memcpy(a.buf, value.data(), std::min(a.buf_size, value.size()));
      return 0;
    }
  }
  throw Error(unsupported("link get operation " + std::to_string(args->op_type)));
}

herr_t link_specific(void* obj, const H5VL_loc_params_t* loc, H5VL_link_specific_args_t* args, hid_t, void**) {
  Object* o = as_object(obj);
  switch (args->op_type) {
    case H5VL_LINK_EXISTS: {
      // True for any link, even a dangling soft link (as H5Lexists); false when a parent is missing.
      // A path through an external link is looked up in the linked file.
      std::string path = resolve_path(*o, loc);
      const Object* in = o;
      std::optional<ThroughExternal> through;
      try {
        through = through_external(*o, path, lapl_of(loc));
      } catch (const Error& e) {
        if (e.status().code() != Code::kNotFound) throw;
        *args->args.exists.exists = false;  // the external file or its group is missing
        return 0;
      }
      if (through) {
        in = through->group.get();
        path = through->path;
      }
      auto where = model::link_location(*in->file->tree, path);
      if (!where.ok() && where.status().code() == Code::kNotFound) {
        *args->args.exists.exists = false;
        return 0;
      }
      *args->args.exists.exists =
          check(model::link_info(*in->file->tree, check(std::move(where)))).kind != model::LinkKind::kNone;
      return 0;
    }
    case H5VL_LINK_DELETE: {
      o->file->require_writable("delete a link");
      const std::string path = link_loc(*o, loc);
      // Datasets whose dimensions a deleted scale named: named again without it afterwards.
      std::set<std::string> attached;
      if (check(model::link_info(*o->file->tree, path)).kind == model::LinkKind::kHard)
        attached = arrays_attached_to_scales_in(*o->file, path);
      check(model::delete_link(*o->file->tree, path));
      sync_arrays(*o->file, attached);
      return 0;
    }
    case H5VL_LINK_ITER: {
      auto& a = args->args.iterate;
      const std::string group = check(model::resolve_object(*o->file->tree, resolve_path(*o, loc)));
      auto node = check(o->file->tree->get(group));
      if (node->kind != model::NodeKind::kGroup) throw Error(invalid_argument("'" + group + "' is not a group"));
      hid_t gid = register_object(*o, group);
      herr_t rc;
      try {
        rc = iterate(o->file, group, group, a.recursive, a.idx_type, a.order, a.idx_p, a.op, a.op_data, gid);
      } catch (...) {
        H5Idec_ref(gid);
        throw;
      }
      H5Idec_ref(gid);
      return rc;
    }
  }
  throw Error(unsupported("link specific operation " + std::to_string(args->op_type)));
}

herr_t link_optional(void*, const H5VL_loc_params_t*, H5VL_optional_args_t* args, hid_t, void**) {
  throw Error(unsupported("native link operation #" + std::to_string(args->op_type)));
}

}  // namespace arraymorph::vol
