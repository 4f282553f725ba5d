// datatype.cpp -- the named (committed) datatype VOL class: not supported yet; every entry point
// fails with a clear error naming the operation.
#include "vol/callbacks.hpp"
#include "vol/object_model.hpp"

namespace arraymorph::vol {
namespace {

[[noreturn]] void no_named_types(const char* what) {
  throw Error(unsupported(std::string("committed (named) datatypes (") + what + ")"));
}

}  // namespace

void* datatype_commit(void*, const H5VL_loc_params_t*, const char*, hid_t, hid_t, hid_t, hid_t, hid_t, void**) {
  no_named_types("H5Tcommit");
}
void* datatype_open(void*, const H5VL_loc_params_t*, const char*, hid_t, hid_t, void**) { no_named_types("H5Topen"); }
herr_t datatype_get(void*, H5VL_datatype_get_args_t*, hid_t, void**) { no_named_types("H5Tget_create_plist"); }
herr_t datatype_specific(void*, H5VL_datatype_specific_args_t*, hid_t, void**) { no_named_types("H5Tflush"); }
herr_t datatype_optional(void*, H5VL_optional_args_t*, hid_t, void**) { no_named_types("native datatype operation"); }
herr_t datatype_close(void*, hid_t, void**) { return 0; }

}  // namespace arraymorph::vol
