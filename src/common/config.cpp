// config.cpp -- Config::from_env / Config::apply and the value parsers they share.
//
// Both entry points funnel into one setter keyed by the apply() key names, so an environment
// variable and the matching configure() key can never disagree on syntax or validation. Error
// messages name the variable (or key) and, for non-secret values only, the rejected value.
#include "common/config.hpp"

#include "common/log.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <thread>
#include <vector>

#include "net/strings.hpp"

namespace arraymorph {
namespace {

using net::trim;

Status bad_value(const std::string& name, const std::string& value, const std::string& expected) {
  return invalid_argument(name + ": invalid value '" + value + "' (expected " + expected + ")");
}

Result<int> parse_int(const std::string& name, const std::string& raw, int min_value,
                      const std::string& expected) {
  const std::string v = trim(raw);
  long long out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || out < min_value ||
      out > std::numeric_limits<int>::max()) {
    return bad_value(name, raw, expected);
  }
  return static_cast<int>(out);
}

// Seconds as a non-negative finite float ("2", "0.5", "1e-3").
Result<double> parse_seconds(const std::string& name, const std::string& raw) {
  const std::string v = trim(raw);
  double out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !std::isfinite(out) ||
      out < 0) {
    return bad_value(name, raw, "a number of seconds >= 0");
  }
  return out;
}

// Byte sizes: a plain integer, or one with a unit. "KiB/MiB/GiB/TiB" and the bare letters
// "k/m/g/t" are powers of 1024 (as in dd and most HPC tools); "kB/MB/GB/TB" are powers of 1000.
// "B" alone is bytes.
Result<uint64_t> parse_bytes(const std::string& name, const std::string& raw) {
  const std::string v = trim(raw);
  const Status bad = bad_value(name, raw, "a byte count such as 1048576, 512k, 256MiB or 1GiB");
  uint64_t number = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), number);
  if (v.empty() || ec != std::errc() || end == v.data()) return bad;
  const std::string unit = net::ascii_lower(trim(std::string(end, v.data() + v.size())));
  struct Unit {
    const char* name;
    uint64_t factor;
  };
  static const Unit kUnits[] = {
      {"", 1},          {"b", 1},
      {"k", 1ull << 10}, {"kib", 1ull << 10}, {"kb", 1000ull},
      {"m", 1ull << 20}, {"mib", 1ull << 20}, {"mb", 1000ull * 1000},
      {"g", 1ull << 30}, {"gib", 1ull << 30}, {"gb", 1000ull * 1000 * 1000},
      {"t", 1ull << 40}, {"tib", 1ull << 40}, {"tb", 1000ull * 1000 * 1000 * 1000},
  };
  for (const Unit& u : kUnits) {
    if (unit == u.name) {
      if (number > std::numeric_limits<uint64_t>::max() / u.factor) return bad;
      return number * u.factor;
    }
  }
  return bad;
}

Result<Platform> parse_platform(const std::string& name, const std::string& raw) {
  const std::string v = net::ascii_lower(trim(raw));
  if (v == "s3") return Platform::kS3;
  if (v == "azure") return Platform::kAzure;
  if (v == "local") return Platform::kLocal;
  if (v == "memory") return Platform::kMemory;
  return invalid_argument(name + ": unknown storage platform '" + raw +
                          "' (expected one of S3, Azure, Local, Memory)");
}

// One parser for log levels (src/common/log.hpp); the configuration keeps the canonical name.
Result<std::string> parse_log_level(const std::string& name, const std::string& raw) {
  Result<log::Level> r = log::parse_level(name, trim(raw));
  if (!r.ok()) return r.status();
  std::string v = net::ascii_lower(log::level_name(r.value()));
  return v;
}

// A scheme in the endpoint says whether TLS is wanted; remembering it here means
// AWS_ENDPOINT_URL_S3=http://127.0.0.1:8333 works without also setting AWS_USE_TLS.
void infer_tls_from_endpoint(S3Config& s3) {
  const std::string e = net::ascii_lower(s3.endpoint);
  if (e.rfind("http://", 0) == 0) s3.use_tls = false;
  if (e.rfind("https://", 0) == 0) s3.use_tls = true;
}

