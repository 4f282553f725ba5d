// retry.cpp -- the retry taxonomy, the backoff schedule and the retry timer (see retry.hpp).
#include "net/retry.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "net/xml.hpp"

namespace arraymorph::net {

double backoff_for_attempt(int attempt, double initial, double max, double jitter, const Rng& rng) {
  if (attempt < 1) attempt = 1;
  jitter = std::clamp(jitter, 0.0, 1.0);
  // Cap the exponent: 2^60 already overflows any sensible max, and pow would give inf later.
  const double base = std::min(max, initial * std::ldexp(1.0, std::min(attempt - 1, 60)));
  const double r = rng ? std::clamp(rng(), 0.0, 1.0) : 1.0;
  return base * (1.0 - jitter) + base * jitter * r;
}

namespace {

// <Error><Code>..</Code></Error> of an S3-style body, or "".
std::string error_code(const HttpResponse& r) {
  if (r.body.empty() || r.body.size() > (64u << 10)) return "";
  auto doc = parse_xml(r.body_string());
  if (!doc.ok()) return "";
  const XmlNode* err = doc->name == "Error" ? &*doc : doc->child("Error");
  return err ? err->child_text("Code") : "";
}

Failure class_of_code(const std::string& code) {
  if (code == "SlowDown" || code == "Throttling" || code == "ThrottlingException" ||
      code == "RequestTimeout" || code == "RequestLimitExceeded" ||
      code == "ServerBusy" || code == "OperationTimedOut")
    return Failure::kThrottled;
  if (code == "InternalError" || code == "InternalServerError" || code == "ServiceUnavailable")
    return Failure::kServerError;
  // The store refused a body that does not match the checksum sent with it (S3 Content-MD5 /
  // x-amz-checksum-*, Azure Content-MD5 / CRC64): corrupted on the way, nothing was stored, and a
  // re-send of the same bytes from memory is safe.
  if (code == "BadDigest" || code == "XAmzContentChecksumMismatch" || code == "Md5Mismatch" ||
      code == "Crc64Mismatch")
    return Failure::kCorrupt;
  return Failure::kNone;
}

}  // namespace

Failure classify(const Outcome& outcome, bool error_in_200_body) {
  if (const auto* err = std::get_if<TransportError>(&outcome)) {
    switch (err->kind) {
      case TransportFailure::kConnect: return Failure::kConnect;
      case TransportFailure::kBroken: return Failure::kBroken;
      case TransportFailure::kFatal: return Failure::kFatal;
    }
    return Failure::kFatal;
  }
  const HttpResponse& r = std::get<HttpResponse>(outcome);
  switch (r.status) {
    case 408: case 429: case 503: return Failure::kThrottled;
    case 500: case 502: case 504: return Failure::kServerError;
    case 400: {
      const Failure f = class_of_code(error_code(r));
      return f == Failure::kThrottled || f == Failure::kCorrupt ? f : Failure::kNone;
    }
    case 200:
      if (error_in_200_body && !r.into_dest) {
        const Failure f = class_of_code(error_code(r));
        if (f != Failure::kNone) return f;
      }
      return Failure::kNone;
    default: return Failure::kNone;
  }
}

bool should_retry(Failure f, bool idempotent) {
  switch (f) {
    case Failure::kThrottled:
    case Failure::kConnect: return true;
    case Failure::kServerError:
    case Failure::kBroken:
    case Failure::kCorrupt: return idempotent;
    default: return false;
  }
}

bool is_retryable_status(long status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

RetryTimer::RetryTimer() : thread_([this] { run(); }) {}

RetryTimer::~RetryTimer() {
  std::multimap<Clock::time_point, Task> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  left.swap(tasks_);
  for (auto& [when, task] : left) task(true);
}

void RetryTimer::schedule(double delay_s, Task task) {
  const auto when = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(std::max(0.0, delay_s)));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stop_) {
      tasks_.emplace(when, std::move(task));
      task = nullptr;
    }
  }
  // Shutting down: never run a re-send, but still tell the owner (outside the lock).
  if (task) {
    task(true);
    return;
  }
  cv_.notify_all();
}

void RetryTimer::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (tasks_.empty()) {
      cv_.wait(lock);
      continue;
    }
    const auto when = tasks_.begin()->first;
    if (Clock::now() < when) {
      cv_.wait_until(lock, when);
      continue;
    }
    // Run every due task outside the lock so they may schedule again.
    std::vector<Task> due;
    const auto now = Clock::now();
    while (!tasks_.empty() && tasks_.begin()->first <= now) {
      due.push_back(std::move(tasks_.begin()->second));
      tasks_.erase(tasks_.begin());
    }
    lock.unlock();
    for (auto& t : due) t(false);
    lock.lock();
  }
}

}  // namespace arraymorph::net
