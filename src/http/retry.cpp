// retry.cpp -- backoff schedule, retryable-outcome classification and the retry timer.
#include "http/retry.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace arraymorph::http {

double backoff_for_attempt(int attempt, double initial, double max, double jitter, const Rng& rng) {
  if (attempt < 1) attempt = 1;
  jitter = std::clamp(jitter, 0.0, 1.0);
  // Cap the exponent: 2^60 already overflows any sensible max, and pow would give inf later.
  const double base = std::min(max, initial * std::ldexp(1.0, std::min(attempt - 1, 60)));
  const double r = rng ? std::clamp(rng(), 0.0, 1.0) : 1.0;
  return base * (1.0 - jitter) + base * jitter * r;
}

bool is_retryable_status(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

bool is_retryable(const Outcome& outcome) {
  if (const auto* err = std::get_if<TransportError>(&outcome)) return err->retryable;
  return is_retryable_status(std::get<HttpResponse>(outcome).status);
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

}  // namespace arraymorph::http
