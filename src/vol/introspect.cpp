// introspect.cpp -- connector introspection: class, capability flags, optional-operation queries.
#include "vol/callbacks.hpp"

namespace arraymorph::vol {

herr_t introspect_get_conn_cls(void*, H5VL_get_conn_lvl_t, const H5VL_class_t** conn_cls) {
  *conn_cls = &kConnectorClass;
  return 0;
}

herr_t introspect_get_cap_flags(const void*, uint64_t* cap_flags) {
  *cap_flags = kConnectorClass.cap_flags;
  return 0;
}

// arraymorph implements none of the native connector's optional operations.
herr_t introspect_opt_query(void*, H5VL_subclass_t, int, uint64_t* flags) {
  *flags = 0;
  return 0;
}

}  // namespace arraymorph::vol