// Sets one setting by its apply() key; `name` is what errors call it (key or variable).
// Returns a Status with code kNotFound for unknown keys so the callers can word that error.
Status set_one(Config& c, const std::string& key, const std::string& value,
               const std::string& name) {
  // Values end up in HTTP headers, URLs and paths: a CR/LF would let a value add a header of its
  // own (header injection), other control bytes are never meaningful. The value itself is not
  // quoted, since it may be a secret.
  for (size_t i = 0; i < value.size(); ++i) {
    const unsigned char ch = static_cast<unsigned char>(value[i]);
    if (ch < 0x20 || ch == 0x7f) {
      return invalid_argument(name + ": contains a control character (byte 0x" +
                              std::string(1, "0123456789abcdef"[ch >> 4]) +
                              std::string(1, "0123456789abcdef"[ch & 15]) + " at position " +
                              std::to_string(i) + "); CR, LF and other control bytes are refused");
    }
  }
  auto assign_int = [&](int& field, int min_value, const char* expected) {
    Result<int> r = parse_int(name, value, min_value, expected);
    if (!r.ok()) return r.status();
    field = r.value();
    return ok_status();
  };
  auto assign_seconds = [&](double& field) {
    Result<double> r = parse_seconds(name, value);
    if (!r.ok()) return r.status();
    field = r.value();
    return ok_status();
  };
  auto assign_bytes = [&](uint64_t& field, uint64_t min_value) {
    Result<uint64_t> r = parse_bytes(name, value);
    if (!r.ok()) return r.status();
    if (r.value() < min_value) {
      return bad_value(name, value, "at least " + std::to_string(min_value) + " bytes");
    }
    field = r.value();
    return ok_status();
  };
  auto assign_bool = [&](bool& field) {
    Result<bool> r = parse_bool(name, value);
    if (!r.ok()) return r.status();
    field = r.value();
    return ok_status();
  };

  if (key == "threads") return assign_int(c.threads, 0, "an integer >= 1, or 0 for one per core");
  if (key == "max_inflight") return assign_int(c.max_inflight, 1, "an integer >= 1");
  if (key == "event_loops") return assign_int(c.event_loops, 1, "an integer >= 1");
  if (key == "cache_bytes") return assign_bytes(c.cache_bytes, 0);
  if (key == "readahead_bytes") return assign_bytes(c.readahead_bytes, 0);
  if (key == "range_latency") return assign_seconds(c.range_latency_s);
  if (key == "range_bandwidth") return assign_bytes(c.range_bandwidth, 1);
  if (key == "range_merge_gap") return assign_bytes(c.range_merge_gap, 0);
  if (key == "ranged_reads") return assign_bool(c.ranged_reads);
  if (key == "connect_timeout") return assign_seconds(c.connect_timeout_s);
  if (key == "request_timeout") return assign_seconds(c.request_timeout_s);
  if (key == "retry_max_attempts") return assign_int(c.retry.max_attempts, 1, "an integer >= 1");
  if (key == "retry_initial_backoff") return assign_seconds(c.retry.initial_backoff_s);
  if (key == "retry_max_backoff") return assign_seconds(c.retry.max_backoff_s);
  if (key == "retry_total_timeout") return assign_seconds(c.retry.total_timeout_s);
  if (key == "log_level") {
    Result<std::string> r = parse_log_level(name, value);
    if (!r.ok()) return r.status();
    c.log_level = r.value();
    return ok_status();
  }
  if (key == "chunk_checksum") return assign_bool(c.chunk_checksum);
  if (key == "shard_chunks") {
    // Syntax only here; the rank is checked when a dataset is created.
    const std::string v = trim(value);
    bool digit = false;
    for (size_t i = 0; i < v.size(); ++i) {
      const char ch = v[i];
      if (ch >= '0' && ch <= '9') {
        digit = true;
      } else if ((ch == 'x' || ch == 'X' || ch == ',') && digit && i + 1 < v.size()) {
        digit = false;
      } else {
        return bad_value(name, value, "a number of chunks per shard (\"16\") or one per dimension (\"4x16\")");
      }
    }
    c.shard_chunks = v;
    return ok_status();
  }
  if (key == "file_locking") {
    if (net::ascii_lower(trim(value)) == "best_effort") {
      c.file_locking = true;
      return ok_status();
    }
    return assign_bool(c.file_locking);
  }
  if (key == "platform") {
    Result<Platform> r = parse_platform(name, value);
    if (!r.ok()) return r.status();
    c.platform = r.value();
    c.platform_explicit = true;
    return ok_status();
  }
  if (key == "local.root") { c.local.root = value; return ok_status(); }
  if (key == "s3.bucket") { c.s3.bucket = value; return ok_status(); }
  if (key == "s3.access_key") { c.s3.access_key = value; return ok_status(); }
  if (key == "s3.secret_key") { c.s3.secret_key = value; return ok_status(); }
  if (key == "s3.session_token") { c.s3.session_token = value; return ok_status(); }
  if (key == "s3.region") { c.s3.region = value; return ok_status(); }
  if (key == "s3.endpoint") {
    c.s3.endpoint = trim(value);
    infer_tls_from_endpoint(c.s3);
    return ok_status();
  }
  if (key == "s3.use_tls") return assign_bool(c.s3.use_tls);
  if (key == "s3.addressing_style") {
    const std::string v = net::ascii_lower(trim(value));
    if (v == "path") { c.s3.virtual_addressing = false; return ok_status(); }
    if (v == "virtual") { c.s3.virtual_addressing = true; return ok_status(); }
    return bad_value(name, value, "path or virtual");
  }
  if (key == "s3.signed_payloads") return assign_bool(c.s3.signed_payloads);
  if (key == "s3.anonymous") return assign_bool(c.s3.anonymous);
  if (key == "s3.ca_bundle") { c.s3.ca_bundle = value; return ok_status(); }
  if (key == "s3.request_payer") {
    // "requester" (the header's value, GDAL's AWS_REQUEST_PAYER) or a boolean.
    if (net::ascii_lower(trim(value)) == "requester") {
      c.s3.request_payer = true;
      return ok_status();
    }
    return assign_bool(c.s3.request_payer);
  }
  if (key == "s3.multipart_threshold") return assign_bytes(c.s3.multipart_threshold, 1);
  if (key == "s3.multipart_part_size") return assign_bytes(c.s3.multipart_part_size, 1);
  if (key == "azure.container") { c.azure.container = value; return ok_status(); }
  if (key == "azure.connection_string") { c.azure.connection_string = value; return ok_status(); }
  if (key == "azure.sas_token") { c.azure.sas_token = value; return ok_status(); }
  if (key == "azure.account") { c.azure.account = trim(value); return ok_status(); }
  if (key == "azure.credential") {
    const std::string v = net::ascii_lower(trim(value));
    for (const char* known : {"auto", "shared_key", "sas", "client_secret", "workload_identity",
                              "managed_identity"}) {
      if (v == known) {
        c.azure.credential = v;
        return ok_status();
      }
    }
    return bad_value(name, value,
                     "auto, shared_key, sas, client_secret, workload_identity or managed_identity");
  }
  if (key == "azure.tenant_id") { c.azure.tenant_id = trim(value); return ok_status(); }
  if (key == "azure.client_id") { c.azure.client_id = trim(value); return ok_status(); }
  if (key == "azure.client_secret") { c.azure.client_secret = value; return ok_status(); }
  if (key == "azure.authority_host") { c.azure.authority_host = trim(value); return ok_status(); }
  if (key == "azure.federated_token_file") { c.azure.federated_token_file = value; return ok_status(); }
  if (key == "azure.imds_endpoint") { c.azure.imds_endpoint = trim(value); return ok_status(); }
  if (key == "azure.identity_endpoint") { c.azure.identity_endpoint = trim(value); return ok_status(); }
  if (key == "azure.identity_header") { c.azure.identity_header = value; return ok_status(); }
  if (key == "azure.ca_bundle") { c.azure.ca_bundle = value; return ok_status(); }
  if (key == "azure.block_threshold") return assign_bytes(c.azure.block_threshold, 1);
  if (key == "azure.block_size") return assign_bytes(c.azure.block_size, 1);
  return Status(Code::kNotFound, key);
}

