// AzureStore (src/store/azure/azure_store) against a scripted fake transport that records every
// request: request shapes, signing, error mapping, retries with re-signing, block uploads,
// batches and statistics. The real-server counterpart is tests/python/test_azure_store.py.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <set>

#include "store/azure/azure_store.hpp"
#include "store/azure/connection_string.hpp"
#include "net/encoding.hpp"
#include "store/azure/fake_transport.hpp"

using namespace arraymorph;
using namespace arraymorph::azure;
using arraymorph::net::base64_decode;
using namespace arraymorph::azure::fake;

namespace {

AzureStoreOptions options() {
  AzureStoreOptions o;
  o.target.endpoint = "http://127.0.0.1:10000/devstoreaccount1";
  o.target.account = kDevStoreAccount;
  o.target.container = "data";
  o.decoded_key = *base64_decode(kDevStoreKey);
  o.retry.initial_backoff_s = 0.001;
  o.retry.max_backoff_s = 0.002;
  o.retry.max_attempts = 4;
  return o;
}

struct Fixture {
  explicit Fixture(FakeTransport::Script script, AzureStoreOptions o = options())
      : transport(std::make_shared<FakeTransport>(std::move(script))),
        stats(std::make_shared<Stats>()),
        store(std::move(o), transport, stats) {}
  std::shared_ptr<FakeTransport> transport;
  std::shared_ptr<Stats> stats;
  AzureStore store;
};

std::string text(const Bytes& b) { return std::string(b.begin(), b.end()); }

}  // namespace

TEST_CASE("get: signed ranged GET of the encoded key") {
  Fixture f([](const net::HttpRequest&, size_t) { return response(206, "abc"); });
  auto r = f.store.get("f.h5/a b/c/0", ByteRange{10, 3});
  REQUIRE(r.ok());
  REQUIRE(r.value().has_value());
  CHECK(text(*r.value()) == "abc");
  auto reqs = f.transport->requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].method == "GET");
  CHECK(reqs[0].url == "http://127.0.0.1:10000/devstoreaccount1/data/f.h5/a%20b/c/0");
  CHECK(net::find_header(reqs[0].headers, "x-ms-range").value() == "bytes=10-12");
  CHECK(net::find_header(reqs[0].headers, "x-ms-version").value() == kApiVersion);
  CHECK(net::find_header(reqs[0].headers, "Authorization").value().rfind(
            "SharedKey devstoreaccount1:", 0) == 0);
  CHECK(f.stats->op(OpKind::kGet).requests == 1);
  CHECK(f.stats->op(OpKind::kGet).bytes == 3);
  CHECK(f.store.describe() == "az://devstoreaccount1/data");
}

TEST_CASE("BlobNotFound is a missing object (fill value), never an error") {
  Fixture f([](const net::HttpRequest&, size_t) { return azure_error(404, "BlobNotFound"); });
  auto g = f.store.get("k");
  REQUIRE(g.ok());
  CHECK_FALSE(g.value().has_value());
  auto h = f.store.head("k");
  REQUIRE(h.ok());
  CHECK_FALSE(h.value().has_value());
  CHECK(f.store.delete_many({"k"}).ok());
  CHECK(f.stats->op(OpKind::kGet).not_found == 1);
  CHECK(f.stats->op(OpKind::kHead).not_found == 1);
  CHECK(f.stats->op(OpKind::kGet).errors == 0);
  // HEAD responses have no body: a bare 404 also means "missing blob".
  Fixture bare([](const net::HttpRequest&, size_t) { return response(404); });
  auto h2 = bare.store.head("k");
  REQUIRE(h2.ok());
  CHECK_FALSE(h2.value().has_value());
}

TEST_CASE("head reads size and etag") {
  Fixture f([](const net::HttpRequest&, size_t) {
    return response(200, "", {{"Content-Length", "4096"}, {"ETag", "\"0x1\""}});
  });
  auto h = f.store.head("k");
  REQUIRE(h.ok());
  REQUIRE(h.value().has_value());
  CHECK(h.value()->size == 4096);
  CHECK(h.value()->etag == "\"0x1\"");
  CHECK(f.transport->requests()[0].method == "HEAD");
}

