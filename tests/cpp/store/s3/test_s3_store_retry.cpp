// test_s3_store_retry.cpp -- the S3 store's retry loop and error mapping over a scripted fake
// transport that records every request: retryable failures are re-sent re-signed with a fresh
// date, final failures and 404s map as issue 5 says, stats count it all.
#include <doctest/doctest.h>

#include <deque>
#include <mutex>
#include <thread>

#include "store/s3/s3_test_options.hpp"
#include "store/s3/s3_store.hpp"

using namespace arraymorph;
using namespace arraymorph::net;

namespace {

// Answers each request with the next scripted outcome, from its own thread like a real transport.
class ScriptedTransport : public HttpTransport {
 public:
  explicit ScriptedTransport(std::deque<Outcome> script) : script_(std::move(script)) {}
  void issue(HttpRequest request, ResponseHandler handler) override {
    Outcome o;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests.push_back(request);
      o = script_.empty() ? Outcome(TransportError{"script exhausted", TransportFailure::kFatal}) : script_.front();
      if (!script_.empty()) script_.pop_front();
    }
    std::thread([h = std::move(handler), o = std::move(o)]() mutable { h(std::move(o)); }).detach();
  }
  std::vector<HttpRequest> requests;

 private:
  std::mutex mu_;
  std::deque<Outcome> script_;
};

HttpResponse response(long status, std::string body = "", Headers headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body.assign(body.begin(), body.end());
  r.headers = std::move(headers);
  return r;
}

std::shared_ptr<s3::S3Store> make_store(std::shared_ptr<ScriptedTransport> t,
                                        std::shared_ptr<Stats> stats) {
  s3::S3StoreOptions o = testing::loopback_s3_options();
  o.retry.initial_backoff_s = 0.01;
  o.retry.max_backoff_s = 0.02;
  o.retry.max_attempts = 4;
  auto clock = std::make_shared<std::time_t>(1369353600);
  o.clock = [clock] { return (*clock)++; };  // one second later at every signing
  return std::make_shared<s3::S3Store>(std::move(o), std::move(t), std::move(stats));
}

}  // namespace

TEST_CASE("503 SlowDown and a reset are retried, re-signed with a fresh date") {
  auto t = std::make_shared<ScriptedTransport>(std::deque<Outcome>{
      response(503, "<Error><Code>SlowDown</Code></Error>"), TransportError{"reset", TransportFailure::kBroken},
      response(206, "abc")});
  auto stats = std::make_shared<Stats>();
  auto store = make_store(t, stats);
  auto r = store->get("a b/c", ByteRange{10, 3});
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  CHECK(**r == Bytes{'a', 'b', 'c'});
  REQUIRE(t->requests.size() == 3);
  CHECK(t->requests[0].url == "http://127.0.0.1:9000/bkt/a%20b/c");
  CHECK(find_header(t->requests[0].headers, "Range") == "bytes=10-12");
  CHECK(find_header(t->requests[0].headers, "x-amz-date") == "20130524T000000Z");
  CHECK(find_header(t->requests[2].headers, "x-amz-date") == "20130524T000002Z");
  CHECK(find_header(t->requests[0].headers, "Authorization") !=
        find_header(t->requests[2].headers, "Authorization"));
  CHECK(stats->op(OpKind::kGet).requests == 3);
  CHECK(stats->op(OpKind::kGet).retries == 2);
  CHECK(stats->op(OpKind::kGet).errors == 0);
  CHECK(stats->op(OpKind::kGet).bytes == 3);
}

TEST_CASE("retries stop after max_attempts with a retryable Unavailable status") {
  std::deque<Outcome> script(6, Outcome(response(500)));
  auto t = std::make_shared<ScriptedTransport>(script);
  auto stats = std::make_shared<Stats>();
  auto store = make_store(t, stats);
  auto s = store->put("k", reinterpret_cast<const unsigned char*>("x"), 1);
  CHECK(s.code() == Code::kUnavailable);
  CHECK(s.retryable());
  CHECK(s.message().find("s3://bkt/k") != std::string::npos);
  CHECK(s.message().find("after 4 attempts") != std::string::npos);
  CHECK(t->requests.size() == 4);
  CHECK(stats->op(OpKind::kPut).errors == 1);
  CHECK(stats->op(OpKind::kPut).retries == 3);
}

