// connector.cpp -- the H5VL_class_t table, the HDF5 plugin entry points and the public C API
// (include/arraymorph/arraymorph.h).
//
// Every callback is Guarded<&impl>::call (trampoline.hpp): the C++ implementation may throw; the
// guard turns that into an HDF5 error-stack entry and a failure return.
#include <H5PLextern.h>

#include <cstring>
#include <mutex>

#include "arraymorph/arraymorph.h"
#include "vol/connector_state.hpp"
#include "vol/callbacks.hpp"
#include "vol/connector_info.hpp"
#include "vol/python_compat.hpp"
#include "vol/trampoline.hpp"

namespace arraymorph::vol {

void* info_copy(const void* info) {
  auto* copy = new ConnectorInfo();
  if (info) copy->settings = static_cast<const ConnectorInfo*>(info)->settings;
  return copy;
}

herr_t info_cmp(int* cmp, const void* a, const void* b) {
  const std::string sa = a ? static_cast<const ConnectorInfo*>(a)->settings : "";
  const std::string sb = b ? static_cast<const ConnectorInfo*>(b)->settings : "";
  *cmp = sa.compare(sb);
  return 0;
}

herr_t info_free(void* info) {
  delete static_cast<ConnectorInfo*>(info);
  return 0;
}

herr_t info_to_str(const void* info, char** str) {
  const std::string s = info ? static_cast<const ConnectorInfo*>(info)->settings : "";
  *str = static_cast<char*>(H5allocate_memory(s.size() + 1, false));
  std::memcpy(*str, s.c_str(), s.size() + 1);
  return 0;
}

herr_t info_from_str(const char* str, void** info) {
  check(parse_settings(str ? str : "").status());
  auto* i = new ConnectorInfo();
  i->settings = str ? str : "";
  *info = i;
  return 0;
}

namespace {
herr_t initialize(hid_t) {
  keep_error_ids_alive(kErrorIdsAtStart);
  schedule_python_compat();
  return 0;
}
herr_t terminate() { return 0; }
}  // namespace

#define AM_G(fn) &Guarded<&fn>::call

extern const H5VL_class_t kConnectorClass = {
    H5VL_VERSION,
    ARRAYMORPH_CONNECTOR_VALUE,
    ARRAYMORPH_CONNECTOR_NAME,
    1,
    H5VL_CAP_FLAG_FILE_BASIC | H5VL_CAP_FLAG_FILE_MORE | H5VL_CAP_FLAG_GROUP_BASIC | H5VL_CAP_FLAG_GROUP_MORE |
        H5VL_CAP_FLAG_DATASET_BASIC | H5VL_CAP_FLAG_DATASET_MORE | H5VL_CAP_FLAG_LINK_BASIC |
        H5VL_CAP_FLAG_OBJECT_BASIC | H5VL_CAP_FLAG_OBJECT_MORE | H5VL_CAP_FLAG_ITERATE | H5VL_CAP_FLAG_BY_IDX |
        H5VL_CAP_FLAG_GET_PLIST | H5VL_CAP_FLAG_FLUSH_REFRESH | H5VL_CAP_FLAG_FILTERS | H5VL_CAP_FLAG_FILL_VALUES |
        H5VL_CAP_FLAG_STORAGE_SIZE | H5VL_CAP_FLAG_ATTR_BASIC | H5VL_CAP_FLAG_ATTR_MORE | H5VL_CAP_FLAG_SOFT_LINKS |
        H5VL_CAP_FLAG_LINK_MORE | H5VL_CAP_FLAG_CREATION_ORDER | H5VL_CAP_FLAG_STORED_DATATYPES |
        H5VL_CAP_FLAG_EXTERNAL_LINKS,
    AM_G(initialize),
    AM_G(terminate),
    {sizeof(ConnectorInfo), AM_G(info_copy), AM_G(info_cmp), AM_G(info_free), AM_G(info_to_str),
     AM_G(info_from_str)},
    {nullptr, nullptr, nullptr, nullptr, nullptr},  // wrap: terminal connector
    {AM_G(attr_create), AM_G(attr_open), AM_G(attr_read), AM_G(attr_write), AM_G(attr_get), AM_G(attr_specific),
     AM_G(attr_optional), AM_G(attr_close)},
    {AM_G(dataset_create), AM_G(dataset_open), AM_G(dataset_read), AM_G(dataset_write), AM_G(dataset_get),
     AM_G(dataset_specific), AM_G(dataset_optional), AM_G(dataset_close)},
    {AM_G(datatype_commit), AM_G(datatype_open), AM_G(datatype_get), AM_G(datatype_specific),
     AM_G(datatype_optional), AM_G(datatype_close)},
    {AM_G(file_create), AM_G(file_open), AM_G(file_get), AM_G(file_specific), AM_G(file_optional),
     AM_G(file_close)},
    {AM_G(group_create), AM_G(group_open), AM_G(group_get), AM_G(group_specific), AM_G(group_optional),
     AM_G(group_close)},
    {AM_G(link_create), AM_G(link_copy), AM_G(link_move), AM_G(link_get), AM_G(link_specific),
     AM_G(link_optional)},
    {AM_G(object_open), AM_G(object_copy), AM_G(object_get), AM_G(object_specific), AM_G(object_optional)},
    {AM_G(introspect_get_conn_cls), AM_G(introspect_get_cap_flags), AM_G(introspect_opt_query)},
    {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr},  // request: synchronous connector
    {nullptr, nullptr, nullptr, nullptr},                    // blob: no variable-length data yet
    {AM_G(token_cmp), nullptr, nullptr},
    nullptr,
};

#undef AM_G

}  // namespace arraymorph::vol

