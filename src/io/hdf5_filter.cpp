// hdf5_filter.cpp -- see hdf5_filter.hpp.
#include "io/hdf5_filter.hpp"

#include "common/hid.hpp"

#include <H5PLextern.h>
#include <dlfcn.h>
#include <link.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

namespace arraymorph::io {
namespace {

using Buf = std::vector<unsigned char>;

std::mutex& filter_mutex() {
  static std::mutex mu;
  return mu;
}

// Found classes by id (copied: HDF5 and plugins keep theirs for the life of the process).
std::map<H5Z_filter_t, H5Z_class2_t>& class_cache() {
  static std::map<H5Z_filter_t, H5Z_class2_t> cache;
  return cache;
}

// The symbol `name` defined by the shared object `path` itself (not one of its dependencies).
void* own_symbol(const std::string& path, const char* name) {
  void* h = dlopen(path.empty() ? nullptr : path.c_str(), RTLD_LAZY | RTLD_NOLOAD);
  if (!h) return nullptr;
  void* sym = dlsym(h, name);
  Dl_info info{};
  const bool own = sym && dladdr(sym, &info) && info.dli_fname && path == info.dli_fname;
  dlclose(h);
  return own ? sym : nullptr;
}

std::vector<std::string> loaded_objects() {
  std::vector<std::string> out;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        if (info->dlpi_name && *info->dlpi_name) static_cast<std::vector<std::string>*>(data)->push_back(info->dlpi_name);
        return 0;
      },
      &out);
  return out;
}

// A plugin's class, in the H5Z_class2_t layout (old plugins return an H5Z_class1_t, which HDF5
// tells apart by its first field, as here).
bool from_plugin_info(const void* info, H5Z_class2_t* out) {
  const auto* c2 = static_cast<const H5Z_class2_t*>(info);
  if (c2->version == H5Z_CLASS_T_VERS) {
    *out = *c2;
    return true;
  }
#ifndef H5_NO_DEPRECATED_SYMBOLS
  const auto* c1 = static_cast<const H5Z_class1_t*>(info);
  *out = H5Z_class2_t{H5Z_CLASS_T_VERS, c1->id, 1, 1, c1->name, c1->can_apply, c1->set_local, c1->filter};
  return true;
#else
  return false;
#endif
}

bool find_in_loaded_plugins(H5Z_filter_t id, H5Z_class2_t* out) {
  for (const auto& path : loaded_objects()) {
    auto type = reinterpret_cast<H5PL_type_t (*)()>(own_symbol(path, "H5PLget_plugin_type"));
    auto info = reinterpret_cast<const void* (*)()>(own_symbol(path, "H5PLget_plugin_info"));
    if (!type || !info || type() != H5PL_TYPE_FILTER) continue;
    H5Z_class2_t c{};
    if (from_plugin_info(info(), &c) && c.id == id) {
      *out = c;
      return true;
    }
  }
  return false;
}

// h5py's LZF filter: h5py registers it from functions its h5z extension module exports.
constexpr H5Z_filter_t kH5pyLzf = 32000;
bool find_h5py_lzf(H5Z_class2_t* out) {
  for (const auto& path : loaded_objects()) {
    void* filter = own_symbol(path, "lzf_filter");
    void* set_local = own_symbol(path, "lzf_set_local");
    if (!filter || !set_local) continue;
    *out = H5Z_class2_t{H5Z_CLASS_T_VERS, kH5pyLzf, 1, 1, "lzf", nullptr,
                        reinterpret_cast<H5Z_set_local_func_t>(set_local), reinterpret_cast<H5Z_func_t>(filter)};
    return true;
  }
  return false;
}

bool find_builtin(H5Z_filter_t id, H5Z_class2_t* out) {
  const char* sym = id == H5Z_FILTER_DEFLATE       ? "H5Z_DEFLATE"
                    : id == H5Z_FILTER_SHUFFLE     ? "H5Z_SHUFFLE"
                    : id == H5Z_FILTER_FLETCHER32  ? "H5Z_FLETCHER32"
                    : id == H5Z_FILTER_SZIP        ? "H5Z_SZIP"
                    : id == H5Z_FILTER_NBIT        ? "H5Z_NBIT"
                    : id == H5Z_FILTER_SCALEOFFSET ? "H5Z_SCALEOFFSET"
                                                   : nullptr;
  if (!sym) return false;
  const auto* c = static_cast<const H5Z_class2_t*>(dlsym(RTLD_DEFAULT, sym));
  if (!c || c->id != id) return false;
  *out = *c;
  return true;
}

// The filter's class (HDF5 calling thread or under filter_mutex()).
Result<H5Z_class2_t> find_class(H5Z_filter_t id, const std::string& name) {
  auto& cache = class_cache();
  if (auto it = cache.find(id); it != cache.end()) return it->second;
  H5Z_class2_t c{};
  bool found = find_builtin(id, &c) || find_in_loaded_plugins(id, &c);
  if (!found) {
    htri_t avail = -1;
    H5E_BEGIN_TRY { avail = H5Zfilter_avail(id); }
    H5E_END_TRY
    if (avail <= 0) H5Eclear2(H5E_DEFAULT);  // HDF5's "can't find plugin" entries: ours says more
    found = (avail > 0 && find_in_loaded_plugins(id, &c)) || (id == kH5pyLzf && find_h5py_lzf(&c));
  }
  if (!found || !c.filter)
    return unsupported("HDF5 filter " + std::to_string(id) + (name.empty() ? "" : " (" + name + ")") +
                       ": it is not available in this process (not built into libhdf5, and no loaded library or "
                       "plugin on HDF5_PLUGIN_PATH provides it)");
  cache.emplace(id, c);
  return c;
}