TEST_CASE("ContainerNotFound names the container; 403 names account and container") {
  Fixture nc([](const net::HttpRequest&, size_t) { return azure_error(404, "ContainerNotFound"); });
  auto g = nc.store.get("k");
  REQUIRE_FALSE(g.ok());
  CHECK(g.status().code() == Code::kNotFound);
  CHECK(g.status().message().find("container 'data'") != std::string::npos);
  auto h = nc.store.head("k");
  REQUIRE_FALSE(h.ok());
  CHECK(h.status().code() == Code::kNotFound);
  CHECK(nc.stats->op(OpKind::kGet).errors == 1);

  Fixture denied([](const net::HttpRequest&, size_t) {
    return azure_error(403, "AuthenticationFailed");
  });
  Status s = denied.store.put("k", reinterpret_cast<const unsigned char*>("x"), 1);
  CHECK(s.code() == Code::kPermissionDenied);
  CHECK_FALSE(s.retryable());
  CHECK(s.message().find("devstoreaccount1") != std::string::npos);
  CHECK(s.message().find("'data'") != std::string::npos);
  CHECK(s.message().find("clock") != std::string::npos);
  CHECK(s.message().find("AuthenticationFailed") != std::string::npos);
  CHECK(s.message().find(kDevStoreKey) == std::string::npos);
  CHECK(denied.transport->requests().size() == 1);  // 403 is final
}

TEST_CASE("503 and resets are retried, re-signed, and counted") {
  Fixture f([](const net::HttpRequest&, size_t i) -> net::Outcome {
    if (i == 0) return azure_error(503, "ServerBusy");
    if (i == 1) return net::TransportError{"connection reset by 127.0.0.1:10000", net::TransportFailure::kBroken};
    return response(200, "ok");
  });
  auto r = f.store.get("k");
  REQUIRE(r.ok());
  CHECK(text(*r.value()) == "ok");
  auto reqs = f.transport->requests();
  REQUIRE(reqs.size() == 3);
  for (const auto& q : reqs) CHECK(net::find_header(q.headers, "Authorization").has_value());
  for (const auto& q : reqs) CHECK(std::count_if(q.headers.begin(), q.headers.end(), [](auto& h) {
                                     return h.first == "x-ms-date";
                                   }) == 1);
  CHECK(f.stats->op(OpKind::kGet).requests == 3);
  CHECK(f.stats->op(OpKind::kGet).retries == 2);
  CHECK(f.stats->op(OpKind::kGet).errors == 0);
}

TEST_CASE("backoff waits happen on the retry timer, never inside the transport's handler") {
  AzureStoreOptions o = options();
  o.retry.initial_backoff_s = 0.3;
  o.retry.max_backoff_s = 0.3;
  o.retry.jitter = 0;
  Fixture f([](const net::HttpRequest&, size_t i) {
    return i == 0 ? azure_error(503, "ServerBusy") : response(200, "late");
  }, o);
  const auto start = std::chrono::steady_clock::now();
  auto r = f.store.get("k");
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(r.ok());
  CHECK(text(*r.value()) == "late");
  CHECK(took >= 0.29);                          // the backoff was honoured...
  CHECK(f.transport->longest_handler_s() < 0.1);  // ...but not on the transport's thread
}

TEST_CASE("persistent 500 gives up after max_attempts with a retryable kUnavailable") {
  Fixture f([](const net::HttpRequest&, size_t) { return azure_error(500, "InternalError"); });
  auto r = f.store.get("k");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kUnavailable);
  CHECK(r.status().retryable());
  CHECK(r.status().message().find("HTTP 500") != std::string::npos);
  CHECK(f.transport->requests().size() == 4);
  CHECK(f.stats->op(OpKind::kGet).retries == 3);
  CHECK(f.stats->op(OpKind::kGet).errors == 1);
}

TEST_CASE("small put is one Put Blob; large put is Put Block x n + Put Block List") {
  AzureStoreOptions o = options();
  o.block_threshold = 10;
  o.block_size = 4;
  Fixture f([](const net::HttpRequest&, size_t) { return response(201); }, o);
  const std::string small = "0123456789";
  REQUIRE(f.store.put("s", reinterpret_cast<const unsigned char*>(small.data()), small.size()).ok());
  const std::string big = "abcdefghijk";  // 11 bytes: blocks of 4, 4, 3
  REQUIRE(f.store.put("b", reinterpret_cast<const unsigned char*>(big.data()), big.size()).ok());
  auto reqs = f.transport->requests();
  REQUIRE(reqs.size() == 5);
  CHECK(reqs[0].url == "http://127.0.0.1:10000/devstoreaccount1/data/s");
  CHECK(net::find_header(reqs[0].headers, "x-ms-blob-type").value() == "BlockBlob");
  CHECK(reqs[0].body_length() == 10);
  std::string joined;
  std::set<std::string> ids;
  for (size_t i = 1; i <= 3; ++i) {
    CHECK(reqs[i].url.find("/data/b?comp=block&blockid=") != std::string::npos);
    joined.append(reinterpret_cast<const char*>(reqs[i].body_data()), reqs[i].body_length());
    ids.insert(reqs[i].url.substr(reqs[i].url.find("blockid=") + 8));
  }
  CHECK(joined == big);
  CHECK(ids.size() == 3);
  CHECK(reqs[4].url == "http://127.0.0.1:10000/devstoreaccount1/data/b?comp=blocklist");
  CHECK(reqs[4].owned_body.find("<Latest>" + block_id(0) + "</Latest><Latest>" + block_id(1) +
                                "</Latest><Latest>" + block_id(2) + "</Latest>") !=
        std::string::npos);
  CHECK(block_id(0).size() == block_id(123456).size());
  CHECK(f.stats->op(OpKind::kPut).bytes == 21);
}

