// test_store_identity.cpp -- the store cache (vol/connector_state) is keyed by StoreIdentity
// (store/store_factory): exactly the fields a store is built from. A later configure() changing
// any of them (CA bundle, timeouts, multipart/block sizes, backoff, ...) gets a new store instead
// of silently reusing the stale one; a change the store does not use keeps sharing it.
#include <doctest/doctest.h>

#include <functional>
#include <vector>

#include "vol/connector_state.hpp"
#include "env_guard.hpp"
#include "store/store_factory.hpp"

using namespace arraymorph;

namespace {

StoreLocation location(Platform p, std::string root) {
  StoreLocation loc;
  loc.platform = p;
  loc.root = std::move(root);
  return loc;
}

Config s3_config() {
  Config c;
  c.platform = Platform::kS3;
  c.s3.endpoint = "http://127.0.0.1:1";
  c.s3.use_tls = false;
  c.s3.access_key = "AKID";
  c.s3.secret_key = "SECRET";
  return c;
}

// Every setting an S3 store is built from, each changed on its own.
std::vector<std::pair<const char*, std::function<void(Config&)>>> s3_changes() {
  return {
      {"ca_bundle", [](Config& c) { c.s3.ca_bundle = "/etc/other.pem"; }},
      {"request_timeout_s", [](Config& c) { c.request_timeout_s = 7; }},
      {"connect_timeout_s", [](Config& c) { c.connect_timeout_s = 3; }},
      {"multipart_threshold", [](Config& c) { c.s3.multipart_threshold = 8 << 20; }},
      {"multipart_part_size", [](Config& c) { c.s3.multipart_part_size = 6 << 20; }},
      {"retry.initial_backoff_s", [](Config& c) { c.retry.initial_backoff_s = 0.5; }},
      {"retry.max_backoff_s", [](Config& c) { c.retry.max_backoff_s = 1; }},
      {"retry.jitter", [](Config& c) { c.retry.jitter = 0.1; }},
      {"retry.total_timeout_s", [](Config& c) { c.retry.total_timeout_s = 10; }},
      {"retry.max_attempts", [](Config& c) { c.retry.max_attempts = 2; }},
      {"region", [](Config& c) { c.s3.region = "eu-west-1"; }},
      {"endpoint", [](Config& c) { c.s3.endpoint = "http://127.0.0.1:2"; }},
      {"secret_key", [](Config& c) { c.s3.secret_key = "OTHER"; }},
      {"session_token", [](Config& c) { c.s3.session_token = "TOKEN"; }},
      {"signed_payloads", [](Config& c) { c.s3.signed_payloads = true; }},
      {"virtual_addressing", [](Config& c) { c.s3.virtual_addressing = true; }},
      {"request_payer", [](Config& c) { c.s3.request_payer = true; }},
      {"max_inflight", [](Config& c) { c.max_inflight = 3; }},
      {"event_loops", [](Config& c) { c.event_loops = 1; }},
  };
}

}  // namespace

TEST_CASE("every field an S3 store uses is part of its identity") {
  const StoreLocation loc = location(Platform::kS3, "bkt");
  const std::string base = store_identity(loc, s3_config()).cache_key();
  for (const auto& named : s3_changes()) {  // no structured binding: CHECK_MESSAGE captures it (clang 14)
    const auto& name = named.first;
    Config c = s3_config();
    named.second(c);
    CHECK_MESSAGE(store_identity(loc, c).cache_key() != base, name);
  }
  // Settings the store does not read leave the identity alone.
  Config c = s3_config();
  c.threads = 3;
  c.cache_bytes = 1;
  c.azure.block_size = 1 << 20;
  c.s3.bucket = "ignored-the-root-is-the-bucket";
  CHECK(store_identity(loc, c).cache_key() == base);
}

TEST_CASE("the identity's config() carries exactly its fields to the factory") {
  Config c = s3_config();
  c.s3.ca_bundle = "/x.pem";
  c.retry.total_timeout_s = 9;
  c.cache_bytes = 5;
  const Config built = store_identity(location(Platform::kS3, "b"), c).config();
  CHECK(built.s3.ca_bundle == "/x.pem");
  CHECK(built.retry.total_timeout_s == 9);
  CHECK(built.cache_bytes == Config().cache_bytes);  // not a store setting
}

#if ARRAYMORPH_WITH_S3
TEST_CASE("without configured keys, the AWS_* variables the credential chain reads are identity") {
  testing::EnvGuard env;
  const StoreLocation loc = location(Platform::kS3, "bkt");
  Config chain = s3_config();
  chain.s3.access_key.clear();
  chain.s3.secret_key.clear();
  env.set("AWS_PROFILE", "first");
  const std::string first = store_identity(loc, chain).cache_key();
  const std::string keyed = store_identity(loc, s3_config()).cache_key();
  env.set("AWS_PROFILE", "second");
  // A file opened after AWS_PROFILE changed must not reuse the store holding the first chain.
  CHECK(store_identity(loc, chain).cache_key() != first);
  // Configured keys take precedence over the chain: its variables do not matter then.
  CHECK(store_identity(loc, s3_config()).cache_key() == keyed);
}

TEST_CASE("a later configure() changing a store setting gets a new store, not the stale one") {
  ConnectorState& state = ConnectorState::instance();
  const StoreLocation loc = location(Platform::kS3, "identity-bucket");
  auto first = state.store(loc, s3_config());
  REQUIRE(first.ok());
  auto again = state.store(loc, s3_config());
  REQUIRE(again.ok());
  CHECK(static_cast<bool>(again.value() == first.value()));  // same settings: shared
  for (const auto& named : s3_changes()) {  // no structured binding: CHECK_MESSAGE captures it (clang 14)
    const auto& name = named.first;
    Config c = s3_config();
    named.second(c);
    auto other = state.store(loc, c);
    REQUIRE(other.ok());
    CHECK_MESSAGE(static_cast<bool>(other.value() != first.value()), name);
  }
}
#endif

#if ARRAYMORPH_WITH_AZURE
TEST_CASE("Azure block sizes, SAS and timeouts are part of the identity") {
  Config c;
  c.platform = Platform::kAzure;
  c.azure.connection_string = "UseDevelopmentStorage=true";
  const StoreLocation loc = location(Platform::kAzure, "ctr");
  ConnectorState& state = ConnectorState::instance();
  auto first = state.store(loc, c);
  REQUIRE(first.ok());
  for (auto change : std::vector<std::function<void(Config&)>>{
           [](Config& x) { x.azure.block_size = 4 << 20; },
           [](Config& x) { x.azure.block_threshold = 8 << 20; },
           [](Config& x) { x.azure.sas_token = "sv=2020&sig=abc"; },
           [](Config& x) { x.azure.ca_bundle = "/etc/ssl/other.pem"; },
           [](Config& x) { x.azure.client_id = "user-assigned"; },
           [](Config& x) { x.request_timeout_s = 5; }}) {
    Config d = c;
    change(d);
    auto other = state.store(loc, d);
    REQUIRE(other.ok());
    CHECK(static_cast<bool>(other.value() != first.value()));
  }
}
#endif
