// curl_transport.hpp -- HttpTransport over ONE libcurl multi handle driven by one event-loop thread.
//
// Ownership: the transport owns the multi handle, every easy handle (unique_ptr with custom
// deleters, pooled and reused) and the loop thread. Requests beyond `max_inflight` wait in a FIFO
// queue and start as soon as a slot frees (a sliding window, no batches). Connections are kept
// alive and reused through the multi handle's connection cache. The loop sleeps in
// curl_multi_poll and issue() wakes it with curl_multi_wakeup: no busy-wait.
//
// Units: timeouts in seconds (TransportOptions). Errors name the endpoint as host:port, never
// credentials (request URLs carry none: signing is in headers).
//
// Thread-safety: issue() from any thread. Handlers run on the loop thread, one at a time, and
// must not block. Destroying the transport fails every unfinished request with a non-retryable
// TransportError ("transport shut down") and joins the thread; do not destroy it from a handler.
#pragma once

#include <memory>
#include <string>

#include "net/transport.hpp"

namespace arraymorph::net {

// "host:port" of an absolute URL, with the scheme's default port filled in (80/443).
std::string host_port_of(const std::string& url);

}  // namespace arraymorph::net