// Environment variable(s) -> apply() key. The first variable of a binding that is set (and
// non-empty) wins, which gives the AWS CLI's fallbacks (AWS_REGION before AWS_DEFAULT_REGION).
// Order matters once: the endpoint comes before AWS_USE_TLS so an explicit AWS_USE_TLS wins over
// the scheme of the endpoint.
struct EnvBinding {
  const char* key;
  std::vector<const char*> names;
};

const std::vector<EnvBinding>& env_bindings() {
  static const std::vector<EnvBinding> kBindings = {
      {"s3.bucket", {"BUCKET_NAME"}},
      {"azure.container", {"BUCKET_NAME"}},
      {"s3.access_key", {"AWS_ACCESS_KEY_ID"}},
      {"s3.secret_key", {"AWS_SECRET_ACCESS_KEY"}},
      {"s3.session_token", {"AWS_SESSION_TOKEN"}},
      {"s3.region", {"AWS_REGION", "AWS_DEFAULT_REGION"}},
      {"s3.endpoint", {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}},
      {"s3.use_tls", {"AWS_USE_TLS"}},
      {"s3.addressing_style", {"AWS_S3_ADDRESSING_STYLE"}},
      {"s3.signed_payloads", {"AWS_SIGNED_PAYLOADS"}},
      {"s3.anonymous", {"AWS_NO_SIGN_REQUEST"}},
      {"s3.ca_bundle", {"AWS_CA_BUNDLE"}},
      {"s3.request_payer", {"AWS_REQUEST_PAYER"}},
      {"azure.connection_string", {"AZURE_STORAGE_CONNECTION_STRING"}},
      {"azure.sas_token", {"AZURE_STORAGE_SAS_TOKEN"}},
      {"azure.account", {"AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_ACCOUNT_NAME"}},
      {"azure.credential", {"ARRAYMORPH_AZURE_CREDENTIAL"}},
      {"azure.tenant_id", {"AZURE_TENANT_ID"}},
      {"azure.client_id", {"AZURE_CLIENT_ID"}},
      {"azure.client_secret", {"AZURE_CLIENT_SECRET"}},
      {"azure.authority_host", {"AZURE_AUTHORITY_HOST"}},
      {"azure.federated_token_file", {"AZURE_FEDERATED_TOKEN_FILE"}},
      {"azure.imds_endpoint", {"AZURE_POD_IDENTITY_AUTHORITY_HOST"}},
      {"azure.identity_endpoint", {"IDENTITY_ENDPOINT"}},
      {"azure.identity_header", {"IDENTITY_HEADER"}},
      {"azure.ca_bundle", {"ARRAYMORPH_AZURE_CA_BUNDLE"}},
      {"local.root", {"ARRAYMORPH_LOCAL_ROOT"}},
      {"threads", {"ARRAYMORPH_THREADS"}},
      {"max_inflight", {"ARRAYMORPH_MAX_INFLIGHT"}},
      {"event_loops", {"ARRAYMORPH_EVENT_LOOPS"}},
      {"cache_bytes", {"ARRAYMORPH_CACHE_BYTES"}},
      {"readahead_bytes", {"ARRAYMORPH_READAHEAD_BYTES"}},
      {"range_latency", {"ARRAYMORPH_RANGE_LATENCY"}},
      {"range_bandwidth", {"ARRAYMORPH_RANGE_BANDWIDTH"}},
      {"range_merge_gap", {"ARRAYMORPH_RANGE_MERGE_GAP"}},
      {"ranged_reads", {"ARRAYMORPH_RANGED_READS"}},
      {"connect_timeout", {"ARRAYMORPH_CONNECT_TIMEOUT"}},
      {"request_timeout", {"ARRAYMORPH_REQUEST_TIMEOUT"}},
      {"retry_max_attempts", {"ARRAYMORPH_RETRY_MAX_ATTEMPTS"}},
      {"retry_initial_backoff", {"ARRAYMORPH_RETRY_INITIAL_BACKOFF"}},
      {"retry_max_backoff", {"ARRAYMORPH_RETRY_MAX_BACKOFF"}},
      {"retry_total_timeout", {"ARRAYMORPH_RETRY_TOTAL_TIMEOUT"}},
      {"log_level", {"ARRAYMORPH_LOG_LEVEL"}},
      {"file_locking", {"ARRAYMORPH_FILE_LOCKING", "HDF5_USE_FILE_LOCKING"}},
      {"chunk_checksum", {"ARRAYMORPH_CHUNK_CHECKSUM"}},
      {"shard_chunks", {"ARRAYMORPH_SHARD_CHUNKS"}},
  };
  return kBindings;
}

