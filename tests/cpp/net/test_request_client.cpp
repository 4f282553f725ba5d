// test_request_client.cpp -- the one retrying request client (src/net/request_client) against a
// scripted mock transport: every retry class for idempotent and non-idempotent calls, the attempt
// cap, the per-call deadline, re-building (re-signing) per attempt, the process-wide admission
// limit, stats, cancellation; and against the real libcurl transport on loopback: a refused
// connection during a server restart is retried, and retry_total_timeout caps a stalled call.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <thread>

#include "net/curl_transport.hpp"
#include "net/loopback_server.hpp"
#include "net/request_client.hpp"

using namespace arraymorph;
using namespace arraymorph::net;
using Clock = std::chrono::steady_clock;

namespace {

// Answers each request with the next scripted outcome from a thread of its own (as a real
// transport answers from its event loop), after `delay`; records every request.
class MockTransport : public HttpTransport {
 public:
  explicit MockTransport(std::deque<Outcome> script, double delay_s = 0)
      : script_(std::move(script)), delay_s_(delay_s) {}
  ~MockTransport() override {
    for (auto& t : threads_) t.join();
  }
  void issue(HttpRequest request, ResponseHandler handler) override {
    Outcome o;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(request);
      o = script_.empty() ? Outcome(ok()) : script_.front();
      if (!script_.empty()) script_.pop_front();
      threads_.emplace_back([h = std::move(handler), o = std::move(o), d = delay_s_]() mutable {
        if (d > 0) std::this_thread::sleep_for(std::chrono::duration<double>(d));
        h(std::move(o));
      });
    }
  }
  std::vector<HttpRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  static HttpResponse ok() {
    HttpResponse r;
    r.status = 200;
    return r;
  }

 private:
  std::mutex mu_;
  std::deque<Outcome> script_;
  double delay_s_;
  std::vector<HttpRequest> requests_;
  std::vector<std::thread> threads_;
};

HttpResponse status(long code, const std::string& body = "") {
  HttpResponse r;
  r.status = code;
  r.body.assign(body.begin(), body.end());
  return r;
}

ClientOptions fast_options(std::shared_ptr<Stats> stats = nullptr) {
  ClientOptions o;
  o.retry.max_attempts = 5;
  o.retry.initial_backoff_s = 0.001;
  o.retry.max_backoff_s = 0.002;
  o.retry.total_timeout_s = 30;
  o.stats = std::move(stats);
  o.admission = std::make_shared<Admission>(64);
  return o;
}

Call call(std::string method, bool idempotent = true, int* builds = nullptr) {
  Call c;
  c.op = OpKind::kPut;
  c.idempotent = idempotent;
  c.build = [method, builds] {
    if (builds) ++*builds;
    HttpRequest r;
    r.method = method;
    r.url = "http://127.0.0.1:1/k";
    return r;
  };
  return c;
}

long final_status(const Completed& c) {
  const auto* r = std::get_if<HttpResponse>(&c.outcome);
  return r ? r->status : -1;
}

// Runs one call whose first attempt fails with `first`, the second succeeds; returns attempts.
int attempts_after(const Outcome& first, bool idempotent, bool error_in_200 = false) {
  auto t = std::make_shared<MockTransport>(std::deque<Outcome>{first, MockTransport::ok()});
  RequestClient client(t, fast_options());
  Call c = call(idempotent ? "PUT" : "POST", idempotent);
  c.error_in_200_body = error_in_200;
  return client.run(std::move(c)).attempts;
}

}  // namespace

