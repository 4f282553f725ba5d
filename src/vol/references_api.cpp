// references_api.cpp -- object and region references for h5py (arraymorph.h, docs/format.md
// "Object identity and references").
//
// HDF5 1.14 refuses H5Rcreate/H5Rdereference2/H5Rget_region/H5Rget_name for any non-native
// connector before calling it ("must use native VOL connector to create reference"), so these C
// functions give h5py's h5r module (patched by python/arraymorph/_h5py_refs.py) what it needs:
// an object's stable id (model/object_ids.hpp) and back, and region selections recorded on the
// referenced dataset. New-style references (H5Rcreate_object, H5Ropen_object) need none of this:
// HDF5 builds them from the connector's tokens, which carry the same id.
#include <cstring>
#include <string>
#include <vector>

#include "arraymorph/arraymorph.h"
#include "model/links.hpp"
#include "model/object_ids.hpp"
#include "vol/dimension_sync.hpp"
#include "vol/object_model.hpp"
#include "vol/reference_values.hpp"
#include "vol/trampoline.hpp"

namespace arraymorph::vol {
namespace {

std::string object_at(Object& o, const char* name) {
  return check(model::resolve_object(*o.file->tree, check(model::join_path(o.path, name && *name ? name : "."))));
}

}  // namespace
}  // namespace arraymorph::vol

extern "C" {

int arraymorph_object_id(hid_t loc_id, const char* name, uint64_t* id) {
  using namespace arraymorph;
  try {
    vol::Object* o = vol::require_owned(loc_id);
    *id = o->file->id_for(vol::object_at(*o, name));
    return 0;
  } catch (...) {
    vol::push_current_exception();
    return -1;
  }
}

ssize_t arraymorph_object_path(hid_t loc_id, uint64_t id, char* buf, size_t len) {
  using namespace arraymorph;
  try {
    vol::Object* o = vol::require_owned(loc_id);
    const std::string path = o->file->path_for_id(id);
    if (buf && len) {
      const size_t n = std::min(len - 1, path.size());
      std::memcpy(buf, path.data(), n);
      buf[n] = '\0';
    }
    return static_cast<ssize_t>(path.size());
  } catch (...) {
    vol::push_current_exception();
    return -1;
  }
}

int arraymorph_region_create(hid_t loc_id, const char* name, hid_t space_id, uint64_t* id, uint32_t* index) {
  using namespace arraymorph;
  try {
    vol::Object* o = vol::require_owned(loc_id);
    const std::string path = vol::object_at(*o, name);
    auto node = check(o->file->tree->get(path));
    if (node->kind != model::NodeKind::kArray)
      throw Error(invalid_argument("'" + path + "' is a group; region references point into datasets"));
    o->file->require_writable("create a region reference (its selection is stored with the dataset)");
    size_t nalloc = 0;
    if (H5Sencode2(space_id, nullptr, &nalloc, H5P_DEFAULT) < 0 || nalloc == 0)
      throw Error(invalid_argument("the region reference's dataspace cannot be encoded"));
    std::vector<unsigned char> enc(nalloc);
    if (H5Sencode2(space_id, enc.data(), &nalloc, H5P_DEFAULT) < 0)
      throw Error(invalid_argument("the region reference's dataspace cannot be encoded"));
    *id = o->file->id_for(path);
    bool changed = false;
    *index = model::region_index(*node, model::base64_encode(enc.data(), enc.size()), &changed);
    if (changed) {
      o->file->tree->mark_dirty(path);
      check(o->file->tree->flush(false));
    }
    return 0;
  } catch (...) {
    vol::push_current_exception();
    return -1;
  }
}

hid_t arraymorph_region_space(hid_t loc_id, uint64_t id, uint32_t index) {
  using namespace arraymorph;
  try {
    vol::Object* o = vol::require_owned(loc_id);
    const std::string path = o->file->path_for_id(id);
    auto node = check(o->file->tree->get(path));
    auto bytes = check(model::base64_decode(check(model::region_at(*node, index))));
    hid_t sid = H5Sdecode(bytes.data());
    if (sid < 0) throw Error(io_error("the selection of a region reference on '" + path + "' is corrupt"));
    return sid;
  } catch (...) {
    vol::push_current_exception();
    return H5I_INVALID_HID;
  }
}

int arraymorph_sync_dimension_names(hid_t dset_id) {
  using namespace arraymorph;
  try {
    vol::Object* o = vol::require_owned(dset_id);
    auto node = check(o->file->tree->get(o->path));
    if (!node->array) throw Error(invalid_argument("'" + o->path + "' is a group, not a dataset"));
    vol::sync_dimension_names(*o->file, o->path);
    return 0;
  } catch (...) {
    vol::push_current_exception();
    return -1;
  }
}

int arraymorph_set_attribute_reference_style(int new_style) {
  const bool before = arraymorph::vol::attribute_references_new_style();
  arraymorph::vol::set_attribute_references_new_style(new_style != 0);
  return before ? 1 : 0;
}

}  // extern "C"