TEST_CASE("a failed block fails the put without committing") {
  AzureStoreOptions o = options();
  o.block_threshold = 2;
  o.block_size = 2;
  Fixture f([](const net::HttpRequest& r, size_t) {
    return r.url.find("blockid") != std::string::npos && r.body_data()[0] == 'c'
               ? azure_error(400, "InvalidBlobOrBlock")
               : response(201);
  }, o);
  const std::string big = "aabbcc";
  Status s = f.store.put("b", reinterpret_cast<const unsigned char*>(big.data()), big.size());
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(s.message().find("Put Block of 'b'") != std::string::npos);
  for (const auto& q : f.transport->requests()) CHECK(q.url.find("blocklist") == std::string::npos);
}

TEST_CASE("list: query parameters and the parsed page") {
  Fixture f([](const net::HttpRequest&, size_t) {
    return response(200,
                    "<EnumerationResults><Blobs><Blob><Name>p/a</Name><Properties><Content-Length>"
                    "3</Content-Length></Properties></Blob><BlobPrefix><Name>p/d/</Name>"
                    "</BlobPrefix></Blobs><NextMarker>M2</NextMarker></EnumerationResults>");
  });
  auto page = f.store.list("p/", "/", "M1", 2);
  REQUIRE(page.ok());
  CHECK(f.transport->requests()[0].url ==
        "http://127.0.0.1:10000/devstoreaccount1/data?restype=container&comp=list&prefix=p%2F"
        "&delimiter=%2F&marker=M1&maxresults=2");
  REQUIRE(page->objects.size() == 1);
  CHECK(page->objects[0].key == "p/a");
  CHECK(page->objects[0].size == 3);
  CHECK(page->common_prefixes == std::vector<std::string>{"p/d/"});
  CHECK(page->next_token == "M2");
}

TEST_CASE("get_many issues everything and calls back exactly once per request") {
  Fixture f([](const net::HttpRequest& r, size_t) {
    if (r.url.find("missing") != std::string::npos) return azure_error(404, "BlobNotFound");
    return response(200, r.url.substr(r.url.rfind('/') + 1));
  });
  std::vector<GetRequest> reqs;
  for (int i = 0; i < 1200; ++i)
    reqs.push_back({i % 100 == 7 ? "missing" : "c/" + std::to_string(i), std::nullopt});
  std::vector<int> calls(reqs.size(), 0);
  std::atomic<int> found{0}, absent{0};
  f.store.get_many(reqs, [&](size_t i, Result<std::optional<Bytes>>&& r) {
    ++calls[i];
    REQUIRE(r.ok());
    if (r.value()) {
      CHECK(text(*r.value()) == std::to_string(i));
      ++found;
    } else {
      ++absent;
    }
  });
  CHECK(std::all_of(calls.begin(), calls.end(), [](int c) { return c == 1; }));
  CHECK(absent == 12);
  CHECK(found == 1188);
  CHECK(f.stats->op(OpKind::kGet).requests == 1200);
}

TEST_CASE("put_many and delete_many report per-request outcomes") {
  Fixture f([](const net::HttpRequest& r, size_t) {
    return r.url.find("bad") != std::string::npos ? azure_error(409, "LeaseIdMissing")
                                                   : response(r.method == "PUT" ? 201 : 202);
  });
  const std::string d = "xyz";
  auto p = reinterpret_cast<const unsigned char*>(d.data());
  std::vector<PutRequest> puts = {{"a", p, 3}, {"bad", p, 3}, {"c", p, 3}};
  std::vector<Code> codes(3, Code::kInternal);
  f.store.put_many(puts, [&](size_t i, Status&& s) { codes[i] = s.code(); });
  CHECK(codes == std::vector<Code>{Code::kOk, Code::kAlreadyExists, Code::kOk});
  CHECK(f.store.delete_many({"a", "c"}).ok());
  CHECK(f.store.delete_many({"a", "bad"}).code() == Code::kAlreadyExists);
}

