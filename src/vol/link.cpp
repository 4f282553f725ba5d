// link.cpp -- the link VOL class: H5Lexists, H5Ldelete, H5Literate/H5Lvisit, H5Lget_info.
//
// Every child of a group is a hard link named after its key segment; links are listed in name
// order (HDF5's default name index). Soft links, link copies and moves are not implemented yet
// and fail with a clear "not supported" error.
#include <cstring>

#include "vol/callbacks.hpp"
#include "vol/objects.hpp"
#include "vol/registration.hpp"

namespace arraymorph::vol {
namespace {

std::string child_path(const std::string& group, const std::string& name) {
  return group == "/" ? "/" + name : group + "/" + name;
}

void fill_link_info(FileShared& f, const std::string& path, H5L_info2_t* info) {
  std::memset(info, 0, sizeof *info);
  info->type = H5L_TYPE_HARD;
  info->corder_valid = false;
  info->cset = H5T_CSET_UTF8;
  info->u.token = f.token_for(path);
}

// Calls op for each link of `group` (recursively with `recursive`), names relative to `root`.
herr_t iterate(const std::shared_ptr<FileShared>& f, const std::string& root, const std::string& group, bool recursive,
               H5_iter_order_t order, hsize_t* idx, H5L_iterate2_t op, void* op_data, hid_t gid) {
  auto kids = check(f->tree->children(group));
  if (order == H5_ITER_DEC) std::reverse(kids.begin(), kids.end());
  hsize_t start = (idx && !recursive) ? *idx : 0;
  for (hsize_t i = start; i < kids.size(); ++i) {
    const std::string path = child_path(group, kids[i]);
    std::string rel = root == "/" ? path.substr(1) : path.substr(root.size() + 1);
    H5L_info2_t info;
    fill_link_info(*f, path, &info);
    herr_t rc = op(gid, rel.c_str(), &info, op_data);
    if (idx && !recursive) *idx = i + 1;
    if (rc != 0) return rc;
    if (recursive) {
      auto node = check(f->tree->get(path));
      if (node->kind == model::NodeKind::kGroup) {
        rc = iterate(f, root, path, true, order, nullptr, op, op_data, gid);
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

}  // namespace

herr_t link_create(H5VL_link_create_args_t* args, void* obj, const H5VL_loc_params_t* loc, hid_t lcpl, hid_t, hid_t,
                   void**) {
  switch (args->op_type) {
    case H5VL_LINK_CREATE_HARD: {
      Object* where = as_object(obj ? obj : args->args.hard.curr_obj);
      Object* target = as_object(args->args.hard.curr_obj ? args->args.hard.curr_obj : obj);
      where->file->require_writable("create a link");
      const std::string path = resolve_path(*where, loc);
      if (target->kind == Kind::kDataset && static_cast<DatasetObject*>(target)->anonymous() &&
          args->args.hard.curr_loc_params.type == H5VL_OBJECT_BY_SELF) {
        if (target->file != where->file)
          throw Error(invalid_argument("cannot link an object into another file ('" + where->file->name + "')"));
        link_anonymous(*static_cast<DatasetObject*>(target), path, creates_parents(lcpl));
        return 0;
      }
      throw Error(unsupported("a second hard link to an existing object (H5Lcreate_hard/H5Olink to '" + path + "')"));
    }
    case H5VL_LINK_CREATE_SOFT: throw Error(unsupported("soft links (H5Lcreate_soft)"));
    case H5VL_LINK_CREATE_UD: throw Error(unsupported("external and user-defined links"));
  }
  throw Error(unsupported("link create operation"));
}

herr_t link_copy(void*, const H5VL_loc_params_t*, void*, const H5VL_loc_params_t*, hid_t, hid_t, hid_t, void**) {
  throw Error(unsupported("copying links (H5Lcopy)"));
}

herr_t link_move(void*, const H5VL_loc_params_t*, void*, const H5VL_loc_params_t*, hid_t, hid_t, hid_t, void**) {
  throw Error(unsupported("moving or renaming links (H5Lmove)"));
}

herr_t link_get(void* obj, const H5VL_loc_params_t* loc, H5VL_link_get_args_t* args, hid_t, void**) {
  Object* o = as_object(obj);
  const std::string path = resolve_path(*o, loc);
  switch (args->op_type) {
    case H5VL_LINK_GET_INFO:
      check(o->file->tree->get(path).status());
      fill_link_info(*o->file, path, args->args.get_info.linfo);
      return 0;
    case H5VL_LINK_GET_NAME: {
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
    case H5VL_LINK_GET_VAL:
      throw Error(invalid_argument("'" + path + "' is a hard link; only soft and external links have a value"));
  }
  throw Error(unsupported("link get operation " + std::to_string(args->op_type)));
}

herr_t link_specific(void* obj, const H5VL_loc_params_t* loc, H5VL_link_specific_args_t* args, hid_t, void**) {
  Object* o = as_object(obj);
  switch (args->op_type) {
    case H5VL_LINK_EXISTS: {
      const std::string path = resolve_path(*o, loc);
      *args->args.exists.exists = check(o->file->tree->exists(path));
      return 0;
    }
    case H5VL_LINK_DELETE: {
      o->file->require_writable("delete a link");
      check(o->file->tree->remove(resolve_path(*o, loc)));
      return 0;
    }
    case H5VL_LINK_ITER: {
      auto& a = args->args.iterate;
      const std::string group = resolve_path(*o, loc);
      if (a.idx_type == H5_INDEX_CRT_ORDER)
        throw Error(unsupported("iterating by creation order (arraymorph does not track link creation order)"));
      auto node = check(o->file->tree->get(group));
      if (node->kind != model::NodeKind::kGroup) throw Error(invalid_argument("'" + group + "' is not a group"));
      hid_t gid = register_object(o->file, group);
      herr_t rc;
      try {
        rc = iterate(o->file, group, group, a.recursive, a.order, a.idx_p, a.op, a.op_data, gid);
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
