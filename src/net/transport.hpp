// transport.hpp -- the abstract HTTP transport: "issue this request, call this handler".
//
// One virtual (as in TensorStore's HttpTransport). The libcurl implementation (curl_transport)
// keeps up to max_inflight requests in flight on one multi handle with connection reuse; a
// scripted fake in tests records requests. Signing happens before issue(); retries happen above
// (store drivers), because a retried request must be re-signed with a fresh date.
//
// Thread-safety: issue() may be called from any thread; the handler is called exactly once, on
// the transport's own thread, and must not block for long (hand heavy work to the worker pool).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "net/http_types.hpp"

namespace arraymorph::net {

using Outcome = std::variant<HttpResponse, TransportError>;
using ResponseHandler = std::function<void(Outcome&&)>;

struct TransportOptions {
  int max_inflight = 64;     // requests on the wire at once, over all event loops
  int event_loops = 1;       // libcurl multi loops (threads) sharing max_inflight (sharded_transport.hpp)
  double connect_timeout_s = 10.0;
  double request_timeout_s = 120.0;
  std::string ca_bundle;     // empty: system default
  bool verify_tls = true;
  // Called on the transport thread whenever the number of requests on the wire changes (after a
  // request starts or finishes); stores feed it to Stats::note_inflight. Must be cheap.
  std::function<void(size_t active)> on_active;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // The request is copied/moved in; body_ptr must stay valid until the handler runs.
  virtual void issue(HttpRequest request, ResponseHandler handler) = 0;
};

// Blocking convenience on top of issue().
Outcome issue_and_wait(HttpTransport& transport, HttpRequest request);

std::shared_ptr<HttpTransport> make_curl_transport(const TransportOptions& options);

}  // namespace arraymorph::net