model::Codec filter_codec(const char* codec_name, H5Z_filter_t id, const std::string& name, unsigned flags,
                          const std::vector<unsigned>& cd) {
  model::Codec codec{codec_name, model::json::object()};
  codec.configuration["id"] = id;
  codec.configuration["name"] = name;
  codec.configuration["flags"] = flags;
  codec.configuration["cd_values"] = cd;
  return codec;
}

std::string filter_label(const model::Codec& codec) {
  const auto& cfg = codec.configuration;
  std::string name = cfg.value("name", std::string());
  return "HDF5 filter " + std::to_string(cfg.value("id", -1)) + (name.empty() ? "" : " (" + name + ")");
}

}  // namespace

Result<model::Codec> prepare_filter(hid_t dcpl, unsigned index, hid_t type, const std::vector<uint64_t>& chunk_dims) {
  unsigned flags = 0, config = 0;
  size_t ncd = 0;
  char fname[256] = {0};
  const H5Z_filter_t id = H5Pget_filter2(dcpl, index, &flags, &ncd, nullptr, sizeof fname, fname, &config);
  if (id < 0) return invalid_argument("cannot read filter " + std::to_string(index) + " of the dataset creation property list");
  std::string name = fname;
  std::lock_guard<std::mutex> lock(filter_mutex());
  auto cls = find_class(id, name);
  if (!cls.ok() && (flags & H5Z_FLAG_OPTIONAL) && cls.status().code() == Code::kUnsupported) {
    std::vector<unsigned> cd(ncd);
    H5Pget_filter2(dcpl, index, &flags, &ncd, cd.data(), 0, nullptr, &config);
    return filter_codec(kSkippedFilter, id, name, flags, cd);
  }
  if (!cls.ok()) return cls.status();
  const H5Z_class2_t c = cls.value();
  if (name.empty() && c.name) name = c.name;
  const std::string label = "HDF5 filter " + std::to_string(id) + " (" + name + ")";
  if (!c.encoder_present) return unsupported(label + " without an encoder in this build: datasets using it cannot be written");

  std::vector<hsize_t> dims(chunk_dims.begin(), chunk_dims.end());
  Hid space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  Hid local(H5Pcopy(dcpl));
  if (c.can_apply) {
    htri_t ok = c.can_apply(dcpl, type, space.get());
    if (ok < 0) return invalid_argument(label + " refused the dataset (its can_apply callback failed)");
    if (ok == 0 && !(flags & H5Z_FLAG_OPTIONAL))
      return invalid_argument(label + " cannot be applied to this dataset's datatype or chunk shape");
    if (ok == 0) return model::Codec{};  // optional and not applicable: HDF5 leaves it out too
  }
  if (c.set_local && c.set_local(local.get(), type, space.get()) < 0)
    return invalid_argument(label + " refused the dataset (its set_local callback failed)");

  // The cd_values after set_local, as native HDF5 stores them.
  std::vector<unsigned> cd(64);
  for (;;) {
    size_t n = cd.size();
    if (H5Pget_filter_by_id2(local.get(), id, &flags, &n, cd.data(), 0, nullptr, &config) < 0)
      return internal_error("cannot read the cd_values of " + label);
    if (n <= cd.size()) {
      cd.resize(n);
      break;
    }
    cd.resize(n);
  }
  return filter_codec(kHdf5FilterCodec, id, name, flags, cd);
}

Status check_filter(const model::Codec& codec) {
  std::lock_guard<std::mutex> lock(filter_mutex());
  const auto& cfg = codec.configuration;
  auto cls = find_class(cfg.value("id", -1), cfg.value("name", std::string()));
  return cls.ok() ? ok_status() : cls.status();
}

Result<Buf> run_filter(const model::Codec& codec, Buf buf, bool reverse) {
  const auto& cfg = codec.configuration;
  const std::vector<unsigned> cd = cfg.value("cd_values", std::vector<unsigned>());
  unsigned flags = cfg.value("flags", 0u);
  if (reverse) flags |= H5Z_FLAG_REVERSE;
  std::lock_guard<std::mutex> lock(filter_mutex());
  auto cls = find_class(cfg.value("id", -1), cfg.value("name", std::string()));
  if (!cls.ok()) return cls.status();
  // Filters realloc/free the buffer they are given (HDF5 hands them malloc'd memory).
  size_t buf_size = std::max<size_t>(buf.size(), 1);
  void* p = std::malloc(buf_size);
  if (!p) return internal_error("out of memory for a chunk of " + std::to_string(buf.size()) + " bytes");
  if (!buf.empty()) std::memcpy(p, buf.data(), buf.size());
  size_t n = 0;
  H5E_BEGIN_TRY { n = cls.value().filter(flags, cd.size(), cd.data(), buf.size(), &buf_size, &p); }
  H5E_END_TRY
  if (n == 0) {
    std::free(p);
    if (reverse) return io_error(filter_label(codec) + " could not decode the chunk (corrupt or failed its checksum)");
    if (flags & H5Z_FLAG_OPTIONAL)
      return unsupported("skipping the optional " + filter_label(codec) +
                         " for a chunk it cannot encode (native HDF5 stores such a chunk unfiltered and marks it in a "
                         "per-chunk filter mask, which a chunk object has no place for)");
    return io_error(filter_label(codec) + " failed to encode the chunk");
  }
  Buf out(static_cast<unsigned char*>(p), static_cast<unsigned char*>(p) + n);
  std::free(p);
  return out;
}

void set_filter(hid_t dcpl, const model::Codec& codec) {
  const auto& cfg = codec.configuration;
  const std::vector<unsigned> cd = cfg.value("cd_values", std::vector<unsigned>());
  H5Pset_filter(dcpl, cfg.value("id", 0), cfg.value("flags", 0u), cd.size(), cd.data());
}

}  // namespace arraymorph::io
