// external_links.cpp -- see external_links.hpp.
#include "vol/external_links.hpp"

#include <H5VLconnector.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sys/stat.h>

#include "vol/callbacks.hpp"
#include "vol/registration.hpp"

namespace arraymorph::vol {
namespace {

constexpr int kMaxExternalHops = 16;  // HDF5's default H5Pset_nlinks

bool has_scheme(const std::string& name) { return name.find("://") != std::string::npos; }

// The local-disk path a name means when it is one: file:// URLs and absolute paths. Empty for
// s3://, az://, mem:// and relative names (those are keys in the configured store).
std::string local_path(const std::string& name) {
  if (name.rfind("file://", 0) == 0) {
    std::string rest = name.substr(7);
    if (rest.rfind("localhost/", 0) == 0) rest = rest.substr(9);
    return rest;
  }
  return !name.empty() && name.front() == '/' ? name : std::string();
}

// True when `path` is a regular file starting with the HDF5 signature (at byte 0 or after a
// userblock of 512, 1024, ... bytes): a native HDF5 file. An arraymorph file on a local disk is a
// directory.
bool is_native_hdf5(const std::string& path) {
  struct stat st;
  if (path.empty() || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  std::ifstream in(path, std::ios::binary);
  static const char kSignature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  for (off_t at = 0; at + 8 <= st.st_size; at = at ? at * 2 : 512) {
    char buf[8];
    in.seekg(at);
    if (!in.read(buf, 8)) return false;
    if (std::memcmp(buf, kSignature, 8) == 0) return true;
  }
  return false;
}

}  // namespace

std::string pack_external_value(const std::string& file, const std::string& path) {
  std::string v(1, '\0');  // H5L_EXT_VERSION 0, no flags
  v += file;
  v.push_back('\0');
  v += path;
  v.push_back('\0');
  return v;
}

void unpack_external_value(const void* buf, size_t size, std::string* file, std::string* path) {
  const char* p = static_cast<const char*>(buf);
  if (!p || size < 3) throw Error(invalid_argument("external link value is too short"));
  const char* end = p + size;
  const char* f = p + 1;
  const char* f_end = static_cast<const char*>(std::memchr(f, '\0', end - f));
  if (!f_end) throw Error(invalid_argument("external link value: the file name is not NUL-terminated"));
  const char* o = f_end + 1;
  const char* o_end = o < end ? static_cast<const char*>(std::memchr(o, '\0', end - o)) : nullptr;
  if (!o_end) throw Error(invalid_argument("external link value: the object path is not NUL-terminated"));
  *file = std::string(f, f_end);
  *path = std::string(o, o_end);
}

std::string external_file_name(const std::string& parent, const std::string& file) {
  if (has_scheme(file) || (!file.empty() && file.front() == '/')) return file;
  const size_t slash = parent.rfind('/');
  if (slash == std::string::npos) return file;           // parent is a plain name at the store root
  if (has_scheme(parent) && slash < parent.find("://") + 3) return file;  // "s3://bucket" without a key
  return parent.substr(0, slash + 1) + file;
}

void* open_external_as(const Object& o, const std::string& path, H5I_type_t want) {
  H5I_type_t got = H5I_BADID;
  void* obj = open_if_external(o, path, H5P_DEFAULT, &got);
  if (!obj || got == want) return obj;
  delete as_object(obj);
  auto kind = [](H5I_type_t t) {
    return t == H5I_GROUP ? "a group" : t == H5I_DATASET ? "a dataset" : "a committed datatype";
  };
  throw Error(invalid_argument("the external link '" + path + "' names " + kind(got) + ", not " + kind(want)));
}

hid_t lapl_of(const H5VL_loc_params_t* loc) {
  if (loc && loc->type == H5VL_OBJECT_BY_NAME) return loc->loc_data.loc_by_name.lapl_id;
  if (loc && loc->type == H5VL_OBJECT_BY_IDX) return loc->loc_data.loc_by_idx.lapl_id;
  return H5P_DEFAULT;
}

void* open_external(const Object& via, const std::string& loc, const model::LinkInfo& link, hid_t lapl,
                    H5I_type_t* type, int hops) {
  if (++hops > kMaxExternalHops)
    throw Error(invalid_argument("too many external links while opening '" + loc + "' (more than " +
                                 std::to_string(kMaxExternalHops) + "; is there a cycle?)"));
  const std::string name = external_file_name(via.file->name, link.file);
  const std::string what = "the external link '" + loc + "' (to '" + link.target + "' in '" + link.file + "')";
  if (is_native_hdf5(local_path(name)))
    throw Error(unsupported("opening " + what + ": '" + name +
                            "' is a native HDF5 file, and a VOL connector can only hand HDF5 objects of its own "
                            "(open that file with the native connector and the link's path instead)"));
  unsigned flags = via.file->writable() ? H5F_ACC_RDWR : H5F_ACC_RDONLY;
  unsigned asked = H5F_ACC_DEFAULT;
  if (lapl >= 0 && lapl != H5P_DEFAULT && H5Pget_elink_acc_flags(lapl, &asked) >= 0 && asked != H5F_ACC_DEFAULT) {
    if ((asked & H5F_ACC_RDWR) && !via.file->writable())
      throw Error(invalid_argument("cannot open " + what + " for writing: file '" + via.file->name +
                                   "' was opened read-only"));
    flags = (asked & H5F_ACC_RDWR) ? H5F_ACC_RDWR : H5F_ACC_RDONLY;
  }
  void* file_obj = nullptr;
  try {
    file_obj = file_open(name.c_str(), flags, via.file->fapl.get(), H5P_DEFAULT, nullptr);
  } catch (const Error& e) {
    // As natively, a missing target file means the link's object cannot be found.
    if (e.status().code() == Code::kNotFound)
      throw Error(not_found("cannot open " + what + ": " + e.status().message()));
    throw Error(e.status().with_context("opening " + what));
  }
  Object& f = *as_object(file_obj);
  void* obj = nullptr;
  try {
    const std::string target = check(model::join_path("/", link.target));
    obj = open_if_external(f, target, lapl, type, hops);  // the target is an external link again
    if (!obj) obj = open_object(f, check(model::resolve_object(*f.file->tree, target)), type, H5P_DEFAULT);
  } catch (const Error& e) {
    file_close(file_obj, H5P_DEFAULT, nullptr);
    throw Error(e.status().with_context("following " + what));
  }
  // The object keeps the target file's state alive; the file id HDF5 never saw is let go.
  file_close(file_obj, H5P_DEFAULT, nullptr);
  return obj;
}

std::optional<ThroughExternal> through_external(const Object& o, const std::string& path, hid_t lapl, int hops) {
  auto norm = model::normalize_path(path);
  if (!norm.ok()) return std::nullopt;  // the caller's own resolution reports it
  // The first component (from the root) that is an external link with more path below it.
  const std::string& p = norm.value();
  for (size_t end = p.find('/', 1); end != std::string::npos; end = p.find('/', end + 1)) {
    auto loc = model::link_location(*o.file->tree, p.substr(0, end));
    if (!loc.ok()) return std::nullopt;
    auto info = model::link_info(*o.file->tree, loc.value());
    if (!info.ok()) return std::nullopt;
    if (info.value().kind != model::LinkKind::kExternal) continue;
    H5I_type_t mid = H5I_BADID;
    std::unique_ptr<Object> group(as_object(open_external(o, loc.value(), info.value(), lapl, &mid, hops)));
    if (mid != H5I_GROUP)
      throw Error(not_found("'" + p + "' does not exist: the external link '" + loc.value() + "' does not name a group"));
    const std::string rest = check(model::join_path(group->path, p.substr(end + 1)));
    if (auto deeper = through_external(*group, rest, lapl, hops + 1)) return deeper;
    return ThroughExternal{std::move(group), rest};
  }
  return std::nullopt;
}

void* open_if_external(const Object& o, const std::string& path, hid_t lapl, H5I_type_t* type, int hops) {
  if (auto through = through_external(o, path, lapl, hops)) {  // f["ext/a/b"]
    if (void* ext = open_if_external(*through->group, through->path, lapl, type, hops + 1)) return ext;
    return open_object(*through->group, check(model::resolve_object(*through->group->file->tree, through->path)), type,
                       H5P_DEFAULT);
  }
  auto loc = model::link_location(*o.file->tree, path);
  if (!loc.ok()) return nullptr;
  auto info = model::link_info(*o.file->tree, loc.value());
  if (!info.ok() || info.value().kind != model::LinkKind::kExternal) return nullptr;
  return open_external(o, loc.value(), info.value(), lapl, type, hops);
}

}  // namespace arraymorph::vol
