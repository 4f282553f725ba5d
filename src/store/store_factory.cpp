// store_factory.cpp -- name parsing and backend selection; owns the memory-space registry.
#include "store/store_factory.hpp"

#include <filesystem>
#include <map>
#include <mutex>

#include "store/backends.hpp"
#include "store/local_store.hpp"
#include "store/memory_store.hpp"

namespace arraymorph {
namespace {

namespace fs = std::filesystem;

std::string strip_slashes(const std::string& s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && s[b] == '/') ++b;
  while (e > b && s[e - 1] == '/') --e;
  return s.substr(b, e - b);
}

// "scheme" of "scheme://..." or empty when `name` is not a URL.
std::string url_scheme(const std::string& name) {
  const size_t pos = name.find("://");
  if (pos == std::string::npos || pos == 0) return "";
  for (size_t i = 0; i < pos; ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
    if (!ok) return "";
  }
  return name.substr(0, pos);
}

// "bucket/a/b.h5" -> root "bucket", key "a/b.h5".
Result<StoreLocation> split_root_key(Platform platform, const std::string& url,
                                     const std::string& rest, const char* root_kind) {
  const size_t slash = rest.find('/');
  StoreLocation loc;
  loc.platform = platform;
  loc.root = rest.substr(0, slash);
  loc.key = slash == std::string::npos ? "" : strip_slashes(rest.substr(slash + 1));
  if (loc.root.empty()) {
    return invalid_argument("URL '" + url + "' names no " + root_kind);
  }
  return loc;
}

Result<StoreLocation> resolve_file_url(const std::string& url, const std::string& rest) {
  // file:///abs/path and file://localhost/abs/path (RFC 8089); other hosts are not local.
  std::string path;
  if (!rest.empty() && rest.front() == '/') {
    path = rest;
  } else if (rest.compare(0, 10, "localhost/") == 0) {
    path = rest.substr(9);
  } else {
    return invalid_argument("URL '" + url +
                            "' is not a local absolute path (expected file:///dir/name)");
  }
  StoreLocation loc;
  loc.platform = Platform::kLocal;
  if (path.back() == '/') {
    loc.root = fs::path(path).lexically_normal().string();
  } else {
    const fs::path p = fs::path(path).lexically_normal();
    loc.root = p.parent_path().string();
    loc.key = p.filename().string();
  }
  if (loc.root.size() > 1 && loc.root.back() == '/') loc.root.pop_back();
  return loc;
}

Result<std::string> default_local_root(const Config& config) {
  std::error_code ec;
  fs::path root = config.local.root.empty() ? fs::current_path(ec) : fs::path(config.local.root);
  if (ec) return io_error("cannot determine the current directory: " + ec.message());
  if (!fs::is_directory(root, ec)) {
    return not_found("local store root '" + root.string() +
                     "' does not exist or is not a directory (set ARRAYMORPH_LOCAL_ROOT to an "
                     "existing directory)");
  }
  return fs::absolute(root, ec).lexically_normal().string();
}

Result<StoreLocation> resolve_plain(const std::string& name, const Config& config) {
  StoreLocation loc;
  loc.platform = config.platform;
  loc.key = strip_slashes(name);
  switch (config.platform) {
    case Platform::kS3:
      loc.root = config.s3.bucket;
      break;
    case Platform::kAzure:
      loc.root = config.azure.container;
      break;
    case Platform::kMemory:
      loc.root = "default";
      break;
    case Platform::kLocal: {
      // An absolute path is what an HDF5 user means by a file name on a local disk.
      if (!name.empty() && name.front() == '/') return resolve_file_url(name, name);
      Result<std::string> root = default_local_root(config);
      if (!root.ok()) return root.status();
      loc.root = root.value();
      return loc;
    }
  }
  if (loc.root.empty()) {
    return invalid_argument(std::string("no ") +
                            (config.platform == Platform::kS3 ? "bucket" : "container") +
                            " configured for '" + name + "' on " + platform_name(config.platform) +
                            ": set BUCKET_NAME or use a " +
                            (config.platform == Platform::kS3 ? "s3://bucket/" : "az://container/") +
                            "key URL");
  }
  return loc;
}

// The process-wide registry of memory spaces (see store_factory.hpp for why it exists).
std::shared_ptr<MemorySpace> memory_space(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<MemorySpace>> spaces;
  std::lock_guard<std::mutex> lock(mu);
  std::shared_ptr<MemorySpace>& space = spaces[name];
  if (!space) space = make_memory_space();
  return space;
}

}  // namespace

Result<StoreLocation> resolve_location(const std::string& name, const Config& config) {
  if (name.empty()) return invalid_argument("empty file name");
  const std::string scheme = url_scheme(name);
  if (scheme.empty()) return resolve_plain(name, config);
  const std::string rest = name.substr(scheme.size() + 3);
  if (scheme == "s3") return split_root_key(Platform::kS3, name, rest, "bucket");
  if (scheme == "az") return split_root_key(Platform::kAzure, name, rest, "container");
  if (scheme == "mem") return split_root_key(Platform::kMemory, name, rest, "memory space");
  if (scheme == "file") return resolve_file_url(name, rest);
  return invalid_argument("unsupported URL scheme '" + scheme + "' in '" + name +
                          "' (expected s3://, az://, file:// or mem://)");
}

Result<std::shared_ptr<ObjectStore>> open_store(const StoreLocation& loc, const Config& config,
                                                std::shared_ptr<Stats> stats) {
  (void)config;  // only the network backends read it
  switch (loc.platform) {
    case Platform::kS3:
#if defined(ARRAYMORPH_WITH_S3)
      return make_s3_store(config, loc.root, std::move(stats));
#else
      return Status(Code::kUnsupported,
                    "S3 backend not built into this arraymorph (rebuild with "
                    "-DARRAYMORPH_WITH_S3=ON)");
#endif
    case Platform::kAzure:
#if defined(ARRAYMORPH_WITH_AZURE)
      return make_azure_store(config, loc.root, std::move(stats));
#else
      return Status(Code::kUnsupported,
                    "Azure backend not built into this arraymorph (rebuild with "
                    "-DARRAYMORPH_WITH_AZURE=ON)");
#endif
    case Platform::kLocal:
      return make_local_store(loc.root, std::move(stats));
    case Platform::kMemory:
      return make_memory_store(memory_space(loc.root), loc.root, std::move(stats));
  }
  return internal_error("unknown storage platform");
}

}  // namespace arraymorph