// ------------------------------------------------------------------------------- plugin entry
extern "C" {

ARRAYMORPH_API H5PL_type_t H5PLget_plugin_type(void) { return H5PL_TYPE_VOL; }
ARRAYMORPH_API const void* H5PLget_plugin_info(void) { return &arraymorph::vol::kConnectorClass; }

// ------------------------------------------------------------------------------- public C API
hid_t arraymorph_register(void) {
  // The one mutable global DESIGN allows: the registered connector id (HDF5 refcounts it; we
  // keep our reference for the life of the process).
  static std::mutex mu;
  static hid_t id = H5I_INVALID_HID;
  std::lock_guard<std::mutex> lock(mu);
  if (id >= 0 && H5Iis_valid(id) > 0) return id;
  id = H5VLregister_connector(&arraymorph::vol::kConnectorClass, H5P_DEFAULT);
  return id;
}

herr_t H5Pset_fapl_arraymorph(hid_t fapl_id, const char* url_or_config) {
  try {
    arraymorph::check(arraymorph::vol::parse_settings(url_or_config ? url_or_config : "").status());
    hid_t id = arraymorph_register();
    if (id < 0) throw arraymorph::Error(arraymorph::internal_error("cannot register the arraymorph VOL connector"));
    arraymorph::vol::ConnectorInfo info{url_or_config ? url_or_config : ""};
    return H5Pset_vol(fapl_id, id, &info);
  } catch (...) {
    arraymorph::vol::push_current_exception();
    return -1;
  }
}

const char* arraymorph_version(void) { return ARRAYMORPH_VERSION; }

int arraymorph_configure(const char* key, const char* value, char* errbuf, size_t errbuf_len) {
  try {
    arraymorph::Status s = arraymorph::ConnectorState::instance().set(key ? key : "", value ? value : "");
    if (s.ok()) return 0;
    if (errbuf && errbuf_len) {
      std::strncpy(errbuf, s.message().c_str(), errbuf_len - 1);
      errbuf[errbuf_len - 1] = '\0';
    }
  } catch (const std::exception& e) {
    if (errbuf && errbuf_len) {
      std::strncpy(errbuf, e.what(), errbuf_len - 1);
      errbuf[errbuf_len - 1] = '\0';
    }
  }
  return -1;
}

void arraymorph_reset_configuration(void) { arraymorph::ConnectorState::instance().reset_settings(); }

size_t arraymorph_stats_json(char* buf, size_t len) {
  const std::string s = arraymorph::ConnectorState::instance().stats()->to_json();
  if (buf && len) {
    size_t n = std::min(len - 1, s.size());
    std::memcpy(buf, s.data(), n);
    buf[n] = '\0';
  }
  return s.size();
}

void arraymorph_reset_stats(void) { arraymorph::ConnectorState::instance().stats()->reset(); }

}  // extern "C"
