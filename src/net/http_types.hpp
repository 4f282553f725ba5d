// http_types.hpp -- HTTP value types shared by the transport, the signers and the store drivers.
//
// Plain values with no I/O: signers (s3/sigv4, azure/shared_key) read and add headers on an
// HttpRequest; drivers build requests and parse HttpResponses; transports move them.
// Header names are kept as given; lookups are case-insensitive.
//
// Thread-safety: value types.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/store.hpp"  // GetDestination

namespace arraymorph::net {

using arraymorph::GetDestination;
using Header = std::pair<std::string, std::string>;
using Headers = std::vector<Header>;

// Case-insensitive lookup; nullopt when absent.
std::optional<std::string> find_header(const Headers& headers, const std::string& name);
// Replaces every header of that name (case-insensitive) with one value.
void set_header(Headers& headers, const std::string& name, std::string value);

struct HttpRequest {
  std::string method = "GET";  // GET PUT HEAD DELETE POST
  std::string url;             // absolute, already percent-encoded: scheme://host[:port]/path?query
  Headers headers;
  // Body: borrowed pointer (zero-copy for chunk PUTs) or owned bytes; `body_data()` picks.
  const unsigned char* body_ptr = nullptr;
  size_t body_size = 0;
  std::string owned_body;

  // Zero-copy GETs: when set and the response status is `dest_status`, the transport writes the
  // body straight into these spans instead of HttpResponse::body (see GetDestination; bytes
  // beyond the destination are counted, never written). Other statuses (errors, a 200 where a
  // 206 was expected) are collected in `body` as usual. Borrowed: valid until the handler ran.
  const GetDestination* dest = nullptr;
  long dest_status = 200;

  // The whole call's deadline (RetryPolicy::total_timeout_s since the call started, queueing
  // included): the transport fails a request not started by then and caps its timeout to what
  // is left. Default (epoch): no deadline beyond the transport's own timeouts.
  std::chrono::steady_clock::time_point deadline{};

  const unsigned char* body_data() const {
    return body_ptr ? body_ptr : reinterpret_cast<const unsigned char*>(owned_body.data());
  }
  size_t body_length() const { return body_ptr ? body_size : owned_body.size(); }
};

struct HttpResponse {
  long status = 0;  // 0: no response (transport error; see TransportError)
  Headers headers;
  std::vector<unsigned char> body;
  bool into_dest = false;  // the body went to HttpRequest::dest (then `body` is empty)
  uint64_t dest_bytes = 0;  // with into_dest: length of the body received
  std::string body_string() const { return std::string(body.begin(), body.end()); }
};

// Where below HTTP a request failed; the retry taxonomy (net/retry.hpp) reads it.
enum class TransportFailure {
  kConnect,  // no connection was made (refused, unreachable, DNS, connect timeout): nothing sent
  kBroken,   // the connection broke or stalled after the request may have been sent (reset,
             // timeout, truncated response)
  kFatal,    // re-sending cannot help (TLS verification, bad URL, shutdown, call deadline passed)
};

// Failure below HTTP (connection refused, reset, timeout, TLS).
struct TransportError {
  std::string message;  // names the endpoint, never credentials
  TransportFailure kind = TransportFailure::kBroken;
  bool retryable() const { return kind != TransportFailure::kFatal; }
};

}  // namespace arraymorph::net
