// admission.hpp -- one limit on requests in flight, shared by every network store in the process.
//
// Why: every open file (and every bucket or container) has its own store and transport; without
// a shared limit, N open files would put N x max_inflight requests on the wire. The request client
// (request_client.hpp) asks for a slot before each attempt and gives it back when the attempt's
// outcome arrived; attempts beyond the limit wait here in FIFO order (their call's deadline keeps
// running: a request that got its slot too late fails with the deadline, see HttpRequest).
//
// The limit is Config::max_inflight of the most recently created network store (set_limit):
// configure(max_inflight=...) then applies to the whole process, never multiplied.
//
// Thread-safety: all methods from any thread. `go` callbacks run on the thread that acquired (a
// free slot) or on the thread that released the slot they get (a transport or timer thread), and
// must only hand the request to a transport (cheap, non-blocking).
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

namespace arraymorph::net {

class Admission {
 public:
  explicit Admission(size_t limit);

  // The instance every store in the process shares.
  static std::shared_ptr<Admission> process();

  void set_limit(size_t limit);  // >= 1
  size_t limit() const;
  size_t in_use() const;

  // Runs go() once a slot is held by the caller (now, or later from release()).
  void acquire(std::function<void()> go);
  // Gives a slot back and starts waiting acquirers that now fit.
  void release();

 private:
  mutable std::mutex mu_;
  size_t limit_;
  size_t in_use_ = 0;
  std::deque<std::function<void()>> waiting_;
};

}  // namespace arraymorph::net
