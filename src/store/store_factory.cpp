// store_factory.cpp -- name parsing and backend selection; owns the memory-space registry.
#include "store/store_factory.hpp"

#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>

#include "store/backends.hpp"
#include "store/local_store.hpp"
#include "store/memory_store.hpp"
#ifdef ARRAYMORPH_WITH_S3
#include "store/s3/s3_credentials.hpp"
#endif

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

// xarray (and other tools) turn a relative file name into an absolute path under the current
// directory before HDF5 sees it. Such a path names the same file as the relative name did: the
// part below the current directory. (Anything else absolute is kept as it is.)
std::string relative_to_cwd(const std::string& name) {
  if (name.empty() || name.front() != '/') return name;
  std::error_code ec;
  const std::string cwd = fs::current_path(ec).lexically_normal().string();
  if (ec || cwd.empty() || cwd == "/") return name;
  if (name.size() > cwd.size() + 1 && name.compare(0, cwd.size(), cwd) == 0 && name[cwd.size()] == '/')
    return name.substr(cwd.size() + 1);
  return name;
}

Result<StoreLocation> resolve_plain(const std::string& given, const Config& config) {
  const std::string name = relative_to_cwd(given);
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

namespace {

// "name=<length>:<value>;" so no two different field lists give the same text.
void field(std::string& out, const char* name, const std::string& value) {
  out += name;
  out += '=';
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += ';';
}
template <typename T>
void field(std::string& out, const char* name, T value) {
  std::ostringstream s;
  s.precision(17);
  s << value;
  field(out, name, s.str());
}

// The network settings a store is built from, copied between Config and StoreIdentity (both
// directions: one list, so the identity and the config it gives back cannot drift apart).
template <typename From, typename To>
void copy_network_settings(const From& from, To& to) {
  to.retry = from.retry;
  to.event_loops = from.event_loops;
  to.connect_timeout_s = from.connect_timeout_s;
  to.request_timeout_s = from.request_timeout_s;
}

}  // namespace

StoreIdentity store_identity(const StoreLocation& loc, const Config& config) {
  StoreIdentity id;
  id.platform = loc.platform;
  id.root = loc.root;
  id.max_inflight = config.max_inflight;
  if (loc.platform == Platform::kS3 || loc.platform == Platform::kAzure) copy_network_settings(config, id);
  if (loc.platform == Platform::kS3) {
    id.s3 = config.s3;
    id.s3.bucket.clear();
#ifdef ARRAYMORPH_WITH_S3
    if (s3::uses_credential_chain(config.s3)) id.s3_credential_environment = s3::aws_environment();
#endif
  }
  if (loc.platform == Platform::kAzure) {
    id.azure = config.azure;
    id.azure.container = loc.root;
  }
  return id;
}

Config StoreIdentity::config() const {
  Config c;
  c.platform = platform;
  copy_network_settings(*this, c);
  c.max_inflight = max_inflight;
  c.s3 = s3;
  c.azure = azure;
  return c;
}

std::string StoreIdentity::cache_key() const {
  std::string k;
  field(k, "platform", platform_name(platform));
  field(k, "root", root);
  field(k, "max_inflight", max_inflight);
  field(k, "event_loops", event_loops);
  field(k, "connect_timeout_s", connect_timeout_s);
  field(k, "request_timeout_s", request_timeout_s);
  field(k, "retry.max_attempts", retry.max_attempts);
  field(k, "retry.initial_backoff_s", retry.initial_backoff_s);
  field(k, "retry.max_backoff_s", retry.max_backoff_s);
  field(k, "retry.jitter", retry.jitter);
  field(k, "retry.total_timeout_s", retry.total_timeout_s);
  field(k, "s3.bucket", s3.bucket);
  field(k, "s3.access_key", s3.access_key);
  field(k, "s3.secret_key", s3.secret_key);
  field(k, "s3.session_token", s3.session_token);
  field(k, "s3.region", s3.region);
  field(k, "s3.endpoint", s3.endpoint);
  field(k, "s3.use_tls", s3.use_tls);
  field(k, "s3.virtual_addressing", s3.virtual_addressing);
  field(k, "s3.signed_payloads", s3.signed_payloads);
  field(k, "s3.anonymous", s3.anonymous);
  field(k, "s3.ca_bundle", s3.ca_bundle);
  field(k, "s3.request_payer", s3.request_payer);
  field(k, "s3.multipart_threshold", s3.multipart_threshold);
  field(k, "s3.multipart_part_size", s3.multipart_part_size);
  field(k, "s3_credential_environment", s3_credential_environment);
  field(k, "azure.container", azure.container);
  field(k, "azure.connection_string", azure.connection_string);
  field(k, "azure.sas_token", azure.sas_token);
  field(k, "azure.account", azure.account);
  field(k, "azure.credential", azure.credential);
  field(k, "azure.tenant_id", azure.tenant_id);
  field(k, "azure.client_id", azure.client_id);
  field(k, "azure.client_secret", azure.client_secret);
  field(k, "azure.authority_host", azure.authority_host);
  field(k, "azure.federated_token_file", azure.federated_token_file);
  field(k, "azure.imds_endpoint", azure.imds_endpoint);
  field(k, "azure.identity_endpoint", azure.identity_endpoint);
  field(k, "azure.identity_header", azure.identity_header);
  field(k, "azure.ca_bundle", azure.ca_bundle);
  field(k, "azure.block_threshold", azure.block_threshold);
  field(k, "azure.block_size", azure.block_size);
  return k;
}

Result<std::shared_ptr<ObjectStore>> open_store(const StoreLocation& loc, const Config& config,
                                                std::shared_ptr<Stats> stats) {
  return open_store(store_identity(loc, config), std::move(stats));
}

Result<std::shared_ptr<ObjectStore>> open_store(const StoreIdentity& id,
                                                std::shared_ptr<Stats> stats) {
  // The backends see only the identity's fields, so the cache key covers all they read.
  const Config config = id.config();
  (void)config;  // unused when no network backend is built
  StoreLocation loc;
  loc.platform = id.platform;
  loc.root = id.root;
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
