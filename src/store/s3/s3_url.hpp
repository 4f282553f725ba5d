// s3_url.hpp -- where S3 requests go: endpoint resolution, path vs virtual addressing, key
// encoding and query strings.
//
// Rules (issue 5): without AWS_ENDPOINT_URL_S3 the endpoint is AWS's regional one,
// https://s3.<region>.amazonaws.com, always over HTTPS with certificate verification, whatever
// AWS_USE_TLS says; an explicit amazonaws.com endpoint is forced to HTTPS too. A custom endpoint
// (MinIO, Ceph, SeaweedFS...) may be plain http://: the scheme follows S3Config::use_tls, which
// Config::from_env derives from the endpoint's scheme unless AWS_USE_TLS overrides it. Virtual
// style puts the bucket in the host name (<bucket>.<host>), path style in the path (/<bucket>/).
// Keys are percent-encoded per RFC 3986 with '/' kept, so spaces, unicode, '+', '%', '=' and ':'
// reach the server as the exact bytes of the key and match what the signer signs.
//
// Thread-safety: value types and pure functions.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/config.hpp"
#include "common/status.hpp"

namespace arraymorph::s3 {

struct S3Endpoint {
  std::string scheme;     // "https" or "http"
  std::string authority;  // "s3.us-east-2.amazonaws.com" or "127.0.0.1:8333" (no bucket)
  std::string base_path;  // path prefix of a custom endpoint ("" or "/prefix", no trailing '/')
  bool virtual_style = false;
  bool is_aws = false;
  bool verify_tls = true;

  // "http://127.0.0.1:8333" -- for error messages.
  std::string describe() const { return scheme + "://" + authority + base_path; }
};

// Validates and resolves the endpoint of `config`; invalid URLs are kInvalidArgument naming
// AWS_ENDPOINT_URL_S3.
Result<S3Endpoint> resolve_endpoint(const S3Config& config);

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// URI-encodes an object key (keeps '/').
std::string encode_key(const std::string& key);
// "a=1&b=x%2Fy" in the given order; a parameter with an empty value is written as "name=".
std::string encode_query(const QueryParams& params);

// URL of an object (key non-empty) or of the bucket itself (key empty), with optional query.
std::string object_url(const S3Endpoint& endpoint, const std::string& bucket,
                       const std::string& key, const QueryParams& query = {});

}  // namespace arraymorph::s3
