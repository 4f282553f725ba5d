// first_error.hpp -- keeps the first failure reported by a batch of parallel work.
//
// Later failures of the same batch are usually consequences of the first (or the same cause
// seen again), so only the first is reported.
//
// Thread-safety: set() and get() may be called from any thread.
#pragma once

#include <mutex>
#include <utility>

#include "common/status.hpp"

namespace arraymorph {

class FirstError {
 public:
  void set(Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    if (first_.ok()) first_ = std::move(s);
  }
  Status get() {
    std::lock_guard<std::mutex> lock(mu_);
    return first_;
  }

 private:
  std::mutex mu_;
  Status first_;
};

}  // namespace arraymorph