TEST_CASE("403 is final, names bucket and key, never the secret") {
  auto t = std::make_shared<ScriptedTransport>(std::deque<Outcome>{
      response(403, "<Error><Code>RequestTimeTooSkewed</Code><Message>skew</Message></Error>")});
  auto store = make_store(t, nullptr);
  auto r = store->get("x/y");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kPermissionDenied);
  CHECK(r.status().message().find("'bkt'") != std::string::npos);
  CHECK(r.status().message().find("'x/y'") != std::string::npos);
  CHECK(r.status().message().find("clock") != std::string::npos);
  CHECK(r.status().message().find("SECRET") == std::string::npos);
  CHECK(t->requests.size() == 1);
}

TEST_CASE("NoSuchKey is nullopt, NoSuchBucket an error, 416 empty bytes") {
  auto t = std::make_shared<ScriptedTransport>(std::deque<Outcome>{
      response(404, "<Error><Code>NoSuchKey</Code></Error>"),
      response(404, "<Error><Code>NoSuchBucket</Code></Error>"),
      response(416, "<Error><Code>InvalidRange</Code></Error>"), response(404)});
  auto stats = std::make_shared<Stats>();
  auto store = make_store(t, stats);
  auto a = store->get("missing");
  REQUIRE(a.ok());
  CHECK_FALSE(a->has_value());
  auto b = store->get("k");
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().code() == Code::kNotFound);
  CHECK(b.status().message().find("bucket 'bkt' does not exist") != std::string::npos);
  auto c = store->get("k", ByteRange{1000, 10});
  REQUIRE(c.ok());
  REQUIRE(c->has_value());
  CHECK((*c)->empty());
  auto d = store->head("missing");
  REQUIRE(d.ok());
  CHECK_FALSE(d->has_value());
  CHECK(stats->op(OpKind::kGet).not_found == 1);
  CHECK(stats->op(OpKind::kHead).not_found == 1);
}

TEST_CASE("DeleteObjects: one POST ?delete with Content-MD5, NoSuchKey errors ignored") {
  auto t = std::make_shared<ScriptedTransport>(std::deque<Outcome>{response(
      200, "<DeleteResult><Error><Key>b</Key><Code>NoSuchKey</Code></Error></DeleteResult>")});
  auto store = make_store(t, nullptr);
  CHECK(store->delete_many({"a", "b"}).ok());
  REQUIRE(t->requests.size() == 1);
  CHECK(t->requests[0].method == "POST");
  CHECK(t->requests[0].url == "http://127.0.0.1:9000/bkt?delete=");
  CHECK(find_header(t->requests[0].headers, "Content-MD5").has_value());
  CHECK(t->requests[0].owned_body.find("<Key>b</Key>") != std::string::npos);
}

// ------------------------------------------------------------------------- integrity (issue 17)

TEST_CASE("every PUT carries x-amz-checksum-crc32c; whole-object GETs ask for the checksum") {
  auto t = std::make_shared<ScriptedTransport>(std::deque<Outcome>{response(200), response(200, "x"),
                                                                    response(206, "x")});
  auto store = make_store(t, nullptr);
  const std::string body = "123456789";
  REQUIRE(store->put("k", reinterpret_cast<const unsigned char*>(body.data()), body.size()).ok());
  CHECK(find_header(t->requests[0].headers, "x-amz-checksum-crc32c") == "4waSgw==");
  REQUIRE(store->get("k").ok());
  CHECK(find_header(t->requests[1].headers, "x-amz-checksum-mode") == "ENABLED");
  REQUIRE(store->get("k", ByteRange{0, 1}).ok());
  CHECK_FALSE(find_header(t->requests[2].headers, "x-amz-checksum-mode").has_value());
}

