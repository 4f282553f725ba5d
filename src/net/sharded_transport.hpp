// sharded_transport.hpp -- one HttpTransport over a few event loops (docs/design.md §4: "one libcurl
// multi event loop, or a few").
//
// Why: every response body is received (and, for zero-copy reads, copied into the caller's
// buffer) on its loop's thread. With one loop that thread is the bottleneck of a bulk read when
// the server answers as fast as it can; two loops measured ~10% faster on a 64 MiB read here.
//
// Requests go to the loops in turn. The `max_inflight` window is split between them (each loop
// gets max_inflight / loops, at least 1, so the total never exceeds max_inflight) and
// `on_active` reports the sum of the loops' requests on the wire.
//
// Ownership: owns the shard transports. Thread-safety: issue() from any thread; on_active may be
// called from several loop threads at once (it must be thread-safe, as Stats::note_inflight is).
#pragma once

#include <functional>
#include <memory>

#include "net/transport.hpp"

namespace arraymorph::net {

using TransportFactory = std::function<std::shared_ptr<HttpTransport>(const TransportOptions&)>;

// `loops` shards made by `make_one`; loops <= 1 (or max_inflight < 2) returns one transport.
std::shared_ptr<HttpTransport> make_sharded_transport(const TransportOptions& options, int loops,
                                                      const TransportFactory& make_one);

}  // namespace arraymorph::net
