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

// Of the native connector's optional operations HDF5 asks about, arraymorph answers only
// H5Dvlen_get_buf_size itself (chunk_api.cpp): without it HDF5 reads the selection one element at
// a time to count the bytes.
herr_t introspect_opt_query(void*, H5VL_subclass_t cls, int opt_type, uint64_t* flags) {
  *flags = 0;
  if (cls == H5VL_SUBCLS_DATASET && opt_type == H5VL_NATIVE_DATASET_GET_VLEN_BUF_SIZE)
    *flags = H5VL_OPT_QUERY_SUPPORTED | H5VL_OPT_QUERY_READ_DATA;
  return 0;
}

}  // namespace arraymorph::vol
