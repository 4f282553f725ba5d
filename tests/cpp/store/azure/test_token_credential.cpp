// Azure bearer-token credentials (store/azure/token_credential, credential_chain) against a
// scripted transport: token request shapes of each source, response parsing, refresh before
// expiry, error messages without secrets, the chain's choice, and the Blob request's
// "Authorization: Bearer". The real-server counterpart (mock token servers + Azurite over HTTPS)
// is tests/python/test_azure_credentials.py.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "store/azure/fake_transport.hpp"
#include "common/log.hpp"
#include "net/encoding.hpp"
#include "store/azure/azure_store.hpp"
#include "store/azure/credential_chain.hpp"
#include "store/azure/token_credential.hpp"
#include "temp_dir.hpp"

using namespace arraymorph;
using namespace arraymorph::azure;
using namespace arraymorph::azure::fake;
using SysClock = std::chrono::system_clock;

namespace {

constexpr const char* kSecret = "s3cr3t-client-value";
constexpr const char* kToken = "eyJ0eXAiOiJKV1QifQ.tok3n-value.sig";

std::string token_json(long long expires_in, const std::string& token = kToken) {
  return "{\"token_type\":\"Bearer\",\"expires_in\":" + std::to_string(expires_in) +
         ",\"access_token\":\"" + token + "\"}";
}

std::shared_ptr<TokenClient> client_over(std::shared_ptr<FakeTransport> t) {
  RetryPolicy retry;
  retry.initial_backoff_s = 0.001;
  return std::make_shared<TokenClient>(net::TransportOptions{}, retry, std::move(t));
}

// A service principal "c" of tenant "t" with kSecret.
EntraOptions service_principal() {
  EntraOptions o;
  o.tenant_id = "t";
  o.client_id = "c";
  o.client_secret = kSecret;
  return o;
}

std::string form_value(const std::string& body, const std::string& name) {
  const std::string key = name + "=";
  size_t at = body.find(key);
  if (at == std::string::npos) return "";
  if (at != 0 && body[at - 1] != '&') return "";
  at += key.size();
  return net::percent_decode(body.substr(at, body.find('&', at) - at));
}

std::vector<std::string> g_lines;
void capture(const std::string& line) { g_lines.push_back(line); }

}  // namespace

TEST_CASE("parse_token_response: expires_in or expires_on, numbers or strings") {
  const auto now = SysClock::time_point(std::chrono::seconds(1000));
  auto a = parse_token_response(token_json(3600), now);
  REQUIRE(a.ok());
  CHECK(a->value == kToken);
  CHECK(a->expires_on == now + std::chrono::seconds(3600));
  auto b = parse_token_response("{\"access_token\":\"t\",\"expires_in\":\"86399\"}", now);
  REQUIRE(b.ok());
  CHECK(b->expires_on == now + std::chrono::seconds(86399));
  auto c = parse_token_response("{\"access_token\":\"t\",\"expires_on\":\"5000\"}", now);
  REQUIRE(c.ok());
  CHECK(c->expires_on == SysClock::time_point(std::chrono::seconds(5000)));
  auto none = parse_token_response("{\"access_token\":\"t\"}", now);
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().message().find("expires_in") != std::string::npos);
  auto no_token = parse_token_response("{\"expires_in\":5}", now);
  CHECK(no_token.status().message().find("access_token") != std::string::npos);
  CHECK_FALSE(parse_token_response("<html>", now).ok());
  // The body is never quoted: it may hold a token.
  auto bad = parse_token_response("{\"access_token\":\"" + std::string(kToken) + "\",\"expires_in\":\"x\"}", now);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find(kToken) == std::string::npos);
}

