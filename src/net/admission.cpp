// admission.cpp -- see admission.hpp.
#include "net/admission.hpp"

#include <algorithm>
#include <vector>

namespace arraymorph::net {
namespace {
// Set while this thread starts waiters in release(): a go() that fails at once releases its slot
// again, and the outer loop (not a nested call) picks up the next waiter, so the stack stays flat.
thread_local bool t_draining = false;
}  // namespace

Admission::Admission(size_t limit) : limit_(std::max<size_t>(1, limit)) {}

std::shared_ptr<Admission> Admission::process() {
  // Leaked on purpose, like ConnectorState: stores may be destroyed from atexit handlers.
  static auto* shared = new std::shared_ptr<Admission>(std::make_shared<Admission>(64));
  return *shared;
}

void Admission::set_limit(size_t limit) {
  std::vector<std::function<void()>> start;
  {
    std::lock_guard<std::mutex> lock(mu_);
    limit_ = std::max<size_t>(1, limit);
  }
  // A raised limit lets waiters in: hand them a slot each as if one had been released.
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!waiting_.empty() && in_use_ < limit_) {
      start.push_back(std::move(waiting_.front()));
      waiting_.pop_front();
      ++in_use_;
    }
  }
  for (auto& go : start) go();
}

size_t Admission::limit() const {
  std::lock_guard<std::mutex> lock(mu_);
  return limit_;
}

size_t Admission::in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_use_;
}

void Admission::acquire(std::function<void()> go) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (in_use_ >= limit_ || !waiting_.empty()) {
      waiting_.push_back(std::move(go));
      return;
    }
    ++in_use_;
  }
  go();
}

void Admission::release() {
  std::unique_lock<std::mutex> lock(mu_);
  if (in_use_ > 0) --in_use_;
  if (t_draining) return;  // the loop below, further up this thread's stack, continues
  t_draining = true;
  while (!waiting_.empty() && in_use_ < limit_) {
    std::function<void()> go = std::move(waiting_.front());
    waiting_.pop_front();
    ++in_use_;
    lock.unlock();
    go();
    lock.lock();
  }
  t_draining = false;
}

}  // namespace arraymorph::net
