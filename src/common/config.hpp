// config.hpp -- configuration of the connector and of its stores.
//
// Precedence, written down once (as GDAL does): explicit values (arraymorph.configure(...),
// configure_s3(...), H5Pset_fapl_arraymorph) > environment variables > built-in defaults.
// Environment names are the published ArrayMorph contract plus ARRAYMORPH_* knobs (docs/design.md §1);
// docs/configuration.md lists them all.
//
// Thread-safety: plain values; the context copies a Config when a file is opened.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/status.hpp"

namespace arraymorph {

enum class Platform { kS3, kAzure, kLocal, kMemory };
const char* platform_name(Platform p) noexcept;

struct RetryPolicy {
  int max_attempts = 8;             // including the first
  double initial_backoff_s = 0.05;  // first wait
  double max_backoff_s = 5.0;       // cap of one wait
  double jitter = 0.5;              // fraction of each wait that is randomised
  double total_timeout_s = 60.0;    // stop retrying after this long since the first attempt
};

// The signing region when neither AWS_REGION, AWS_DEFAULT_REGION nor configure_s3(region=) set
// one: the published ArrayMorph package's default (docs/configuration.md), kept for its users.
inline constexpr const char* kDefaultS3Region = "us-east-2";

struct S3Config {
  std::string bucket;
  std::string access_key;
  std::string secret_key;        // never logged
  std::string session_token;     // never logged
  std::string region = kDefaultS3Region;
  std::string endpoint;          // empty: AWS's regional endpoint
  bool use_tls = true;           // forced on for AWS itself
  bool virtual_addressing = false;  // AWS_S3_ADDRESSING_STYLE=virtual
  bool signed_payloads = false;
  bool anonymous = false;        // AWS_NO_SIGN_REQUEST
  std::string ca_bundle;         // AWS_CA_BUNDLE
  bool request_payer = false;    // AWS_REQUEST_PAYER=requester: requester-pays buckets
  uint64_t multipart_threshold = 64ull << 20;  // bytes
  uint64_t multipart_part_size = 16ull << 20;  // bytes
};

// Azure credentials: which one is used is decided by store/azure/credential_chain.hpp (Shared
// Key, SAS, or an OAuth bearer token from a service principal, workload identity or managed
// identity); docs/configuration.md lists the variables.
struct AzureConfig {
  std::string container;
  std::string connection_string;  // never logged
  std::string sas_token;          // never logged
  std::string account;            // AZURE_STORAGE_ACCOUNT: endpoint when no connection string
  // auto | shared_key | sas | client_secret | workload_identity | managed_identity
  std::string credential = "auto";
  std::string tenant_id;          // AZURE_TENANT_ID
  std::string client_id;          // AZURE_CLIENT_ID (also: a user-assigned managed identity)
  std::string client_secret;      // AZURE_CLIENT_SECRET; never logged
  std::string authority_host;     // AZURE_AUTHORITY_HOST; empty: the public cloud's
  std::string federated_token_file;  // AZURE_FEDERATED_TOKEN_FILE (workload identity)
  std::string imds_endpoint;      // AZURE_POD_IDENTITY_AUTHORITY_HOST; empty: http://169.254.169.254
  std::string identity_endpoint;  // IDENTITY_ENDPOINT (App Service, Functions, Container Apps)
  std::string identity_header;    // IDENTITY_HEADER; never logged
  std::string ca_bundle;          // ARRAYMORPH_AZURE_CA_BUNDLE: PEM bundle of trusted CAs
  uint64_t block_threshold = 64ull << 20;  // bytes: above it, Put Block + Put Block List
  uint64_t block_size = 16ull << 20;
};

struct LocalConfig {
  std::string root;  // directory; empty: the current working directory
};

struct Config {
  Platform platform = Platform::kLocal;
  bool platform_explicit = false;  // STORAGE_PLATFORM was set (vs. inferred)
  S3Config s3;
  AzureConfig azure;
  LocalConfig local;

  int threads = 0;             // worker threads; 0 = number of cores
  int max_inflight = 64;       // requests in flight per context
  int event_loops = 2;         // libcurl multi loops (threads) per network store, sharing max_inflight
  uint64_t cache_bytes = 256ull << 20;  // decoded-chunk cache; 0 disables
  // Read-ahead window of a sequential pass (src/io/readahead.hpp), decoded bytes; 0 disables.
  // Never more than half of cache_bytes (the chunks are fetched into the cache).
  uint64_t readahead_bytes = 64ull << 20;
  // Range planner (src/io/range_planner.hpp): time ≈ requests·latency/max_inflight + bytes/bandwidth
  // decides between whole-chunk and ranged GETs of uncompressed chunks; byte runs closer than
  // range_merge_gap are fetched as one range.
  double range_latency_s = 0.020;         // estimated per-request latency, seconds
  uint64_t range_bandwidth = 200000000;   // estimated bandwidth, bytes per second
  uint64_t range_merge_gap = 64ull << 10; // bytes
  bool ranged_reads = true;               // false: always whole-chunk GETs
  double connect_timeout_s = 10.0;
  double request_timeout_s = 120.0;
  RetryPolicy retry;
  std::string log_level = "warning";  // error|warning|info|debug
  // Refuse a second writer of a file (model/write_lock.hpp); HDF5_USE_FILE_LOCKING=FALSE turns it
  // off as it does for native files ("BEST_EFFORT" counts as on).
  bool file_locking = true;
  // New datasets end their codec chain with Zarr's "crc32c" (a checksum stored in every chunk,
  // verified on every read; a mismatch is re-fetched once, then reported).
  bool chunk_checksum = false;
  // New chunked datasets store their chunks in Zarr shards of this many chunks per dimension
  // ("16", or "4x16" for rank 2; model/shard_index.hpp shard_layout_for); "" = no shards. Read
  // when a dataset is created (not when its file is opened), so `arraymorph.shards(...)` can
  // wrap one create_dataset call.
  std::string shard_chunks;

  // Reads the environment over the defaults. Unknown STORAGE_PLATFORM or a malformed number is
  // an error naming the variable.
  static Result<Config> from_env();
  // Applies "key=value" settings (arraymorph.configure(...)); unknown keys are an error.
  Status apply(const std::map<std::string, std::string>& settings);
  int effective_threads() const;
};

// Parses "true/false/1/0/yes/no/on/off" (case-insensitive); `name` is used in the error.
Result<bool> parse_bool(const std::string& name, const std::string& value);

}  // namespace arraymorph
