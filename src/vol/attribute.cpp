// attribute.cpp -- the attribute VOL class.
//
// Attributes are stored in each node's zarr.json "attributes". Until their HDF5 mapping lands
// (reading, writing, all dtypes), arraymorph answers the queries h5py makes on every object
// (existence, iteration over none) and refuses the rest with a clear "not supported" error, never
// silently dropping data.
#include "vol/callbacks.hpp"
#include "vol/objects.hpp"

namespace arraymorph::vol {
namespace {

[[noreturn]] void no_attributes(const char* what) { throw Error(unsupported(std::string("attributes (") + what + ")")); }

}  // namespace

void* attr_create(void*, const H5VL_loc_params_t*, const char*, hid_t, hid_t, hid_t, hid_t, hid_t, void**) {
  no_attributes("H5Acreate");
}
void* attr_open(void*, const H5VL_loc_params_t*, const char*, hid_t, hid_t, void**) { no_attributes("H5Aopen"); }
herr_t attr_read(void*, hid_t, void*, hid_t, void**) { no_attributes("H5Aread"); }
herr_t attr_write(void*, hid_t, const void*, hid_t, void**) { no_attributes("H5Awrite"); }
herr_t attr_get(void*, H5VL_attr_get_args_t*, hid_t, void**) { no_attributes("H5Aget_*"); }

herr_t attr_specific(void* obj, const H5VL_loc_params_t* loc, H5VL_attr_specific_args_t* args, hid_t, void**) {
  Object* o = as_object(obj);
  auto node = check(o->file->tree->get(resolve_path(*o, loc)));
  const bool has_any = node->attributes.is_object() && !node->attributes.empty();
  switch (args->op_type) {
    case H5VL_ATTR_EXISTS:
      *args->args.exists.exists = node->attributes.is_object() && node->attributes.contains(args->args.exists.name);
      return 0;
    case H5VL_ATTR_ITER:
      if (!has_any) return 0;
      no_attributes("H5Aiterate");
    case H5VL_ATTR_DELETE:
    case H5VL_ATTR_DELETE_BY_IDX:
      no_attributes("H5Adelete");
    case H5VL_ATTR_RENAME:
      no_attributes("H5Arename");
  }
  no_attributes("unknown operation");
}

herr_t attr_optional(void*, H5VL_optional_args_t*, hid_t, void**) { no_attributes("native attribute operation"); }
herr_t attr_close(void*, hid_t, void**) { return 0; }

}  // namespace arraymorph::vol
