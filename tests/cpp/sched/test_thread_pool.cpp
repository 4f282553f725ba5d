// ThreadPool: results, limits, exceptions, nesting without deadlock.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <vector>

#include "sched/thread_pool.hpp"

using namespace arraymorph;

TEST_CASE("parallel_for runs every index exactly once") {
  ThreadPool pool(4);
  CHECK(pool.size() == 4);
  std::vector<std::atomic<int>> hits(1000);
  std::vector<long> squares(1000);
  pool.parallel_for(1000, 0, [&](size_t i) {
    hits[i].fetch_add(1);
    squares[i] = static_cast<long>(i * i);
  });
  for (size_t i = 0; i < hits.size(); ++i) {
    CHECK(hits[i].load() == 1);
    CHECK(squares[i] == static_cast<long>(i * i));
  }
  pool.parallel_for(0, 4, [&](size_t) { FAIL("no task for n == 0"); });
}

TEST_CASE("parallel_for respects max_parallel") {
  ThreadPool pool(8);
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  pool.parallel_for(64, 3, [&](size_t) {
    const int now = running.fetch_add(1) + 1;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    running.fetch_sub(1);
  });
  CHECK(peak.load() <= 3);
  CHECK(peak.load() >= 1);
}

TEST_CASE("tasks run concurrently on the pool and the caller") {
  ThreadPool pool(2);
  // Three tasks that each wait for all three to have started: only possible when the two
  // workers and the calling thread run them at the same time.
  std::mutex mu;
  std::condition_variable cv;
  int started = 0;
  bool all_met = true;
  pool.parallel_for(3, 3, [&](size_t) {
    std::unique_lock<std::mutex> lock(mu);
    ++started;
    cv.notify_all();
    if (!cv.wait_for(lock, std::chrono::seconds(10), [&] { return started == 3; })) all_met = false;
  });
  CHECK(all_met);
}

TEST_CASE("the first exception propagates after all running tasks finish") {
  ThreadPool pool(3);
  std::atomic<int> finished{0};
  bool threw = false;
  try {
    pool.parallel_for(100, 4, [&](size_t i) {
      if (i == 10) throw std::runtime_error("task 10 failed");
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      finished.fetch_add(1);
    });
  } catch (const std::runtime_error& e) {
    threw = true;
    CHECK(std::string(e.what()) == "task 10 failed");
  }
  CHECK(threw);
  CHECK(finished.load() < 99);  // later tasks were skipped
  // The pool is still usable afterwards.
  std::atomic<int> count{0};
  pool.parallel_for(10, 0, [&](size_t) { count.fetch_add(1); });
  CHECK(count.load() == 10);
}

TEST_CASE("nested parallel_for on a pool of one does not deadlock") {
  ThreadPool pool(1);
  std::vector<std::atomic<int>> cells(8 * 8);
  pool.parallel_for(8, 8, [&](size_t i) {
    pool.parallel_for(8, 8, [&](size_t j) {
      pool.parallel_for(2, 2, [&](size_t k) {
        if (k == 0) cells[i * 8 + j].fetch_add(1);
      });
    });
  });
  for (auto& c : cells) CHECK(c.load() == 1);
}

TEST_CASE("parallel_for called from a submitted job") {
  ThreadPool pool(1);
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  long sum = 0;
  pool.submit([&] {
    std::vector<long> v(100);
    pool.parallel_for(100, 4, [&](size_t i) { v[i] = static_cast<long>(i); });
    std::lock_guard<std::mutex> lock(mu);
    sum = std::accumulate(v.begin(), v.end(), 0L);
    done = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return done; }));
  CHECK(sum == 4950);
}

TEST_CASE("submit runs queued jobs; the destructor drains and joins") {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(2);
    for (int i = 0; i < 100; ++i) pool.submit([&] { ran.fetch_add(1); });
    pool.submit([] { throw std::runtime_error("dropped, not fatal"); });
  }
  CHECK(ran.load() == 100);
}

TEST_CASE("size 0 means one worker") {
  ThreadPool pool(0);
  CHECK(pool.size() == 1);
}
