// store_factory.hpp -- turns an HDF5 file name into (store, key prefix).
//
// Accepted names:
//   "demo.h5", "runs/demo.h5"   a key in the configured store (Config::platform and its bucket,
//                               container or local root)
//   "/abs/dir/demo.h5"          with the Local platform only: that file path (like file://)
//   "s3://bucket/a/b.h5"        S3 (and S3-compatible) bucket + key
//   "az://container/a.h5"       Azure Blob container + key
//   "file:///abs/dir/a.h5"      local directory /abs/dir, key "a.h5"; "file:///abs/dir/" names
//                               the directory itself (empty key)
//   "mem://space/a.h5"          in-process memory store named "space"
// "s3://bucket" / "az://container" / "mem://space" without a key name the store root (empty
// key). URLs are used literally (no percent-decoding), as the AWS CLI does for s3:// URLs.
//
// Memory stores: every open_store() of the same "mem://space" sees the same objects for the
// life of the process, so tests can close and reopen a file. This registry is arraymorph's one
// allowed process-wide mutable state; each opener still gets its own store object (own Stats
// and executor) over the shared objects.
//
// Thread-safety: both functions may be called concurrently.
#pragma once

#include <memory>
#include <string>

#include "common/config.hpp"
#include "common/stats.hpp"
#include "common/status.hpp"
#include "store/store.hpp"

namespace arraymorph {

struct StoreLocation {
  Platform platform = Platform::kLocal;
  std::string root;  // bucket, container, directory (absolute) or memory space name
  std::string key;   // the file's key prefix; no leading/trailing '/'; may be empty
};

Result<StoreLocation> resolve_location(const std::string& name, const Config& config);

// Store identity: the location plus exactly the settings its backend is built from. open_store
// builds the store from this struct alone (through config()), and the connector's store cache is
// keyed by cache_key(), so a later configure() that changes anything the store uses -- endpoint,
// credentials, CA bundle, timeouts, multipart/block sizes, retry policy, ... -- gets a new store,
// and a change the store does not use keeps sharing the open one.
struct StoreIdentity {
  Platform platform = Platform::kLocal;
  std::string root;  // bucket, container, directory or memory space (StoreLocation::root)
  // Network stores only (defaults otherwise):
  S3Config s3;        // S3 only; bucket cleared (the root is the bucket)
  AzureConfig azure;  // Azure only; container = root
  RetryPolicy retry;
  int event_loops = 0;
  double connect_timeout_s = 0;
  double request_timeout_s = 0;
  // S3 without configured keys: s3::aws_environment(), the variables aws-c-auth's credential
  // chain reads (AWS_PROFILE, role, container/IMDS endpoints, ...); empty otherwise.
  std::string s3_credential_environment;
  // Every store: the window of the transport / the parallelism of blocking batch forms.
  int max_inflight = 0;

  // A Config holding exactly these fields (everything else default): what open_store passes on.
  Config config() const;
  // Every field, length-prefixed (unambiguous). Holds secret values: compare it, never log it.
  std::string cache_key() const;
};

StoreIdentity store_identity(const StoreLocation& loc, const Config& config);
Result<std::shared_ptr<ObjectStore>> open_store(const StoreIdentity& id,
                                                std::shared_ptr<Stats> stats);
// open_store(store_identity(loc, config), stats).
Result<std::shared_ptr<ObjectStore>> open_store(const StoreLocation& loc, const Config& config,
                                                std::shared_ptr<Stats> stats);

}  // namespace arraymorph