// Unset and empty are the same: `export BUCKET_NAME=` is how shells clear a variable.
const char* env_value(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

}  // namespace

const char* platform_name(Platform p) noexcept {
  switch (p) {
    case Platform::kS3: return "S3";
    case Platform::kAzure: return "Azure";
    case Platform::kLocal: return "Local";
    case Platform::kMemory: return "Memory";
  }
  return "unknown";
}

Result<bool> parse_bool(const std::string& name, const std::string& value) {
  const std::string v = net::ascii_lower(trim(value));
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off") return false;
  return bad_value(name, value, "true/false, 1/0, yes/no or on/off");
}

Result<Config> Config::from_env() {
  Config c;
  for (const EnvBinding& b : env_bindings()) {
    for (const char* name : b.names) {
      const char* v = env_value(name);
      if (v == nullptr) continue;
      Status s = set_one(c, b.key, v, name);
      if (!s.ok()) return s;
      break;
    }
  }
  if (const char* p = env_value("STORAGE_PLATFORM")) {
    Result<Platform> r = parse_platform("STORAGE_PLATFORM", p);
    if (!r.ok()) return r.status();
    c.platform = r.value();
    c.platform_explicit = true;
  } else {
    // The published default is S3; without a bucket that default can only fail, so an
    // embedded user (no cloud variables at all) gets the local filesystem instead.
    c.platform = env_value("BUCKET_NAME") != nullptr ? Platform::kS3 : Platform::kLocal;
    c.platform_explicit = false;
  }
  return c;
}

Status Config::apply(const std::map<std::string, std::string>& settings) {
  // All or nothing: a bad value must not leave half of a configure(...) call applied.
  Config next = *this;
  for (const auto& [key, value] : settings) {
    Status s = set_one(next, key, value, key);
    if (s.code() == Code::kNotFound) {
      return invalid_argument("unknown configuration key '" + key + "'");
    }
    if (!s.ok()) return s;
  }
  *this = std::move(next);
  return ok_status();
}

int Config::effective_threads() const {
  if (threads > 0) return threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

}  // namespace arraymorph
