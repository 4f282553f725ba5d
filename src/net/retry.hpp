// retry.hpp -- the retry taxonomy, the backoff schedule, and the timer that re-sends requests
// after a backoff. The one user is net::RequestClient (request_client.hpp), which owns attempts.
//
// Taxonomy (as botocore's standard retry mode and object_store classify; docs/design.md §3). Each failed
// outcome gets one Failure class; should_retry() says whether that class is re-sent for an
// idempotent request (GET, HEAD, PUT, DELETE) and for a non-idempotent one (POST):
//   kThrottled   429, 503 (S3 SlowDown), 408, S3 RequestTimeout (400), SlowDown in a 200 body:
//                the server refused the request before acting on it          -> both
//   kConnect     refused, unreachable, DNS failure, connect timeout: nothing was sent -> both
//   kServerError 500, 502, 504, InternalError in a 200 body: may have been applied -> idempotent
//   kBroken      reset, timeout or truncated response after sending          -> idempotent
//   kCorrupt     a 2xx whose body fails the checksum the store sent with it, or a 400 BadDigest /
//                XAmzContentChecksumMismatch / Md5Mismatch / Crc64Mismatch (the store refused a
//                request body corrupted on the way)                          -> idempotent
//   kFatal / kNone  everything else (4xx, TLS verification, call deadline)   -> never
// Backoff values are in seconds.
//
// RetryTimer: one thread per owner that runs callbacks at a point in time, so a backoff never
// blocks the transport's event-loop thread. Callbacks run on the timer thread and must be short
// (typically: sign + HttpTransport::issue). Destroying the timer drops callbacks not yet due after
// running them with `cancelled == true`, so owners can fail the pending requests cleanly.
//
// Thread-safety: free functions are pure; RetryTimer::schedule may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "net/transport.hpp"

namespace arraymorph::net {

// Uniform random number in [0, 1); injected so tests get deterministic schedules.
using Rng = std::function<double()>;

// Wait before re-sending after `attempt` failed attempts (attempt >= 1): the base
// min(max, initial * 2^(attempt-1)) of which a `jitter` fraction is randomised, i.e. the result
// lies in [base * (1 - jitter), base]. jitter is clamped to [0, 1].
double backoff_for_attempt(int attempt, double initial, double max, double jitter, const Rng& rng);

enum class Failure { kNone, kThrottled, kConnect, kServerError, kBroken, kCorrupt, kFatal };

// The class of an outcome. With `error_in_200_body`, a 200 whose body is an S3 <Error> document
// (CompleteMultipartUpload and copies answer so) is classed by its Code.
Failure classify(const Outcome& outcome, bool error_in_200_body = false);
// Whether a failure of class `f` is re-sent (see the table above).
bool should_retry(Failure f, bool idempotent);
// HTTP statuses a store maps to a retryable kUnavailable: 408, 429, 500, 502, 503, 504.
bool is_retryable_status(long status);

class RetryTimer {
 public:
  using Clock = std::chrono::steady_clock;
  using Task = std::function<void(bool cancelled)>;

  RetryTimer();
  ~RetryTimer();
  RetryTimer(const RetryTimer&) = delete;
  RetryTimer& operator=(const RetryTimer&) = delete;

  // Runs task(false) on the timer thread once `delay_s` seconds have passed.
  void schedule(double delay_s, Task task);

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<Clock::time_point, Task> tasks_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace arraymorph::net
