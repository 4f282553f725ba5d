// test_curl_transport.cpp -- the libcurl transport against a raw loopback socket server written
// here: bodies and headers both ways, keep-alive reuse, a sliding window of concurrent requests,
// refused connections and timeouts.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/curl_transport.hpp"
#include "net/loopback_server.hpp"
#include "net/transport.hpp"

using namespace arraymorph::net;

namespace {

HttpResponse ok_response(Outcome&& o) {
  if (auto* e = std::get_if<TransportError>(&o)) FAIL("transport error: " << e->message);
  return std::get<HttpResponse>(std::move(o));
}

}  // namespace

TEST_CASE("GET, PUT, POST, HEAD, DELETE with headers and bodies") {
  LoopbackServer server;
  auto t = make_curl_transport({});
  HttpRequest get;
  get.url = server.url("/a%20b/c?x=1");
  get.headers = {{"Range", "bytes=0-9"}, {"x-amz-empty", ""}};
  auto r = ok_response(issue_and_wait(*t, get));
  CHECK(r.status == 200);
  CHECK(r.body_string() == "echo GET /a%20b/c?x=1 0");
  CHECK(find_header(r.headers, "x-test") == "yes");

  std::string big(1 << 20, 'z');
  big[12345] = 'q';
  HttpRequest put;
  put.method = "PUT";
  put.url = server.url("/put");
  put.body_ptr = reinterpret_cast<const unsigned char*>(big.data());
  put.body_size = big.size();
  r = ok_response(issue_and_wait(*t, put));
  CHECK(r.body_string() == "echo PUT /put 1048576");

  HttpRequest post;
  post.method = "POST";
  post.url = server.url("/bucket?delete=");
  post.owned_body = "<Delete/>";
  r = ok_response(issue_and_wait(*t, post));
  CHECK(r.body_string() == "echo POST /bucket?delete= 9");

  HttpRequest head;
  head.method = "HEAD";
  head.url = server.url("/h");
  r = ok_response(issue_and_wait(*t, head));
  CHECK(r.status == 200);
  CHECK(r.body.empty());
  CHECK(find_header(r.headers, "content-length") == "42");

  HttpRequest del;
  del.method = "DELETE";
  del.url = server.url("/missing");
  r = ok_response(issue_and_wait(*t, del));
  CHECK(r.status == 404);

  const auto seen = server.seen();
  REQUIRE(seen.size() == 5);
  CHECK(seen[0].headers.at("range") == "bytes=0-9");
  CHECK(seen[0].headers.count("x-amz-empty") == 1);
  CHECK(seen[1].body == big);
  CHECK(seen[1].headers.count("expect") == 0);  // no 100-continue round trip
  CHECK(seen[2].method == "POST");
  CHECK(seen[2].body == "<Delete/>");
  CHECK(seen[3].method == "HEAD");
  CHECK(seen[4].method == "DELETE");
}

TEST_CASE("keep-alive: sequential requests reuse one connection") {
  LoopbackServer server;
  auto t = make_curl_transport({});
  for (int i = 0; i < 10; ++i) {
    HttpRequest r;
    r.url = server.url("/k" + std::to_string(i));
    CHECK(ok_response(issue_and_wait(*t, r)).status == 200);
  }
  CHECK(server.connections() == 1);
}

// A window of 4 (over `loops` event loops) with the largest on_active count recorded; issues
// `n` requests of the server's 200 ms /slow page and waits for them all.
struct WindowRun {
  std::atomic<size_t> max_active{0};
  int ok = 0;
  double seconds = 0;

  void run(LoopbackServer& server, int loops, int n) {
    TransportOptions o;
    o.max_inflight = 4;
    o.event_loops = loops;
    o.on_active = [this](size_t k) {
      size_t cur = max_active.load();
      while (k > cur && !max_active.compare_exchange_weak(cur, k)) {
      }
    };
    auto t = make_curl_transport(o);
    std::mutex mu;
    std::condition_variable cv;
    int done = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      HttpRequest r;
      r.url = server.url("/slow");
      t->issue(r, [&](Outcome&& out) {
        std::lock_guard<std::mutex> lock(mu);
        ++done;
        ok += std::holds_alternative<HttpResponse>(out) && std::get<HttpResponse>(out).status == 200;
        cv.notify_all();
      });
    }
    std::unique_lock<std::mutex> lock(mu);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return done == n; }));
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
};

TEST_CASE("sliding window: max_inflight requests run concurrently, the rest queue") {
  LoopbackServer server;
  WindowRun w;
  w.run(server, 1, 12);
  CHECK(w.ok == 12);
  CHECK(server.max_concurrent() > 1);
  CHECK(server.max_concurrent() <= 4);
  CHECK(w.max_active.load() == 4);
  CHECK(server.connections() <= 4);
  // 12 requests of 200 ms, 4 at a time: about 3 rounds, far below 12 serial ones.
  CHECK(w.seconds >= 0.55);
  CHECK(w.seconds < 2.0);
}

TEST_CASE("event loops share the window: the total stays max_inflight, on_active reports the sum") {
  LoopbackServer server;
  WindowRun w;
  w.run(server, 2, 12);
  CHECK(w.ok == 12);
  CHECK(server.max_concurrent() == 4);  // both loops, two requests each
  CHECK(w.max_active.load() == 4);      // the sum over the loops, not one loop's count
}

TEST_CASE("more event loops than max_inflight: one loop per request slot") {
  LoopbackServer server;
  TransportOptions o;
  o.max_inflight = 1;
  o.event_loops = 4;
  auto t = make_curl_transport(o);
  HttpRequest r;
  r.url = server.url("/");
  CHECK(ok_response(issue_and_wait(*t, r)).status == 200);
}