TEST_CASE("a flipped byte in a GET body is re-fetched, never returned as data") {
  const Headers sum{{"x-amz-checksum-crc32c", "mC8euw=="}};  // CRC32C of "chunk bytes"
  auto t = std::make_shared<ScriptedTransport>(std::deque<Outcome>{
      response(200, "chunk bytfs", sum), response(200, "chunk bytes", sum)});
  auto stats = std::make_shared<Stats>();
  auto store = make_store(t, stats);
  auto r = store->get("c/0");
  REQUIRE(r.ok());
  CHECK(std::string(r.value()->begin(), r.value()->end()) == "chunk bytes");
  CHECK(t->requests.size() == 2);
  CHECK(stats->op(OpKind::kGet).retries == 1);
}

TEST_CASE("a body that keeps failing its checksum is an error naming the object") {
  const Headers sum{{"x-amz-checksum-crc32c", "mC8euw=="}};
  std::deque<Outcome> script(6, Outcome(response(200, "chunk bytfs", sum)));
  auto t = std::make_shared<ScriptedTransport>(script);
  auto store = make_store(t, nullptr);
  auto r = store->get("c/0");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("checksum mismatch") != std::string::npos);
  CHECK(r.status().message().find("s3://bkt/c/0") != std::string::npos);
  CHECK(t->requests.size() == 4);  // max_attempts
  // A composite (multipart) checksum covers parts, not the body: not checked.
  auto t2 = std::make_shared<ScriptedTransport>(std::deque<Outcome>{
      response(200, "whatever", {{"x-amz-checksum-crc32c", "AAAAAA==-3"}})});
  CHECK(make_store(t2, nullptr)->get("m").ok());
}

TEST_CASE("requester pays: every request says so; another region is named from x-amz-bucket-region") {
  auto t = std::make_shared<ScriptedTransport>(std::deque<Outcome>{
      response(200, "x"),
      response(301, "<Error><Code>PermanentRedirect</Code></Error>",
               {{"x-amz-bucket-region", "eu-central-1"}})});
  s3::S3StoreOptions o = testing::loopback_s3_options();
  o.region = "us-east-2";
  o.request_payer = true;
  s3::S3Store store(std::move(o), t, nullptr);
  REQUIRE(store.get("k").ok());
  CHECK(find_header(t->requests[0].headers, "x-amz-request-payer") == "requester");
  // Signed like every other header.
  CHECK(find_header(t->requests[0].headers, "Authorization")->find("x-amz-request-payer") !=
        std::string::npos);
  auto r = store.get("k");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("region 'eu-central-1'") != std::string::npos);
  CHECK(r.status().message().find("AWS_REGION=eu-central-1") != std::string::npos);
}

TEST_CASE("no secret or session token in any failure message") {
  // (outcome, attempts it takes to fail: final ones 1, retried ones max_attempts)
  const std::vector<std::pair<Outcome, int>> script = {
      {response(403, "<Error><Code>SignatureDoesNotMatch</Code></Error>"), 1},
      {response(400, "<Error><Code>InvalidArgument</Code></Error>"), 1},
      {TransportError{"connection refused", TransportFailure::kConnect}, 4},
      {response(200, "chunk bytfs", {{"x-amz-checksum-crc32c", "mC8euw=="}}), 4},
      {response(301, "", {{"x-amz-bucket-region", "eu-west-1"}}), 1},
  };
  std::deque<Outcome> expanded;
  for (const auto& [o, n] : script)
    for (int i = 0; i < n; ++i) expanded.push_back(o);
  auto t = std::make_shared<ScriptedTransport>(expanded);
  s3::S3StoreOptions o = testing::loopback_s3_options();
  o.credentials = s3::static_credentials({"AKIDVISIBLE", "SECRET-KEY-VALUE", "SESSION-TOKEN-VALUE", false});
  o.retry.max_attempts = 4;
  o.retry.initial_backoff_s = 0.001;
  o.retry.max_backoff_s = 0.001;
  s3::S3Store store(std::move(o), t, nullptr);
  for (int i = 0; i < 5; ++i) {
    auto r = store.get("k");
    REQUIRE_FALSE(r.ok());
    const std::string m = r.status().to_string();
    CHECK(m.find("SECRET-KEY-VALUE") == std::string::npos);
    CHECK(m.find("SESSION-TOKEN-VALUE") == std::string::npos);
  }
}
