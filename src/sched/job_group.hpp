// job_group.hpp -- jobs submitted to a ThreadPool that one caller waits for (no spinning).
//
// Used where work is handed to the pool from a store's completion thread (decode a chunk as it
// arrives) and the caller must not return before it is done. Unlike parallel_for, the waiting
// thread does not help: run() may be called from any thread while another waits.
//
// Thread-safety: run() from any thread; wait() from the owner. The destructor waits. A job's
// exception is dropped (jobs report their own errors).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>

#include "sched/thread_pool.hpp"

namespace arraymorph {

class JobGroup {
 public:
  explicit JobGroup(ThreadPool& pool) : pool_(pool) {}
  ~JobGroup() { wait(); }
  JobGroup(const JobGroup&) = delete;
  JobGroup& operator=(const JobGroup&) = delete;

  void run(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++pending_;
    }
    pool_.submit([this, job = std::move(job)] {
      try {
        job();
      } catch (...) {
      }
      std::lock_guard<std::mutex> lock(mu_);
      if (--pending_ == 0) cv_.notify_all();
    });
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return pending_ == 0; });
  }

 private:
  ThreadPool& pool_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t pending_ = 0;
};

}  // namespace arraymorph
