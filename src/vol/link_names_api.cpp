// link_names_api.cpp -- the h5py-support entry points of the public C API (arraymorph.h):
// ownership test and link listing for ids HDF5 handed out for arraymorph objects.
#include <cstring>
#include <string>

#include "arraymorph/arraymorph.h"
#include "model/links.hpp"
#include "vol/external_links.hpp"
#include "vol/object_model.hpp"
#include "vol/trampoline.hpp"


extern "C" {

int arraymorph_is_arraymorph_object(hid_t id) {
  arraymorph::vol::keep_error_ids_alive();  // called by h5py support before each patched method
  return arraymorph::vol::owned_object(id) != nullptr ? 1 : 0;
}

ssize_t arraymorph_link_names(hid_t loc_id, const char* name, char* buf, size_t len) {
  return arraymorph_link_names_ordered(loc_id, name, 0, buf, len);
}

ssize_t arraymorph_link_names_ordered(hid_t loc_id, const char* name, int creation_order, char* buf, size_t len) {
  using namespace arraymorph;
  try {
    vol::Object* o = vol::require_owned(loc_id);
    const bool self = !name || std::string(name) == ".";
    if (o->anon_node && self) return 0;  // an anonymous group has no members yet
    std::string group = check(model::resolve_object(*o->file->tree, check(model::join_path(o->path, name ? name : "."))));
    auto kids = check(model::link_names(*o->file->tree, group,
                                        creation_order ? model::LinkOrder::kCreation : model::LinkOrder::kName));
    std::string out;
    for (const auto& k : kids) {
      out += k;
      out.push_back('\0');
    }
    if (buf && len) std::memcpy(buf, out.data(), std::min(len, out.size()));
    return static_cast<ssize_t>(out.size());
  } catch (...) {
    vol::push_current_exception();
    return -1;
  }
}

int arraymorph_link_info(hid_t loc_id, const char* name, char* buf, size_t len, size_t* target_len) {
  using namespace arraymorph;
  try {
    vol::Object* o = vol::require_owned(loc_id);
    if (target_len) *target_len = 0;
    std::string path = check(model::join_path(o->path, name ? name : "."));
    auto through = vol::through_external(*o, path, H5P_DEFAULT);  // a path below an external link
    if (through) {
      o = through->group.get();
      path = through->path;
    }
    auto loc = model::link_location(*o->file->tree, path);
    if (!loc.ok() && loc.status().code() == Code::kNotFound) return 0;
    const model::LinkInfo info = check(model::link_info(*o->file->tree, check(std::move(loc))));
    if (info.kind == model::LinkKind::kSoft || info.kind == model::LinkKind::kExternal) {
      // External: "<file>\0<path>" (the full length counts both and the separator).
      const std::string value =
          info.kind == model::LinkKind::kSoft ? info.target : info.file + std::string(1, '\0') + info.target;
      if (target_len) *target_len = value.size();
      if (buf && len) {
        size_t n = std::min(len - 1, value.size());
        std::memcpy(buf, value.data(), n);
        buf[n] = '\0';
      }
      return info.kind == model::LinkKind::kSoft ? 2 : 3;
    }
    return info.kind == model::LinkKind::kHard ? 1 : 0;
  } catch (...) {
    vol::push_current_exception();
    return -1;
  }
}

}  // extern "C"
