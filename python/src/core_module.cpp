// core_module.cpp -- arraymorph._core: Python bindings of the public C API (arraymorph.h).
//
// Everything goes through the exported C functions of libarraymorph.so, never through the static
// core library: this module links the very plugin file HDF5 loads from HDF5_PLUGIN_PATH, so
// configuration and statistics set here are the ones the connector uses (one instance per
// process). The module holds no state of its own.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "arraymorph/arraymorph.h"

namespace nb = nanobind;

namespace {

// Collects the descriptions on HDF5's default error stack (outermost first) and clears it, so a
// failed H5* call becomes one readable Python message instead of silence (h5py turns HDF5's
// automatic error printing off).
std::string take_hdf5_errors() {
  std::vector<std::string> parts;
  auto walker = [](unsigned, const H5E_error2_t* err, void* data) -> herr_t {
    auto* out = static_cast<std::vector<std::string>*>(data);
    if (err != nullptr && err->desc != nullptr && *err->desc != '\0') out->emplace_back(err->desc);
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walker, &parts);
  H5Eclear2(H5E_DEFAULT);
  std::string msg;
  for (const std::string& p : parts) {
    if (!msg.empty()) msg += ": ";
    msg += p;
  }
  return msg;
}

// Python value -> the string arraymorph_configure() parses. bool is tested before int because
// Python's bool is an int subclass ("True" would otherwise become "1", which also parses, but the
// canonical spelling keeps error messages readable).
std::string to_setting(const nb::handle& value) {
  if (nb::isinstance<nb::bool_>(value)) return nb::cast<bool>(value) ? "true" : "false";
  if (nb::isinstance<nb::str>(value)) return nb::cast<std::string>(value);
  return nb::cast<std::string>(nb::str(value));
}

void configure_one(const std::string& key, const std::string& value) {
  char errbuf[1024] = {0};
  if (arraymorph_configure(key.c_str(), value.c_str(), errbuf, sizeof errbuf) != 0) {
    std::string msg = errbuf[0] != '\0' ? errbuf : "invalid setting '" + key + "'";
    throw nb::value_error(msg.c_str());
  }
}

void configure(const nb::kwargs& settings) {
  for (auto [key, value] : settings) {
    configure_one(nb::cast<std::string>(key), to_setting(value));
  }
}

std::string stats_json() {
  // The required size is returned, so one retry with the exact size always suffices even if a
  // counter grew a digit in between (the loop covers that race).
  std::string buf(1024, '\0');
  for (;;) {
    const size_t need = arraymorph_stats_json(buf.data(), buf.size());
    if (need < buf.size()) {
      buf.resize(need);
      return buf;
    }
    buf.assign(need + 64, '\0');
  }
}

nb::object stats() { return nb::module_::import_("json").attr("loads")(stats_json()); }

void set_fapl(int64_t fapl_id, const std::optional<std::string>& url_or_config) {
  const char* arg = url_or_config ? url_or_config->c_str() : nullptr;
  if (H5Pset_fapl_arraymorph(static_cast<hid_t>(fapl_id), arg) < 0) {
    std::string msg = take_hdf5_errors();
    throw std::runtime_error("H5Pset_fapl_arraymorph failed" + (msg.empty() ? "" : ": " + msg));
  }
}

// Selects HDF5's native connector on a FAPL (for files arraymorph must not intercept: file-like
// objects and file drivers, see python/arraymorph/_drivers.py).
void set_native_vol(int64_t fapl_id) {
  if (H5Pset_vol(static_cast<hid_t>(fapl_id), H5VL_NATIVE, nullptr) < 0)
    throw std::runtime_error("H5Pset_vol(H5VL_NATIVE) failed: " + take_hdf5_errors());
}

int64_t register_connector() {
  const hid_t id = arraymorph_register();
  if (id == H5I_INVALID_HID) {
    std::string msg = take_hdf5_errors();
    throw std::runtime_error("arraymorph_register failed" + (msg.empty() ? "" : ": " + msg));
  }
  return static_cast<int64_t>(id);
}

// Whether a file access property list selects the arraymorph connector. (H5VLget_connector_name
// takes an object id, not a connector id, so the connector classes are compared instead.)
bool fapl_uses_arraymorph(int64_t fapl_id) {
  hid_t vol_id = H5I_INVALID_HID;
  if (H5Pget_vol_id(static_cast<hid_t>(fapl_id), &vol_id) < 0) {
    throw std::runtime_error("H5Pget_vol_id failed: " + take_hdf5_errors());
  }
  bool same = false;
  if (H5VLis_connector_registered_by_name(ARRAYMORPH_CONNECTOR_NAME) > 0) {
    const hid_t ours = H5VLget_connector_id_by_name(ARRAYMORPH_CONNECTOR_NAME);
    int cmp = 1;
    if (ours >= 0 && H5VLcmp_connector_cls(&cmp, vol_id, ours) >= 0) same = (cmp == 0);
    if (ours >= 0) H5VLclose(ours);
  }
  H5VLclose(vol_id);
  take_hdf5_errors();  // a failed comparison just means "no"
  return same;
}

// h5py support (see python/arraymorph/_h5py_compat.py): whether an HDF5 id belongs to arraymorph.
bool is_arraymorph_object(int64_t id) {
  const int r = arraymorph_is_arraymorph_object(static_cast<hid_t>(id));
  if (r < 0) throw std::runtime_error("arraymorph_is_arraymorph_object: " + take_hdf5_errors());
  return r > 0;
}

// Link names of group `name` (relative to loc_id), in name order. The C call returns the size
// needed; a second call with that size gets them all (looping in case the group grew between).
std::vector<std::string> link_names(int64_t loc_id, const std::string& name, bool creation_order) {
  std::string buf(4096, '\0');
  for (;;) {
    const ssize_t need =
        arraymorph_link_names_ordered(static_cast<hid_t>(loc_id), name.c_str(), creation_order ? 1 : 0, buf.data(),
                                      buf.size());
    if (need < 0) throw std::runtime_error("arraymorph_link_names: " + take_hdf5_errors());
    if (static_cast<size_t>(need) <= buf.size()) {
      buf.resize(static_cast<size_t>(need));
      break;
    }
    buf.assign(static_cast<size_t>(need), '\0');
  }
  std::vector<std::string> names;
  for (size_t pos = 0; pos < buf.size();) {
    const size_t end = buf.find('\0', pos);
    if (end == std::string::npos) break;
    names.emplace_back(buf, pos, end - pos);
    pos = end + 1;
  }
  return names;
}

// Kind of the link `name` relative to loc_id: (0 none | 1 hard | 2 soft | 3 external, soft link
// target, "<file>\0<path>" of an external link, or "").
std::pair<int, std::string> link_info(int64_t loc_id, const std::string& name) {
  std::string buf(1024, '\0');
  for (;;) {
    size_t need = 0;
    const int kind = arraymorph_link_info(static_cast<hid_t>(loc_id), name.c_str(), buf.data(), buf.size(), &need);
    if (kind < 0) throw std::runtime_error("arraymorph_link_info: " + take_hdf5_errors());
    if (need < buf.size()) {
      buf.resize(kind == 2 || kind == 3 ? need : 0);
      return {kind, buf};
    }
    buf.assign(need + 1, '\0');
  }
}

// Object and region references (python/arraymorph/_h5py_refs.py; arraymorph.h).
uint64_t object_id(int64_t loc_id, const std::string& name) {
  uint64_t id = 0;
  if (arraymorph_object_id(static_cast<hid_t>(loc_id), name.c_str(), &id) < 0)
    throw std::runtime_error(take_hdf5_errors());
  return id;
}

std::string object_path(int64_t loc_id, uint64_t id) {
  std::string buf(1024, '\0');
  for (;;) {
    const ssize_t n = arraymorph_object_path(static_cast<hid_t>(loc_id), id, buf.data(), buf.size());
    if (n < 0) throw nb::value_error(take_hdf5_errors().c_str());
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    buf.assign(static_cast<size_t>(n) + 1, '\0');
  }
}

std::pair<uint64_t, uint32_t> region_create(int64_t loc_id, const std::string& name, int64_t space_id) {
  uint64_t id = 0;
  uint32_t index = 0;
  if (arraymorph_region_create(static_cast<hid_t>(loc_id), name.c_str(), static_cast<hid_t>(space_id), &id, &index) < 0)
    throw std::runtime_error(take_hdf5_errors());
  return {id, index};
}

int64_t region_space(int64_t loc_id, uint64_t id, uint32_t index) {
  const hid_t sid = arraymorph_region_space(static_cast<hid_t>(loc_id), id, index);
  if (sid < 0) throw nb::value_error(take_hdf5_errors().c_str());
  return static_cast<int64_t>(sid);
}

void sync_dimension_names(int64_t dset_id) {
  if (arraymorph_sync_dimension_names(static_cast<hid_t>(dset_id)) < 0) throw std::runtime_error(take_hdf5_errors());
}

bool set_attribute_reference_style(bool new_style) {
  return arraymorph_set_attribute_reference_style(new_style ? 1 : 0) != 0;
}

// Chunks as (offset tuple, filter mask, bytes-like) items; each buffer is held (buffer protocol,
// no copy) until the call returns. The GIL is released while the chunks are PUT: the caller
// holds h5py's lock, so no other thread enters HDF5 meanwhile.
void write_chunks(int64_t dset_id, const nb::sequence& chunks) {
  std::vector<Py_buffer> views;
  struct Release {
    std::vector<Py_buffer>& v;
    ~Release() {
      for (auto& b : v) PyBuffer_Release(&b);
    }
  } release{views};
  std::vector<hsize_t> offsets;
  std::vector<uint32_t> masks;
  std::vector<const void*> bufs;
  std::vector<size_t> sizes;
  const size_t n = nb::len(chunks);
  views.reserve(n);
  size_t rank = 0;
  for (size_t i = 0; i < n; ++i) {
    nb::tuple item = nb::cast<nb::tuple>(chunks[i]);
    if (item.size() != 3) throw nb::value_error("each chunk is (offset, filter_mask, data)");
    auto offset = nb::cast<std::vector<uint64_t>>(item[0]);
    if (i == 0) rank = offset.size();
    if (offset.size() != rank) throw nb::value_error("chunk offsets of different lengths");
    offsets.insert(offsets.end(), offset.begin(), offset.end());
    masks.push_back(nb::cast<uint32_t>(item[1]));
    Py_buffer view;
    if (PyObject_GetBuffer(item[2].ptr(), &view, PyBUF_SIMPLE) != 0) throw nb::python_error();
    views.push_back(view);
    bufs.push_back(view.buf);
    sizes.push_back(static_cast<size_t>(view.len));
  }
  int rc = 0;
  {
    nb::gil_scoped_release unlocked;
    rc = arraymorph_write_chunks(static_cast<hid_t>(dset_id), n, offsets.data(), masks.data(), bufs.data(), sizes.data());
  }
  if (rc < 0) throw std::runtime_error(take_hdf5_errors());
}

// The libhdf5 version this module (and the plugin, same build) was compiled against.
std::string hdf5_build_version() {
  return std::to_string(H5_VERS_MAJOR) + "." + std::to_string(H5_VERS_MINOR) + "." +
         std::to_string(H5_VERS_RELEASE);
}

// The libhdf5 actually bound in this process (normally the one h5py loaded first).
std::string hdf5_runtime_version() {
  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  return std::to_string(maj) + "." + std::to_string(min) + "." + std::to_string(rel);
}

// ---- store utilities (arraymorph_store_*): the GIL is released while the store answers.
void store_call(int rc, const char* errbuf, const char* what) {
  if (rc < 0) throw std::runtime_error(std::string(what) + ": " + errbuf);
}

std::vector<std::pair<std::string, uint64_t>> store_list(const std::string& url, const std::string& key) {
  std::vector<std::pair<std::string, uint64_t>> out;
  char err[1024] = {0};
  auto cb = [](const char* key, uint64_t size, void* user) -> int {
    static_cast<std::vector<std::pair<std::string, uint64_t>>*>(user)->emplace_back(key, size);
    return 0;
  };
  int rc = 0;
  {
    nb::gil_scoped_release unlocked;
    rc = arraymorph_store_list(url.c_str(), key.c_str(), cb, &out, err, sizeof err);
  }
  store_call(rc, err, "listing failed");
  return out;
}

nb::object store_get(const std::string& url, const std::string& key) {
  std::string body;
  char err[1024] = {0};
  auto cb = [](const void* data, size_t size, void* user) {
    static_cast<std::string*>(user)->assign(static_cast<const char*>(data), size);
  };
  int rc = 0;
  {
    nb::gil_scoped_release unlocked;
    rc = arraymorph_store_get(url.c_str(), key.c_str(), cb, &body, err, sizeof err);
  }
  store_call(rc, err, "GET failed");
  if (rc == 1) return nb::none();
  return nb::bytes(body.data(), body.size());
}

void store_put(const std::string& url, const std::string& key, const nb::bytes& data) {
  std::string copy(static_cast<const char*>(data.c_str()), data.size());
  char err[1024] = {0};
  int rc = 0;
  {
    nb::gil_scoped_release unlocked;
    rc = arraymorph_store_put(url.c_str(), key.c_str(), copy.data(), copy.size(), err, sizeof err);
  }
  store_call(rc, err, "PUT failed");
}

uint64_t store_delete(const std::string& url, const std::string& key, bool recursive) {
  uint64_t n = 0;
  char err[1024] = {0};
  int rc = 0;
  {
    nb::gil_scoped_release unlocked;
    rc = arraymorph_store_delete(url.c_str(), key.c_str(), recursive ? 1 : 0, &n, err, sizeof err);
  }
  store_call(rc, err, "DELETE failed");
  return n;
}

std::string config_json(const std::string& url) {
  std::string buf(2048, '\0');
  for (;;) {
    const size_t need = arraymorph_config_json(url.c_str(), buf.data(), buf.size());
    if (need < buf.size()) {
      buf.resize(need);
      return buf;
    }
    buf.assign(need + 64, '\0');
  }
}

}  // namespace