TEST_CASE("service principal: the client-credentials form, retried on 5xx, token cached") {
  auto t = std::make_shared<FakeTransport>([](const net::HttpRequest&, size_t i) -> net::Outcome {
    if (i == 0) return response(503, "{}");
    return response(200, token_json(3600));
  });
  EntraOptions o = service_principal();
  o.authority_host = "http://127.0.0.1:9/";
  o.tenant_id = "tenant-1";
  o.client_id = "client-1";
  TokenCache cache(make_entra_source(o, client_over(t)));
  auto tok = cache.token();
  REQUIRE(tok.ok());
  CHECK(tok.value() == kToken);
  CHECK(cache.token().value() == kToken);
  CHECK(cache.fetches() == 1);  // the second call used the cached token
  auto reqs = t->requests();
  REQUIRE(reqs.size() == 2);    // one 503, one success
  CHECK(reqs[1].method == "POST");
  CHECK(reqs[1].url == "http://127.0.0.1:9/tenant-1/oauth2/v2.0/token");
  CHECK(net::find_header(reqs[1].headers, "Content-Type") == "application/x-www-form-urlencoded");
  CHECK(form_value(reqs[1].owned_body, "grant_type") == "client_credentials");
  CHECK(form_value(reqs[1].owned_body, "client_id") == "client-1");
  CHECK(form_value(reqs[1].owned_body, "client_secret") == kSecret);
  CHECK(form_value(reqs[1].owned_body, "scope") == kStorageScope);
}

TEST_CASE("workload identity: the assertion is re-read from the token file on every fetch") {
  arraymorph::testing::TempDir dir;
  const std::string file = (dir.path() / "token").string();
  std::ofstream(file) << "assertion-one\n";
  auto t = std::make_shared<FakeTransport>([](const net::HttpRequest&, size_t) -> net::Outcome {
    return response(200, token_json(1));  // margin = half a second: every call refreshes soon
  });
  EntraOptions o;
  o.tenant_id = "t";
  o.client_id = "c";
  o.federated_token_file = file;
  auto now = SysClock::time_point(std::chrono::seconds(100));
  TokenCache cache(make_entra_source(o, client_over(t)), [&] { return now; });
  REQUIRE(cache.token().ok());
  std::ofstream(file) << "assertion-two";
  now += std::chrono::seconds(2);
  REQUIRE(cache.token().ok());
  auto reqs = t->requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].url == std::string(kDefaultAuthorityHost) + "/t/oauth2/v2.0/token");
  CHECK(form_value(reqs[0].owned_body, "client_assertion") == "assertion-one");
  CHECK(form_value(reqs[1].owned_body, "client_assertion") == "assertion-two");
  CHECK(form_value(reqs[0].owned_body, "client_assertion_type") ==
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  CHECK(form_value(reqs[0].owned_body, "client_secret").empty());

  EntraOptions missing = o;
  missing.federated_token_file = (dir.path() / "absent").string();
  auto err = make_entra_source(missing, client_over(t))->fetch(SysClock::now());
  REQUIRE_FALSE(err.ok());
  CHECK(err.status().message().find("AZURE_FEDERATED_TOKEN_FILE") != std::string::npos);
}

TEST_CASE("managed identity: IMDS and IDENTITY_ENDPOINT request shapes") {
  auto t = std::make_shared<FakeTransport>([](const net::HttpRequest&, size_t) -> net::Outcome {
    return response(200, "{\"access_token\":\"a\",\"expires_in\":\"3600\",\"resource\":\"x\"}");
  });
  ManagedIdentityOptions imds;
  imds.imds_endpoint = "http://127.0.0.1:9";
  imds.client_id = "user-assigned";
  REQUIRE(make_managed_identity_source(imds, client_over(t))->fetch(SysClock::now()).ok());
  ManagedIdentityOptions app;
  app.identity_endpoint = "http://127.0.0.1:8/msi/token";
  app.identity_header = kSecret;
  REQUIRE(make_managed_identity_source(app, client_over(t))->fetch(SysClock::now()).ok());
  auto reqs = t->requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].method == "GET");
  CHECK(reqs[0].url ==
        "http://127.0.0.1:9/metadata/identity/oauth2/token?api-version=2018-02-01&resource="
        "https%3A%2F%2Fstorage.azure.com%2F&client_id=user-assigned");
  CHECK(net::find_header(reqs[0].headers, "Metadata") == "true");
  CHECK(reqs[1].url.rfind("http://127.0.0.1:8/msi/token?api-version=2019-08-01&resource=", 0) == 0);
  CHECK(net::find_header(reqs[1].headers, "X-IDENTITY-HEADER") == kSecret);
}