TEST_CASE("every retry class, for idempotent and non-idempotent calls") {
  const Outcome slow_down = status(503, "<Error><Code>SlowDown</Code></Error>");
  const Outcome throttled = status(429);
  const Outcome server = status(500);
  const Outcome gateway = status(502);
  const Outcome refused = TransportError{"connection refused", TransportFailure::kConnect};
  const Outcome reset = TransportError{"connection reset", TransportFailure::kBroken};
  const Outcome timeout = TransportError{"timed out", TransportFailure::kBroken};
  const Outcome tls = TransportError{"certificate", TransportFailure::kFatal};
  // Throttling and connect failures: the server never acted on it -> re-sent for every method.
  for (bool idem : {true, false}) {
    CHECK(attempts_after(slow_down, idem) == 2);
    CHECK(attempts_after(throttled, idem) == 2);
    CHECK(attempts_after(refused, idem) == 2);
  }
  // May have been applied: re-sent only when repeating is harmless.
  CHECK(attempts_after(server, true) == 2);
  CHECK(attempts_after(gateway, true) == 2);
  CHECK(attempts_after(reset, true) == 2);
  CHECK(attempts_after(timeout, true) == 2);
  CHECK(attempts_after(server, false) == 1);
  CHECK(attempts_after(reset, false) == 1);
  CHECK(attempts_after(timeout, false) == 1);
  // Final answers and fatal transport errors: never.
  CHECK(attempts_after(status(403), true) == 1);
  CHECK(attempts_after(status(404), true) == 1);
  CHECK(attempts_after(tls, true) == 1);
  // SlowDown inside a 200 (CompleteMultipartUpload) -- only where the operation may answer so.
  const Outcome slow200 = status(200, "<Error><Code>SlowDown</Code></Error>");
  CHECK(attempts_after(slow200, false, true) == 2);
  CHECK(attempts_after(slow200, false, false) == 1);
}

TEST_CASE("attempts are capped; each attempt is built (signed) afresh; stats count them") {
  auto stats = std::make_shared<Stats>();
  auto t = std::make_shared<MockTransport>(
      std::deque<Outcome>(6, Outcome(status(503))));
  RequestClient client(t, fast_options(stats));
  int builds = 0;
  Completed c = client.run(call("GET", true, &builds));
  CHECK(c.attempts == 5);
  CHECK(builds == 5);
  CHECK(final_status(c) == 503);
  CHECK_FALSE(c.deadline_passed);
  CHECK(stats->op(OpKind::kPut).requests.load() == 5);
  CHECK(stats->op(OpKind::kPut).retries.load() == 4);
  CHECK(stats->max_inflight_seen.load() >= 1);
}

TEST_CASE("the deadline caps the whole call: no backoff crosses it, every attempt carries it") {
  ClientOptions o = fast_options();
  o.retry.max_attempts = 1000;
  o.retry.initial_backoff_s = 0.05;
  o.retry.max_backoff_s = 0.05;
  o.retry.jitter = 0;
  o.retry.total_timeout_s = 0.4;
  auto t = std::make_shared<MockTransport>(std::deque<Outcome>(1000, Outcome(status(500))));
  RequestClient client(t, o);
  const auto t0 = Clock::now();
  Completed c = client.run(call("GET"));
  const double took = std::chrono::duration<double>(Clock::now() - t0).count();
  CHECK(c.deadline_passed);
  CHECK(c.attempts > 1);
  CHECK(c.attempts < 20);
  CHECK(took < 0.4 + 0.3);  // the budget plus scheduling slack, far from 1000 attempts
  const auto requests = t->requests();
  REQUIRE(!requests.empty());
  const auto deadline = requests.front().deadline;
  CHECK(deadline != Clock::time_point{});
  for (const auto& r : requests) CHECK(r.deadline == deadline);  // one deadline for the call
}

