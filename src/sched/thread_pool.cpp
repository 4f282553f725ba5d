// thread_pool.cpp -- worker threads over a mutex/condvar job queue, and parallel_for.
#include "sched/thread_pool.hpp"

#include <algorithm>
#include <exception>
#include <memory>

namespace arraymorph {
namespace {

// State of one parallel_for call. Shared with its helper jobs because a helper may start only
// after the call has returned (the pool was busy); such a late helper finds no index left and
// never touches `task`.
struct ForState {
  std::mutex mu;
  std::condition_variable done_cv;
  size_t next = 0;
  size_t n = 0;
  size_t running = 0;  // helpers between claiming their first index and finishing
  bool failed = false;
  std::exception_ptr error;
  const std::function<void(size_t)>* task = nullptr;

  // Claims the next index under the lock; false when none is left.
  bool claim(size_t& index) {
    if (failed || next >= n) return false;
    index = next++;
    return true;
  }

  // Runs tasks until none are left. `helper` marks a pool job (counted in `running`).
  void work(bool helper) {
    size_t index = 0;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!claim(index)) return;
      if (helper) ++running;
    }
    while (true) {
      try {
        (*task)(index);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!failed) {
          failed = true;
          error = std::current_exception();
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      if (!claim(index)) {
        if (helper && --running == 0) done_cv.notify_all();
        return;
      }
    }
  }
};

}  // namespace

ThreadPool::ThreadPool(size_t threads) {
  threads = std::max<size_t>(threads, 1);
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::submit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void ThreadPool::worker_loop() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      job();
    } catch (...) {
      // See submit(): the job owns its errors.
    }
  }
}

void ThreadPool::parallel_for(size_t n, size_t max_parallel,
                              const std::function<void(size_t)>& task) {
  if (n == 0) return;
  auto state = std::make_shared<ForState>();
  state->n = n;
  state->task = &task;
  size_t parallel = max_parallel == 0 ? size() + 1 : max_parallel;
  parallel = std::min({parallel, n, size() + 1});
  for (size_t i = 1; i < parallel; ++i) {
    submit([state] { state->work(true); });
  }
  state->work(false);
  std::unique_lock<std::mutex> lock(state->mu);
  state->done_cv.wait(lock, [&] { return state->running == 0; });
  if (state->error) std::rethrow_exception(state->error);
}

}  // namespace arraymorph