TEST_CASE("token errors name the source, endpoint and OAuth error, never the secret") {
  auto t = std::make_shared<FakeTransport>([](const net::HttpRequest&, size_t) -> net::Outcome {
    return response(401, "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: "
                         "Invalid client secret provided.\"}");
  });
  TokenCache cache(make_entra_source(service_principal(), client_over(t)));
  auto r = cache.token();
  REQUIRE_FALSE(r.ok());
  const std::string m = r.status().message();
  CHECK(r.status().code() == Code::kPermissionDenied);
  CHECK(m.find("service principal") != std::string::npos);
  CHECK(m.find("HTTP 401") != std::string::npos);
  CHECK(m.find("invalid_client") != std::string::npos);
  CHECK(m.find("/t/oauth2/v2.0/token") != std::string::npos);
  CHECK(m.find(kSecret) == std::string::npos);
  CHECK(t->requests().size() == 1);  // a 401 is not retried
}

TEST_CASE("refresh before expiry: min(5 min, half the lifetime); a failed refresh keeps the old token") {
  int served = 0;
  bool fail = false;
  auto t = std::make_shared<FakeTransport>([&](const net::HttpRequest&, size_t) -> net::Outcome {
    if (fail) return response(400, "{\"error\":\"temporarily_unavailable\"}");
    return response(200, token_json(3600, "token-" + std::to_string(++served)));
  });
  ManagedIdentityOptions o;
  o.imds_endpoint = "http://127.0.0.1:9";
  auto now = SysClock::time_point(std::chrono::hours(1000));
  TokenCache cache(make_managed_identity_source(o, client_over(t)), [&] { return now; });
  CHECK(cache.token().value() == "token-1");
  now += std::chrono::seconds(3600 - 301);  // more than 5 minutes left: cached
  CHECK(cache.token().value() == "token-1");
  now += std::chrono::seconds(2);           // less than 5 minutes left: refreshed
  CHECK(cache.token().value() == "token-2");
  CHECK(cache.fetches() == 2);
  fail = true;
  now += std::chrono::seconds(3600 - 200);  // refresh due, the source fails, token-2 still valid
  CHECK(cache.token().value() == "token-2");
  now += std::chrono::seconds(300);         // expired and no new token: an error
  CHECK_FALSE(cache.token().ok());
}

TEST_CASE("choose_credential: auto order and errors naming the variables") {
  net::TransportOptions topts;
  RetryPolicy retry;
  AzureConfig c;
  CHECK(choose_credential(c, topts, retry).status().message().find("AZURE_STORAGE_ACCOUNT") !=
        std::string::npos);
  c.account = "acct";
  auto none = choose_credential(c, topts, retry);
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().message().find("AZURE_CLIENT_SECRET") != std::string::npos);
  c.imds_endpoint = "http://127.0.0.1:9";
  CHECK(choose_credential(c, topts, retry)->kind == "managed_identity");
  CHECK(choose_credential(c, topts, retry)->endpoint.blob_endpoint == "https://acct.blob.core.windows.net");
  c.tenant_id = "t";
  c.client_id = "i";
  c.federated_token_file = "/f";
  CHECK(choose_credential(c, topts, retry)->kind == "workload_identity");
  c.client_secret = kSecret;
  CHECK(choose_credential(c, topts, retry)->kind == "client_secret");
  c.sas_token = "?sv=1&sig=x";
  auto sas = choose_credential(c, topts, retry);
  CHECK(sas->kind == "sas");
  CHECK(sas->sas_token == "sv=1&sig=x");
  c.connection_string = "UseDevelopmentStorage=true";
  auto key = choose_credential(c, topts, retry);
  CHECK(key->kind == "shared_key");
  CHECK(key->endpoint.account_key.empty());  // the secret travels only in decoded_key
  CHECK_FALSE(key->decoded_key.empty());
  c.credential = "managed_identity";  // explicit wins over the order
  CHECK(choose_credential(c, topts, retry)->kind == "managed_identity");
  AzureConfig mi;
  mi.account = "acct";
  mi.credential = "managed_identity";
  mi.identity_endpoint = "http://127.0.0.1:9/token";
  CHECK(choose_credential(mi, topts, retry).status().message().find("IDENTITY_HEADER") != std::string::npos);
  AzureConfig sp;
  sp.account = "acct";
  sp.credential = "client_secret";
  sp.client_secret = kSecret;
  auto e = choose_credential(sp, topts, retry);
  CHECK(e.status().message().find("AZURE_TENANT_ID") != std::string::npos);
  CHECK(e.status().message().find(kSecret) == std::string::npos);
}

