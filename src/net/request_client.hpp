// request_client.hpp -- the one retrying request client under every network store (S3, Azure).
//
// A store describes a call (how to build and sign one attempt, whether it is idempotent) and gets
// its final outcome; the client owns everything in between, once for both backends:
//   attempts     each attempt is built afresh by Call::build (so it is re-signed with a fresh
//                date), counted in Stats::op(kind).requests, retries in .retries;
//   taxonomy     net/retry.hpp: which failure classes are re-sent for which methods;
//   backoff      exponential with jitter (backoff_for_attempt), waited on a timer thread, never
//                on a transport thread;
//   deadline     RetryPolicy::total_timeout_s caps the whole call from the moment its first
//                attempt is admitted: waits in the transport's queue, every attempt's own timeout
//                (HttpRequest::deadline), backoffs and re-admission of retries all count; no
//                attempt starts after it and no backoff crosses it. Waiting for the FIRST
//                admission slot does not count: a large batch on a slow link would otherwise time
//                out its tail while nothing is wrong (the head of the batch is still moving);
//                that wait is bounded by the other calls' own deadlines.
//   admission    every attempt holds a slot of the process-wide Admission (admission.hpp);
//   in-flight    Stats::note_inflight sees this client's attempts on the wire;
//   integrity    Call::verify checks each successful response; a mismatch is re-fetched.
//
// Completion model (one for both backends): `done` of start() runs exactly once on an internal
// thread (a transport event loop, or the retry timer when the client is destroyed mid-backoff)
// and must be short: it maps the response and hands the result on. The stores' batch forms
// (get_many, put_many, ...) deliver every result to the caller's callback ON THE CALLING THREAD
// through Completions<T> below, and their blocking forms wait on it: user code never runs on a
// transport thread, whichever backend.
//
// Ownership: the client shares the transport, the Stats and the Admission; it owns its retry
// timer. Destroying it cancels pending backoffs (their `done` gets the last outcome) and must not
// happen from a `done` callback. Thread-safety: start()/run() from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <utility>

#include "common/config.hpp"
#include "common/stats.hpp"
#include "net/admission.hpp"
#include "net/retry.hpp"
#include "net/transport.hpp"

namespace arraymorph::net {

struct Call {
  OpKind op = OpKind::kGet;
  // Builds one attempt, signed: called once per attempt, from any thread.
  std::function<HttpRequest()> build;
  // GET, HEAD, PUT and DELETE are idempotent; POST (multipart steps) is not, unless the store
  // knows better (S3 DeleteObjects).
  bool idempotent = true;
  // S3 operations that may answer 200 with an <Error> body (CompleteMultipartUpload).
  bool error_in_200_body = false;
  // Integrity check of a 2xx response (its body, or the GetDestination it was received into):
  // "" when it holds, else what did not match. A mismatch is a kCorrupt failure: re-fetched like
  // a broken transfer, and if it persists the call fails with a fatal TransportError
  // "checksum mismatch ..." that the store reports naming the object. Runs on the transport
  // thread: it must be cheap (CRC32C, or MD5 of one chunk).
  std::function<std::string(const HttpResponse&)> verify;
};

struct Completed {
  Outcome outcome;
  int attempts = 0;
  bool deadline_passed = false;  // stopped because retry_total_timeout ran out
};

struct ClientOptions {
  RetryPolicy retry;
  std::shared_ptr<Stats> stats;          // default: a private Stats
  std::shared_ptr<Admission> admission;  // default: Admission::process()
  Rng rng;                               // uniform [0,1) for jitter; default: seeded mt19937
};

class RequestClient {
 public:
  using Clock = std::chrono::steady_clock;
  using Done = std::function<void(Completed&&)>;

  RequestClient(std::shared_ptr<HttpTransport> transport, ClientOptions options);
  ~RequestClient();
  RequestClient(const RequestClient&) = delete;
  RequestClient& operator=(const RequestClient&) = delete;

  // Starts the call; `done` runs once with the final outcome (see the completion model above).
  void start(Call call, Done done);
  // Blocking form of start().
  Completed run(Call call);

  const RetryPolicy& retry_policy() const { return options_.retry; }
  Stats& stats() { return *options_.stats; }

 private:
  struct State;
  void attempt(const std::shared_ptr<State>& state);
  void on_outcome(const std::shared_ptr<State>& state, Outcome&& outcome);
  double random_unit();

  std::shared_ptr<HttpTransport> transport_;
  ClientOptions options_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
  std::atomic<uint64_t> on_wire_{0};
  // Last member: destroyed first, so pending backoffs are cancelled while the rest is alive.
  std::unique_ptr<RetryTimer> timer_;
};

// Results of a batch, produced on any thread, delivered on the thread that waits. The one
// completion model of the stores' batch operations (see above).
template <typename T>
class Completions {
 public:
  // From any thread. Notifies while holding the lock: the waiter typically destroys this object
  // (a stack variable of wait_for or of a batch call) as soon as it has popped the last item, so
  // the pusher must not touch `cv_` after the waiter can see the item. Notifying after unlocking
  // raced with that destruction (a notify on a dead stack frame: random crashes in later calls,
  // or a hang).
  void push(size_t index, T&& value) {
    std::lock_guard<std::mutex> lock(mu_);
    items_.emplace_back(index, std::move(value));
    cv_.notify_one();
  }
  // On the waiting thread: calls fn(index, value) for `count` results, in arrival order.
  template <typename Fn>
  void deliver(size_t count, Fn&& fn) {
    for (size_t n = 0; n < count; ++n) {
      std::pair<size_t, T> item = pop();
      fn(item.first, std::move(item.second));
    }
  }
  std::pair<size_t, T> pop() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !items_.empty(); });
    auto item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<size_t, T>> items_;
};

// Runs start(callback) and blocks until the callback delivered one T (on any thread).
template <typename T, typename Start>
T wait_for(Start&& start) {
  Completions<T> one;
  start([&one](T&& value) { one.push(0, std::move(value)); });
  return std::move(one.pop().second);
}

}  // namespace arraymorph::net
