// azure_requests.hpp -- builds the Blob service REST requests arraymorph uses, and turns error
// responses into Status values. Pure: no I/O, no clock, no credentials (signing is separate).
//
// Requests come back unsigned, with x-ms-version set; the store adds the SAS token to the URL or
// signs with Shared Key just before each send (a retry is re-signed with a fresh date).
//
// Thread-safety: pure functions; BlobTarget is a value.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "store/store.hpp"
#include "net/http_types.hpp"

namespace arraymorph::azure {

// The REST API version we speak (Azurite 3.35 and the cloud both accept it).
inline constexpr const char* kApiVersion = "2021-08-06";

struct BlobTarget {
  std::string endpoint;   // "https://acct.blob.core.windows.net" or "http://127.0.0.1:10000/acct"
  std::string account;    // for messages ("az://account/container"); may be empty with SAS
  std::string container;

  // "<endpoint>/<container>/<percent-encoded key, '/' kept>"
  std::string blob_url(const std::string& key) const;
  std::string container_url() const;
  std::string describe() const;  // "az://account/container"
};

net::HttpRequest get_blob_request(const BlobTarget& t, const std::string& key,
                                   const std::optional<ByteRange>& range);
net::HttpRequest get_properties_request(const BlobTarget& t, const std::string& key);
// Put Blob (BlockBlob). `data` is borrowed and must outlive the request and its retries.
net::HttpRequest put_blob_request(const BlobTarget& t, const std::string& key,
                                   const unsigned char* data, size_t size);
net::HttpRequest put_block_request(const BlobTarget& t, const std::string& key,
                                    const std::string& block_id, const unsigned char* data,
                                    size_t size);
net::HttpRequest put_block_list_request(const BlobTarget& t, const std::string& key,
                                         const std::vector<std::string>& block_ids);
net::HttpRequest delete_blob_request(const BlobTarget& t, const std::string& key);
// Empty prefix / delimiter / marker are left out of the query; max_results 0 leaves it out.
net::HttpRequest list_blobs_request(const BlobTarget& t, const std::string& prefix,
                                     const std::string& delimiter, const std::string& marker,
                                     size_t max_results);
net::HttpRequest create_container_request(const BlobTarget& t);

// Block ids of one blob must all have the same length: base64("arraymorph-block-%08zu").
std::string block_id(size_t index);

// "bytes=<first>-<last>" or "bytes=<first>-" for an open range.
std::string range_header_value(const ByteRange& range);

// The service's error code: x-ms-error-code header, else <Error><Code> from the body.
std::string error_code(const net::HttpResponse& response);

// Status for a non-2xx response to `operation` ("Get Blob", ...) on `key` (may be empty for
// container-level operations). 403 names account and container and hints at the key, SAS and
// clock skew; ContainerNotFound names the container; 429/5xx are retryable kUnavailable.
Status status_from_response(const net::HttpResponse& response, const BlobTarget& t,
                            const std::string& operation, const std::string& key);

}  // namespace arraymorph::azure
