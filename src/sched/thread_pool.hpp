// thread_pool.hpp -- the fixed-size worker pool that decodes, encodes, copies and runs blocking
// store calls (docs/design.md §4). Size it with Config::effective_threads().
//
// parallel_for is the building block: the calling thread works on the tasks too, so it makes
// progress even when every worker is busy -- nested parallel_for calls from inside a task, or a
// pool of one, cannot deadlock. Waiting uses condition variables, never spinning.
//
// Thread-safety: submit and parallel_for may be called from any thread, including workers.
// The destructor runs the jobs already queued, then joins; nothing may be submitted after it
// has started except by those jobs themselves.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace arraymorph {

class ThreadPool {
 public:
  explicit ThreadPool(size_t threads);  // 0 is taken as 1
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size(); }

  // Fire and forget. The job owns its error handling: an exception escaping it is dropped
  // (it must not take a worker down with it).
  void submit(std::function<void()> job);

  // Runs task(0..n-1) with at most `max_parallel` running at once (0 = no limit beyond the pool
  // size plus the caller), returns when all have finished, and rethrows the first exception a
  // task threw. After a task throws, tasks not yet started are skipped.
  void parallel_for(size_t n, size_t max_parallel, const std::function<void(size_t)>& task);

 private:
  void worker_loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace arraymorph
