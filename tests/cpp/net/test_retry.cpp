// test_retry.cpp -- backoff schedule, the retry taxonomy and the retry timer.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "net/retry.hpp"

using namespace arraymorph::net;

TEST_CASE("backoff doubles from initial and caps at max") {
  const Rng one = [] { return 1.0; };  // jitter draws its maximum: the full base
  CHECK(backoff_for_attempt(1, 0.05, 5.0, 0.5, one) == doctest::Approx(0.05));
  CHECK(backoff_for_attempt(2, 0.05, 5.0, 0.5, one) == doctest::Approx(0.10));
  CHECK(backoff_for_attempt(3, 0.05, 5.0, 0.5, one) == doctest::Approx(0.20));
  CHECK(backoff_for_attempt(8, 0.05, 5.0, 0.5, one) == doctest::Approx(5.0));  // 6.4 capped
  CHECK(backoff_for_attempt(1000, 0.05, 5.0, 0.5, one) == doctest::Approx(5.0));
  CHECK(backoff_for_attempt(0, 0.05, 5.0, 0.5, one) == doctest::Approx(0.05));  // clamped to 1
}

TEST_CASE("jitter randomises the given fraction of the wait") {
  const Rng zero = [] { return 0.0; };
  const Rng half = [] { return 0.5; };
  CHECK(backoff_for_attempt(3, 0.1, 10.0, 0.5, zero) == doctest::Approx(0.2));   // 0.4 * 0.5
  CHECK(backoff_for_attempt(3, 0.1, 10.0, 0.5, half) == doctest::Approx(0.3));   // 0.2 + 0.1
  CHECK(backoff_for_attempt(3, 0.1, 10.0, 0.0, zero) == doctest::Approx(0.4));   // no jitter
  CHECK(backoff_for_attempt(3, 0.1, 10.0, 1.0, zero) == doctest::Approx(0.0));   // full jitter
  CHECK(backoff_for_attempt(3, 0.1, 10.0, 7.0, half) == doctest::Approx(0.2));   // clamped to 1
  // Values stay inside [base*(1-jitter), base] for any draw.
  for (double r : {0.0, 0.1, 0.37, 0.999}) {
    const double w = backoff_for_attempt(4, 0.05, 5.0, 0.5, [r] { return r; });
    CHECK(w >= 0.2 - 1e-12);
    CHECK(w <= 0.4 + 1e-12);
  }
}

TEST_CASE("retryable statuses: 408, 429 and 5xx gateway/server errors only") {
  for (long s : {408L, 429L, 500L, 502L, 503L, 504L}) CHECK(is_retryable_status(s));
  for (long s : {200L, 206L, 301L, 400L, 401L, 403L, 404L, 409L, 412L, 416L, 501L, 505L})
    CHECK_FALSE(is_retryable_status(s));
}

namespace {
Outcome status(long code, std::string body = "") {
  HttpResponse r;
  r.status = code;
  r.body.assign(body.begin(), body.end());
  return r;
}
}  // namespace

TEST_CASE("taxonomy: each outcome's class, and which classes are re-sent per idempotency") {
  CHECK(classify(status(503, "<Error><Code>SlowDown</Code></Error>")) == Failure::kThrottled);
  CHECK(classify(status(429)) == Failure::kThrottled);
  CHECK(classify(status(408)) == Failure::kThrottled);
  CHECK(classify(status(400, "<Error><Code>RequestTimeout</Code></Error>")) == Failure::kThrottled);
  CHECK(classify(status(400, "<Error><Code>InvalidArgument</Code></Error>")) == Failure::kNone);
  CHECK(classify(status(400, "<Error><Code>BadDigest</Code></Error>")) == Failure::kCorrupt);
  CHECK(classify(status(400, "<Error><Code>XAmzContentChecksumMismatch</Code></Error>")) == Failure::kCorrupt);
  CHECK(classify(status(400, "<?xml version=\"1.0\"?><Error><Code>Md5Mismatch</Code></Error>")) ==
        Failure::kCorrupt);
  CHECK(classify(status(500)) == Failure::kServerError);
  CHECK(classify(status(502)) == Failure::kServerError);
  CHECK(classify(status(504)) == Failure::kServerError);
  CHECK(classify(status(403)) == Failure::kNone);
  CHECK(classify(status(404)) == Failure::kNone);
  CHECK(classify(status(200)) == Failure::kNone);
  // SlowDown / InternalError inside a 200 body count only where the operation may answer so.
  const Outcome slow200 = status(200, "<Error><Code>SlowDown</Code></Error>");
  CHECK(classify(slow200) == Failure::kNone);
  CHECK(classify(slow200, true) == Failure::kThrottled);
  CHECK(classify(status(200, "<Error><Code>InternalError</Code></Error>"), true) ==
        Failure::kServerError);
  CHECK(classify(status(200, "<CompleteMultipartUploadResult/>"), true) == Failure::kNone);
  CHECK(classify(Outcome(TransportError{"refused", TransportFailure::kConnect})) == Failure::kConnect);
  CHECK(classify(Outcome(TransportError{"reset", TransportFailure::kBroken})) == Failure::kBroken);
  CHECK(classify(Outcome(TransportError{"tls", TransportFailure::kFatal})) == Failure::kFatal);

  for (bool idem : {true, false}) {
    CHECK(should_retry(Failure::kThrottled, idem));
    CHECK(should_retry(Failure::kConnect, idem));
    CHECK(should_retry(Failure::kServerError, idem) == idem);
    CHECK(should_retry(Failure::kBroken, idem) == idem);
    CHECK_FALSE(should_retry(Failure::kFatal, idem));
    CHECK_FALSE(should_retry(Failure::kNone, idem));
  }
}

TEST_CASE("RetryTimer runs tasks in time order after their delay") {
  RetryTimer timer;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> order;
  const auto t0 = std::chrono::steady_clock::now();
  auto add = [&](int v) {
    return [&, v](bool cancelled) {
      CHECK_FALSE(cancelled);
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(v);
      cv.notify_all();
    };
  };
  timer.schedule(0.15, add(3));
  timer.schedule(0.05, add(2));
  timer.schedule(0.0, add(1));
  std::unique_lock<std::mutex> lock(mu);
  REQUIRE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return order.size() == 3; }));
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(order == std::vector<int>{1, 2, 3});
  CHECK(took >= 0.14);
  CHECK(took < 3.0);
}

TEST_CASE("RetryTimer cancels pending tasks on destruction") {
  std::atomic<int> cancelled{0}, ran{0};
  {
    RetryTimer timer;
    for (int i = 0; i < 3; ++i)
      timer.schedule(60.0, [&](bool c) { (c ? cancelled : ran).fetch_add(1); });
  }
  CHECK(cancelled == 3);
  CHECK(ran == 0);
}