TEST_CASE("connection refused names host:port and is a connect failure (nothing sent)") {
  int port;
  {
    LoopbackServer probe;  // take a free port, then close it
    port = std::stoi(probe.url("").substr(std::string("http://127.0.0.1:").size()));
  }
  auto t = make_curl_transport({});
  HttpRequest r;
  r.url = "http://127.0.0.1:" + std::to_string(port) + "/bucket/key";
  const auto t0 = std::chrono::steady_clock::now();
  Outcome o = issue_and_wait(*t, r);
  REQUIRE(std::holds_alternative<TransportError>(o));
  const auto& e = std::get<TransportError>(o);
  CHECK(e.message.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(e.message.find("connection refused") != std::string::npos);
  CHECK(e.kind == TransportFailure::kConnect);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
}

TEST_CASE("timeouts and dropped connections are retryable transport errors") {
  LoopbackServer server;
  TransportOptions o;
  o.request_timeout_s = 0.3;
  auto t = make_curl_transport(o);
  HttpRequest hang;
  hang.url = server.url("/hang");
  Outcome a = issue_and_wait(*t, hang);
  REQUIRE(std::holds_alternative<TransportError>(a));
  CHECK(std::get<TransportError>(a).kind == TransportFailure::kBroken);
  CHECK(std::get<TransportError>(a).message.find("timed out") != std::string::npos);
  HttpRequest drop;
  drop.url = server.url("/close");
  Outcome b = issue_and_wait(*t, drop);
  REQUIRE(std::holds_alternative<TransportError>(b));
  CHECK(std::get<TransportError>(b).kind == TransportFailure::kBroken);
}

TEST_CASE("destroying the transport fails queued requests exactly once") {
  LoopbackServer server;
  std::atomic<int> calls{0}, errors{0};
  {
    TransportOptions o;
    o.max_inflight = 1;
    o.request_timeout_s = 30;
    auto t = make_curl_transport(o);
    for (int i = 0; i < 5; ++i) {
      HttpRequest r;
      r.url = server.url("/hang");
      t->issue(r, [&](Outcome&& out) {
        ++calls;
        errors += std::holds_alternative<TransportError>(out);
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(calls == 5);
  CHECK(errors == 5);
}

TEST_CASE("host_port_of fills default ports") {
  CHECK(host_port_of("http://127.0.0.1:8333/b/k") == "127.0.0.1:8333");
  CHECK(host_port_of("https://s3.us-east-2.amazonaws.com/b") == "s3.us-east-2.amazonaws.com:443");
  CHECK(host_port_of("http://example.com?x") == "example.com:80");
  CHECK(host_port_of("http://[::1]/x") == "[::1]:80");
}

// GET `path` with a destination taking bodies of status `dest_status`.
HttpResponse get_into(HttpTransport& transport, const LoopbackServer& server, const std::string& path,
                      const arraymorph::GetDestination& dest, long dest_status = 200) {
  HttpRequest req;
  req.url = server.url(path);
  req.dest = &dest;
  req.dest_status = dest_status;
  return ok_response(issue_and_wait(transport, req));
}

TEST_CASE("a destination receives the body of the expected status straight into its spans") {
  LoopbackServer server;
  auto transport = make_curl_transport(TransportOptions{});
  const std::string body = "echo GET /zero-copy 0";  // what the server answers (21 bytes)
  REQUIRE(body.size() == 21);
  constexpr unsigned char kCanary = 0xEE;

  SUBCASE("scattered into spans with a gap; the response body stays empty") {
    std::vector<unsigned char> head(4, kCanary), tail(6, kCanary);
    arraymorph::GetDestination dest{21, {{0, head.data(), 4}, {15, tail.data(), 6}}};
    HttpResponse r = get_into(*transport, server, "/zero-copy", dest);
    CHECK(r.status == 200);
    CHECK(r.into_dest);
    CHECK(r.dest_bytes == 21);
    CHECK(r.body.empty());
    CHECK(std::string(head.begin(), head.end()) == "echo");
    CHECK(std::string(tail.begin(), tail.end()) == body.substr(15));
  }
  SUBCASE("a longer body is counted but never written past the destination") {
    std::vector<unsigned char> buf(10 + 32, kCanary);
    auto dest = arraymorph::GetDestination::contiguous(buf.data(), 10);
    HttpResponse r = get_into(*transport, server, "/zero-copy", dest);
    CHECK(r.into_dest);
    CHECK(r.dest_bytes == 21);
    CHECK(std::string(buf.begin(), buf.begin() + 10) == body.substr(0, 10));
    CHECK(std::all_of(buf.begin() + 10, buf.end(), [](unsigned char x) { return x == kCanary; }));
  }
  SUBCASE("another status (an error) goes to the response body, the destination is untouched") {
    std::vector<unsigned char> buf(64, kCanary);
    auto dest = arraymorph::GetDestination::contiguous(buf.data(), 64);
    HttpResponse r = get_into(*transport, server, "/missing", dest);
    CHECK(r.status == 404);
    CHECK_FALSE(r.into_dest);
    CHECK(r.body_string() == "echo GET /missing 0");
    CHECK(std::all_of(buf.begin(), buf.end(), [](unsigned char x) { return x == kCanary; }));
  }
  SUBCASE("dest_status 206 does not take a 200") {
    std::vector<unsigned char> buf(21, kCanary);
    auto dest = arraymorph::GetDestination::contiguous(buf.data(), 21);
    HttpResponse r = get_into(*transport, server, "/zero-copy", dest, 206);
    CHECK_FALSE(r.into_dest);
    CHECK(r.body_string() == body);
  }
}