TEST_CASE("SAS authorisation appends the token and sends no Authorization header") {
  AzureStoreOptions o = options();
  o.decoded_key.clear();
  o.sas_token = "sv=2021-08-06&sp=rwdl&sig=abc%3D";
  Fixture f([](const net::HttpRequest&, size_t) { return response(200, "x"); }, o);
  REQUIRE(f.store.get("k").ok());
  REQUIRE(f.store.list("", "").ok() == false);  // "x" is not a listing: a clean parse error
  auto reqs = f.transport->requests();
  CHECK(reqs[0].url == "http://127.0.0.1:10000/devstoreaccount1/data/k?sv=2021-08-06&sp=rwdl&sig=abc%3D");
  CHECK_FALSE(net::find_header(reqs[0].headers, "Authorization").has_value());
  CHECK(reqs[1].url.find("comp=list&maxresults=1000&sv=2021-08-06") != std::string::npos);
}

TEST_CASE("416 for a range past the end is an empty read") {
  Fixture f([](const net::HttpRequest&, size_t) { return azure_error(416, "InvalidRange"); });
  auto r = f.store.get("k", ByteRange{100, 5});
  REQUIRE(r.ok());
  REQUIRE(r.value().has_value());
  CHECK(r.value()->empty());
}

TEST_CASE("make_azure_store: configuration errors name the setting, not the secret") {
  Config c;
  c.azure.connection_string = "UseDevelopmentStorage=true";
  auto none = make_azure_store(c, "", nullptr);
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().message().find("BUCKET_NAME") != std::string::npos);
  Config empty;
  auto no_cs = make_azure_store(empty, "data", nullptr);
  REQUIRE_FALSE(no_cs.ok());
  CHECK(no_cs.status().message().find("AZURE_STORAGE_CONNECTION_STRING") != std::string::npos);
  Config no_creds;
  no_creds.azure.connection_string = "BlobEndpoint=https://a.blob.core.windows.net";
  auto nc = make_azure_store(no_creds, "data", nullptr);
  REQUIRE_FALSE(nc.ok());
  CHECK(nc.status().message().find("AZURE_STORAGE_SAS_TOKEN") != std::string::npos);
  auto ok = make_azure_store(c, "data", nullptr);
  REQUIRE(ok.ok());
  CHECK(ok.value()->describe() == "az://devstoreaccount1/data");
  Config sas;
  sas.azure.connection_string = "BlobEndpoint=https://acct.blob.core.windows.net/";
  sas.azure.sas_token = "?sv=2021-08-06&sig=x";
  auto s = make_azure_store(sas, "data", nullptr);
  REQUIRE(s.ok());
  CHECK(s.value()->describe() == "az://acct/data");
}

// ------------------------------------------------------------------------- integrity (issue 17)

TEST_CASE("Put Blob carries Content-MD5; a whole-blob GET is checked against it") {
  std::atomic<int> gets{0};
  Fixture f([&](const net::HttpRequest& r, size_t) {
    if (r.method == "PUT") return response(201);
    // The first GET's body has a flipped byte; the re-fetch is right.
    const bool first = gets.fetch_add(1) == 0;
    return response(200, first ? "chunk bytfs" : "chunk bytes",
                    {{"Content-MD5", "BijrHqDkvvmhb1Fy4JLhFg=="}});
  });
  const std::string body = "123456789";
  REQUIRE(f.store.put("k", reinterpret_cast<const unsigned char*>(body.data()), body.size()).ok());
  CHECK(net::find_header(f.transport->requests()[0].headers, "Content-MD5") ==
        "JfnnlDI7RTiF9RgfG2JNCw==");
  auto r = f.store.get("c/0");
  REQUIRE(r.ok());
  CHECK(text(*r.value()) == "chunk bytes");
  CHECK(gets.load() == 2);
}

TEST_CASE("a blob that keeps failing its Content-MD5 is an error naming it") {
  Fixture f([](const net::HttpRequest&, size_t) {
    return response(200, "chunk bytfs", {{"Content-MD5", "BijrHqDkvvmhb1Fy4JLhFg=="}});
  });
  auto r = f.store.get("c/0");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("checksum mismatch") != std::string::npos);
  CHECK(r.status().message().find("'c/0'") != std::string::npos);
}

TEST_CASE("no SAS signature in any failure message") {
  AzureStoreOptions o = options();
  o.decoded_key.clear();
  o.sas_token = "sv=2021-08-06&sp=rwdl&sig=SECRETSIGNATURE";
  std::atomic<int> n{0};
  Fixture f([&](const net::HttpRequest&, size_t) -> net::Outcome {
    switch (n.fetch_add(1) % 4) {
      case 0: return azure_error(403, "AuthenticationFailed");
      case 1: return net::TransportError{"connection refused", net::TransportFailure::kFatal};
      case 2: return azure_error(404, "ContainerNotFound");
      default: return response(200, "chunk bytfs", {{"Content-MD5", "BijrHqDkvvmhb1Fy4JLhFg=="}});
    }
  }, o);
  for (int i = 0; i < 3; ++i) {
    auto r = f.store.get("k");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().to_string().find("SECRETSIGNATURE") == std::string::npos);
  }
}
