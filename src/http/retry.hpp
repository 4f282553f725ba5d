// retry.hpp -- the retry policy as data, and the timer that re-sends requests after a backoff.
//
// Policy (DESIGN §3): exponential backoff with jitter for 429, 500, 502, 503, 504 and for transport
// failures the transport marks retryable (resets, timeouts); every other 4xx is final. Backoff
// values are in seconds. Store drivers decide whether to retry (attempt count, total time) and
// re-sign the request with a fresh date before re-sending, which is why retries live above the
// transport.
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

#include "http/transport.hpp"

namespace arraymorph::http {

// Uniform random number in [0, 1); injected so tests get deterministic schedules.
using Rng = std::function<double()>;

// Wait before re-sending after `attempt` failed attempts (attempt >= 1): the base
// min(max, initial * 2^(attempt-1)) of which a `jitter` fraction is randomised, i.e. the result
// lies in [base * (1 - jitter), base]. jitter is clamped to [0, 1].
double backoff_for_attempt(int attempt, double initial, double max, double jitter, const Rng& rng);

// HTTP statuses worth re-sending: 429 (throttled), 500, 502, 503 (incl. S3 SlowDown), 504.
bool is_retryable_status(long status);
// Retryable HTTP status or a transport error flagged retryable.
bool is_retryable(const Outcome& outcome);

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

}  // namespace arraymorph::http