TEST_CASE("the store sends Authorization: Bearer with x-ms-version >= 2017-11-09; no token in logs") {
  auto tokens_t = std::make_shared<FakeTransport>([](const net::HttpRequest&, size_t) -> net::Outcome {
    return response(200, token_json(3600));
  });
  auto blob_t = std::make_shared<FakeTransport>([](const net::HttpRequest&, size_t) -> net::Outcome {
    return response(200, "data", {{"Content-Length", "4"}});
  });
  const EntraOptions eo = service_principal();
  AzureStoreOptions o;
  o.target.endpoint = "https://127.0.0.1:9/devstoreaccount1";
  o.target.account = "devstoreaccount1";
  o.target.container = "data";
  o.tokens = std::make_shared<TokenCache>(make_entra_source(eo, client_over(tokens_t)));
  const log::Level before = log::level();
  log::set_level(log::Level::kDebug);
  log::set_sink_for_testing(&capture);
  g_lines.clear();
  AzureStore store(o, blob_t, nullptr);
  auto r = store.get("k");
  log::set_sink_for_testing(nullptr);
  log::set_level(before);
  REQUIRE(r.ok());
  auto reqs = blob_t->requests();
  REQUIRE(reqs.size() == 1);
  CHECK(net::find_header(reqs[0].headers, "Authorization") == "Bearer " + std::string(kToken));
  CHECK(net::find_header(reqs[0].headers, "x-ms-version").value_or("") >= "2017-11-09");
  CHECK(reqs[0].url.find("sig=") == std::string::npos);
  REQUIRE_FALSE(g_lines.empty());  // the token fetch is logged at debug ...
  for (const std::string& line : g_lines) {  // ... without the token or the secret
    CHECK(line.find(kToken) == std::string::npos);
    CHECK(line.find(kSecret) == std::string::npos);
  }
  CHECK(log::redact("Authorization: Bearer abc.def") == "Authorization: REDACTED");
  CHECK(log::redact("grant_type=client_credentials&client_secret=xyz&scope=s") ==
        "grant_type=client_credentials&client_secret=REDACTED&scope=s");
  CHECK(log::redact("token Bearer abc.def here") == "token Bearer REDACTED here");
}

TEST_CASE("a failing token source fails the Blob operation naming the source") {
  auto tokens_t = std::make_shared<FakeTransport>([](const net::HttpRequest&, size_t) -> net::Outcome {
    return response(400, "{\"error\":\"invalid_request\",\"error_description\":\"Identity not found\"}");
  });
  auto blob_t = std::make_shared<FakeTransport>([](const net::HttpRequest&, size_t) -> net::Outcome {
    return response(200, "data");
  });
  ManagedIdentityOptions mo;
  mo.imds_endpoint = "http://127.0.0.1:9";
  AzureStoreOptions o;
  o.target.endpoint = "https://127.0.0.1:9/devstoreaccount1";
  o.target.account = "devstoreaccount1";
  o.target.container = "data";
  o.tokens = std::make_shared<TokenCache>(make_managed_identity_source(mo, client_over(tokens_t)));
  AzureStore store(o, blob_t, nullptr);
  auto r = store.get("k");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("managed identity") != std::string::npos);
  CHECK(r.status().message().find("Identity not found") != std::string::npos);
  CHECK(r.status().message().find("Get Blob of 'k'") != std::string::npos);
  CHECK(blob_t->requests().empty());  // nothing unauthorised was sent
}