NB_MODULE(_core, m) {
  m.doc() = "Bindings of the arraymorph C API; use the arraymorph package instead.";
  m.def("version", [] { return std::string(arraymorph_version()); },
        "Version string of the loaded libarraymorph.");
  m.def("configure", &configure,
        "configure(**settings): apply process-wide settings; raises ValueError naming the key.");
  m.def("reset_configuration", [] { arraymorph_reset_configuration(); },
        "Drop every explicit setting (back to environment + defaults).");
  m.def("stats_json", &stats_json, "Request/cache counters as a JSON string.");
  m.def("stats", &stats, "Request/cache counters as a dict.");
  m.def("reset_stats", [] { arraymorph_reset_stats(); }, "Zero every counter.");
  m.def("set_fapl", &set_fapl, nb::arg("fapl_id"), nb::arg("url_or_config").none() = nb::none(),
        "Select arraymorph on a file access property list (H5Pset_fapl_arraymorph).");
  m.def("set_native_vol", &set_native_vol, nb::arg("fapl_id"),
        "Select HDF5's native connector on a file access property list.");
  m.def("register", &register_connector, "Register the connector; returns its HDF5 id.");
  m.def("fapl_uses_arraymorph", &fapl_uses_arraymorph, nb::arg("fapl_id"),
        "Whether a file access property list selects the arraymorph connector.");
  m.def("is_arraymorph_object", &is_arraymorph_object, nb::arg("id"),
        "Whether an HDF5 file/group/dataset id was opened through arraymorph.");
  m.def("link_names", &link_names, nb::arg("loc_id"), nb::arg("name") = ".", nb::arg("creation_order") = false,
        "Link names of a group (relative to loc_id), in name order, or in creation order when asked and the "
        "group tracks it.");
  m.def("link_info", &link_info, nb::arg("loc_id"), nb::arg("name"),
        "(kind, target) of a link: kind 0 none, 1 hard, 2 soft (target is the soft link's path).");
  m.def("object_id", &object_id, nb::arg("loc_id"), nb::arg("name") = ".",
        "Stable id of an arraymorph object (the content of its object references).");
  m.def("object_path", &object_path, nb::arg("loc_id"), nb::arg("id"),
        "Current path of the object with this id in loc_id's file (ValueError when none has it).");
  m.def("region_create", &region_create, nb::arg("loc_id"), nb::arg("name"), nb::arg("space_id"),
        "Records a selection on a dataset for a region reference: (dataset id, selection index).");
  m.def("region_space", &region_space, nb::arg("loc_id"), nb::arg("id"), nb::arg("index"),
        "New dataspace id with a recorded region selection (ValueError when unknown).");
  m.def("sync_dimension_names", &sync_dimension_names, nb::arg("dset_id"),
        "Recompute a dataset's Zarr dimension_names from its dimension scales and labels.");
  m.def("set_attribute_reference_style", &set_attribute_reference_style, nb::arg("new_style"),
        "Reference types H5Aget_type reports in attributes: H5T_STD_REF (True) or H5T_STD_REF_OBJ (h5py). "
        "Returns the previous setting.");
  m.def("write_chunks", &write_chunks, nb::arg("dset_id"), nb::arg("chunks"),
        "H5Dwrite_chunk for many chunks at once: [(offset, filter_mask, bytes-like)], PUT concurrently.");
  m.def("hdf5_build_version", &hdf5_build_version,
        "libhdf5 version the plugin was compiled against.");
  m.def("hdf5_runtime_version", &hdf5_runtime_version,
        "libhdf5 version bound in this process.");
  // Store utilities for the `arraymorph` command (arraymorph_store_*, arraymorph_config_json).
  m.def("store_list", &store_list, nb::arg("url"), nb::arg("key") = "",
        "[(key, size)] of every object below <url>/<key> (keys relative to it), in key order.");
  m.def("store_get", &store_get, nb::arg("url"), nb::arg("key") = "",
        "Bytes of the object <url>/<key>, or None if missing.");
  m.def("store_put", &store_put, nb::arg("url"), nb::arg("key"), nb::arg("data"),
        "Store bytes as the object <url>/<key>.");
  m.def("store_delete", &store_delete, nb::arg("url"), nb::arg("key") = "", nb::arg("recursive") = false,
        "Delete the object <url>/<key>, or (recursive) every object below it; returns the count.");
  m.def("config_json", &config_json, nb::arg("url") = "",
        "Effective configuration as JSON, secrets masked (plus where `url` resolves to).");
  // MPI collective I/O (arraymorph_collective_*, src/mpi/context.hpp).
  auto collective_call = [](int rc) {
    if (rc == 0) return;
    std::string msg(arraymorph_collective_last_error(nullptr, 0) + 1, '\0');
    arraymorph_collective_last_error(msg.data(), msg.size());
    msg.pop_back();
    throw std::runtime_error(msg);
  };
  m.def("collective_available", [] { return arraymorph_collective_available() != 0; },
        "Whether this build has MPI collective I/O.");
  m.def("collective_begin", [collective_call](int fcomm) { collective_call(arraymorph_collective_begin(fcomm)); },
        nb::arg("fcomm"), "Enter collective mode on a communicator (its Fortran handle, comm.py2f()).");
  m.def("collective_end", [collective_call](bool failed) {
        collective_call(failed ? arraymorph_collective_abort() : arraymorph_collective_end());
      }, nb::arg("failed") = false,
        "Leave collective mode; failed=True when this rank leaves because of an error.");
  m.def("collective_active", [] { return arraymorph_collective_active() != 0; },
        "Whether a collective block is active (and not suspended).");
  m.def("collective_suspend", [](bool on) { arraymorph_collective_suspend(on ? 1 : 0); }, nb::arg("on"),
        "Suspend (True) or resume (False) the collective block on this rank.");
}