TEST_CASE("one admission limit is shared by every client (store) in the process") {
  auto admission = std::make_shared<Admission>(2);
  auto t1 = std::make_shared<MockTransport>(std::deque<Outcome>{}, 0.05);
  auto t2 = std::make_shared<MockTransport>(std::deque<Outcome>{}, 0.05);
  ClientOptions o = fast_options();
  o.admission = admission;
  RequestClient a(t1, o), b(t2, o);
  std::atomic<size_t> peak{0};
  Completions<int> done;
  // Sample the admission while 8 calls over two clients are running.
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling) {
      size_t n = admission->in_use();
      size_t p = peak.load();
      while (n > p && !peak.compare_exchange_weak(p, n)) {
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  for (int i = 0; i < 8; ++i) {
    RequestClient& client = i % 2 ? a : b;
    client.start(call("GET"), [&done, i](Completed&& c) { done.push(i, final_status(c)); });
  }
  int ok = 0;
  done.deliver(8, [&](size_t, int s) { ok += s == 200; });
  sampling = false;
  sampler.join();
  CHECK(ok == 8);
  CHECK(peak.load() <= 2);
  CHECK(peak.load() >= 1);
  CHECK(admission->in_use() == 0);
  CHECK(t1->requests().size() + t2->requests().size() == 8);
}

TEST_CASE("waiting for the first admission slot does not eat the call's deadline") {
  // A batch's tail waits behind its head; with a slot limit of 1 and 0.2 s per request the 4th
  // call starts after 0.6 s, beyond the 0.5 s budget, and must still succeed.
  ClientOptions o = fast_options();
  o.admission = std::make_shared<Admission>(1);
  o.retry.total_timeout_s = 0.5;
  auto t = std::make_shared<MockTransport>(std::deque<Outcome>{}, 0.2);
  RequestClient client(t, o);
  Completions<long> done;
  for (int i = 0; i < 4; ++i)
    client.start(call("GET"), [&done, i](Completed&& c) { done.push(i, final_status(c)); });
  int ok = 0;
  done.deliver(4, [&](size_t, long s) { ok += s == 200; });
  CHECK(ok == 4);
}

TEST_CASE("destroying the client mid-backoff reports the last outcome once") {
  ClientOptions o = fast_options();
  o.retry.initial_backoff_s = 30;
  o.retry.max_backoff_s = 30;
  o.retry.total_timeout_s = 120;
  auto t = std::make_shared<MockTransport>(std::deque<Outcome>{status(503)});
  Completions<Completed> done;
  {
    RequestClient client(t, o);
    client.start(call("GET"), [&done](Completed&& c) { done.push(0, std::move(c)); });
    while (t->requests().empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the 503 arrived; backoff runs
  }
  Completed c = done.pop().second;
  CHECK(final_status(c) == 503);
  CHECK(c.attempts == 1);
}

// ------------------------------------------------------------------ real transport on loopback

TEST_CASE("a refused connection while the server restarts (0.85 s) is retried, not failed") {
  const int port = free_port();
  std::unique_ptr<LoopbackServer> server;
  std::thread restart([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(850));
    server = std::make_unique<LoopbackServer>(port);
  });
  TransportOptions topts;
  topts.connect_timeout_s = 2;
  ClientOptions o = fast_options();
  o.retry.max_attempts = 10;
  o.retry.initial_backoff_s = 0.05;
  o.retry.max_backoff_s = 0.4;
  o.retry.total_timeout_s = 20;
  RequestClient client(make_curl_transport(topts), o);
  std::string body = "chunk bytes";
  Call c;
  c.op = OpKind::kPut;
  c.build = [&] {
    HttpRequest r;
    r.method = "PUT";
    r.url = "http://127.0.0.1:" + std::to_string(port) + "/bucket/key";
    r.owned_body = body;
    return r;
  };
  Completed done = client.run(std::move(c));
  restart.join();
  REQUIRE(std::holds_alternative<HttpResponse>(done.outcome));
  CHECK(std::get<HttpResponse>(done.outcome).status == 200);
  CHECK(std::get<HttpResponse>(done.outcome).body_string() == "echo PUT /bucket/key 11");
  CHECK(done.attempts > 1);
}

TEST_CASE("retry_total_timeout caps a stalled call, each attempt's timeout included") {
  LoopbackServer server;  // "/hang" never answers
  TransportOptions topts;
  topts.request_timeout_s = 1.5;  // alone, two attempts would take 3 s
  ClientOptions o = fast_options();
  o.retry.max_attempts = 8;
  o.retry.initial_backoff_s = 0.05;
  o.retry.total_timeout_s = 2.0;
  RequestClient client(make_curl_transport(topts), o);
  Call c;
  c.op = OpKind::kGet;
  c.build = [&] {
    HttpRequest r;
    r.url = server.url("/hang");
    return r;
  };
  const auto t0 = Clock::now();
  Completed done = client.run(std::move(c));
  const double took = std::chrono::duration<double>(Clock::now() - t0).count();
  REQUIRE(std::holds_alternative<TransportError>(done.outcome));
  CHECK(done.attempts == 2);
  CHECK(took < 2.0 + 0.6);  // before: 1.5 s + backoff + a full 1.5 s second attempt
  CHECK(took > 1.9);
}
