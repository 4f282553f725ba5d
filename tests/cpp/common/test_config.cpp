// Config::from_env / apply: every variable, every error message, and precedence.
#include <doctest/doctest.h>

#include "common/config.hpp"
#include "env_guard.hpp"

using namespace arraymorph;
using arraymorph::testing::EnvGuard;

namespace {

Config env_config() {
  Result<Config> c = Config::from_env();
  REQUIRE_MESSAGE(c.ok(), c.status().to_string());
  return c.value();
}

std::string env_error(const char* name, const std::string& value) {
  EnvGuard env;
  env.set(name, value);
  Result<Config> c = Config::from_env();
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Code::kInvalidArgument);
  return c.status().message();
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("defaults with an empty environment") {
  EnvGuard env;
  Config c = env_config();
  CHECK(c.platform == Platform::kLocal);
  CHECK_FALSE(c.platform_explicit);
  CHECK(c.local.root.empty());
  CHECK(c.threads == 0);
  CHECK(c.effective_threads() >= 1);
  CHECK(c.max_inflight == 64);
  CHECK(c.cache_bytes == (256ull << 20));
  CHECK(c.s3.region == "us-east-2");
  CHECK(c.log_level == "warning");
}

TEST_CASE("BUCKET_NAME alone selects S3, the published default") {
  EnvGuard env;
  env.set("BUCKET_NAME", "mybucket");
  Config c = env_config();
  CHECK(c.platform == Platform::kS3);
  CHECK_FALSE(c.platform_explicit);
  CHECK(c.s3.bucket == "mybucket");
  CHECK(c.azure.container == "mybucket");
}

TEST_CASE("STORAGE_PLATFORM is case-insensitive") {
  const std::pair<const char*, Platform> cases[] = {{"s3", Platform::kS3},
                                                     {"AZURE", Platform::kAzure},
                                                     {"Azure", Platform::kAzure},
                                                     {"local", Platform::kLocal},
                                                     {"Memory", Platform::kMemory}};
  for (const auto& [text, platform] : cases) {
    EnvGuard env;
    env.set("STORAGE_PLATFORM", text);
    Config c = env_config();
    CHECK(c.platform == platform);
    CHECK(c.platform_explicit);
  }
  CHECK(std::string(platform_name(Platform::kAzure)) == "Azure");
}

TEST_CASE("unknown STORAGE_PLATFORM names the variable and the allowed values") {
  const std::string m = env_error("STORAGE_PLATFORM", "GCS");
  CHECK(contains(m, "STORAGE_PLATFORM"));
  CHECK(contains(m, "'GCS'"));
  CHECK(contains(m, "S3, Azure, Local, Memory"));
}

TEST_CASE("every S3 variable") {
  EnvGuard env;
  env.set("STORAGE_PLATFORM", "S3");
  env.set("BUCKET_NAME", "b");
  env.set("AWS_ACCESS_KEY_ID", "AKID");
  env.set("AWS_SECRET_ACCESS_KEY", "SECRET");
  env.set("AWS_SESSION_TOKEN", "TOKEN");
  env.set("AWS_REGION", "eu-west-1");
  env.set("AWS_DEFAULT_REGION", "ignored-1");
  env.set("AWS_ENDPOINT_URL_S3", "https://s3.example:9000");
  env.set("AWS_ENDPOINT_URL", "http://ignored:1");
  env.set("AWS_S3_ADDRESSING_STYLE", "Virtual");
  env.set("AWS_SIGNED_PAYLOADS", "yes");
  env.set("AWS_NO_SIGN_REQUEST", "1");
  env.set("AWS_CA_BUNDLE", "/etc/ca.pem");
  Config c = env_config();
  CHECK(c.s3.bucket == "b");
  CHECK(c.s3.access_key == "AKID");
  CHECK(c.s3.secret_key == "SECRET");
  CHECK(c.s3.session_token == "TOKEN");
  CHECK(c.s3.region == "eu-west-1");
  CHECK(c.s3.endpoint == "https://s3.example:9000");
  CHECK(c.s3.use_tls);
  CHECK(c.s3.virtual_addressing);
  CHECK(c.s3.signed_payloads);
  CHECK(c.s3.anonymous);
  CHECK(c.s3.ca_bundle == "/etc/ca.pem");
}

TEST_CASE("AWS fallbacks: AWS_DEFAULT_REGION and AWS_ENDPOINT_URL") {
  EnvGuard env;
  env.set("AWS_DEFAULT_REGION", "ap-south-1");
  env.set("AWS_ENDPOINT_URL", "http://127.0.0.1:8333");
  Config c = env_config();
  CHECK(c.s3.region == "ap-south-1");
  CHECK(c.s3.endpoint == "http://127.0.0.1:8333");
  // An http:// endpoint means no TLS unless AWS_USE_TLS says otherwise.
  CHECK_FALSE(c.s3.use_tls);
  env.set("AWS_USE_TLS", "true");
  CHECK(env_config().s3.use_tls);
  env.set("AWS_USE_TLS", "off");
  env.set("AWS_ENDPOINT_URL", "localhost:8333");
  CHECK_FALSE(env_config().s3.use_tls);
}

TEST_CASE("addressing style path|virtual, anything else names the variable") {
  {
    EnvGuard env;
    env.set("AWS_S3_ADDRESSING_STYLE", "path");
    CHECK_FALSE(env_config().s3.virtual_addressing);
  }
  const std::string m = env_error("AWS_S3_ADDRESSING_STYLE", "sideways");
  CHECK(contains(m, "AWS_S3_ADDRESSING_STYLE"));
  CHECK(contains(m, "sideways"));
  CHECK(contains(m, "path or virtual"));
}

TEST_CASE("booleans") {
  for (const char* t : {"1", "true", "TRUE", "yes", "on", " On "}) {
    Result<bool> b = parse_bool("X", t);
    REQUIRE(b.ok());
    CHECK(b.value());
  }
  for (const char* f : {"0", "false", "No", "off"}) {
    Result<bool> b = parse_bool("X", f);
    REQUIRE(b.ok());
    CHECK_FALSE(b.value());
  }
  Result<bool> bad = parse_bool("AWS_USE_TLS", "maybe");
  REQUIRE_FALSE(bad.ok());
  CHECK(contains(bad.status().message(), "AWS_USE_TLS"));
  CHECK(contains(bad.status().message(), "maybe"));
  for (const char* name : {"AWS_USE_TLS", "AWS_SIGNED_PAYLOADS", "AWS_NO_SIGN_REQUEST"}) {
    const std::string m = env_error(name, "sometimes");
    CHECK(contains(m, name));
    CHECK(contains(m, "sometimes"));
  }
}

TEST_CASE("Azure and local variables") {
  EnvGuard env;
  env.set("STORAGE_PLATFORM", "azure");
  env.set("BUCKET_NAME", "container1");
  env.set("AZURE_STORAGE_CONNECTION_STRING", "DefaultEndpointsProtocol=http;AccountName=a");
  env.set("AZURE_STORAGE_SAS_TOKEN", "sv=2020&sig=x");
  env.set("ARRAYMORPH_LOCAL_ROOT", "/data/root");
  Config c = env_config();
  CHECK(c.platform == Platform::kAzure);
  CHECK(c.azure.container == "container1");
  CHECK(c.azure.connection_string == "DefaultEndpointsProtocol=http;AccountName=a");
  CHECK(c.azure.sas_token == "sv=2020&sig=x");
  CHECK(c.local.root == "/data/root");
}

TEST_CASE("numeric knobs") {
  EnvGuard env;
  env.set("ARRAYMORPH_THREADS", "6");
  env.set("ARRAYMORPH_MAX_INFLIGHT", "128");
  env.set("ARRAYMORPH_CACHE_BYTES", "1GiB");
  env.set("ARRAYMORPH_CONNECT_TIMEOUT", "2.5");
  env.set("ARRAYMORPH_REQUEST_TIMEOUT", "30");
  env.set("ARRAYMORPH_RETRY_MAX_ATTEMPTS", "3");
  env.set("ARRAYMORPH_RETRY_INITIAL_BACKOFF", "0.01");
  env.set("ARRAYMORPH_RETRY_MAX_BACKOFF", "1e0");
  env.set("ARRAYMORPH_RETRY_TOTAL_TIMEOUT", "12");
  env.set("ARRAYMORPH_LOG_LEVEL", "DEBUG");
  Config c = env_config();
  CHECK(c.threads == 6);
  CHECK(c.effective_threads() == 6);
  CHECK(c.max_inflight == 128);
  CHECK(c.cache_bytes == (1ull << 30));
  CHECK(c.connect_timeout_s == doctest::Approx(2.5));
  CHECK(c.request_timeout_s == doctest::Approx(30));
  CHECK(c.retry.max_attempts == 3);
  CHECK(c.retry.initial_backoff_s == doctest::Approx(0.01));
  CHECK(c.retry.max_backoff_s == doctest::Approx(1.0));
  CHECK(c.retry.total_timeout_s == doctest::Approx(12));
  CHECK(c.log_level == "debug");
}

TEST_CASE("byte sizes") {
  const std::pair<const char*, uint64_t> cases[] = {
      {"0", 0},           {"1048576", 1048576},        {"512k", 512ull << 10},
      {"512K", 512ull << 10}, {"256MiB", 256ull << 20}, {"256 MiB", 256ull << 20},
      {"1GiB", 1ull << 30},   {"2g", 2ull << 30},       {"1MB", 1000000},
      {"3kB", 3000},          {"100B", 100},            {"1TiB", 1ull << 40}};
  for (const auto& c : cases) {  // no structured binding: INFO captures it (C++20, clang 14)
    const auto& text = c.first;
    const auto& value = c.second;
    EnvGuard env;
    env.set("ARRAYMORPH_CACHE_BYTES", text);
    INFO(text);
    CHECK(env_config().cache_bytes == value);
  }
  for (const char* bad : {"lots", "12XB", "-1", "1.5GiB", "GiB", "99999999999999999999"}) {
    INFO(bad);
    const std::string m = env_error("ARRAYMORPH_CACHE_BYTES", bad);
    CHECK(contains(m, "ARRAYMORPH_CACHE_BYTES"));
    CHECK(contains(m, std::string("'") + bad + "'"));
  }
}

TEST_CASE("malformed numbers name the variable and the value") {
  const std::pair<const char*, const char*> cases[] = {
      {"ARRAYMORPH_THREADS", "many"},          {"ARRAYMORPH_THREADS", "-2"},
      {"ARRAYMORPH_THREADS", "4x"},            {"ARRAYMORPH_MAX_INFLIGHT", "0"},
      {"ARRAYMORPH_MAX_INFLIGHT", "1.5"},      {"ARRAYMORPH_CONNECT_TIMEOUT", "soon"},
      {"ARRAYMORPH_REQUEST_TIMEOUT", "-1"},    {"ARRAYMORPH_RETRY_MAX_ATTEMPTS", "0"},
      {"ARRAYMORPH_RETRY_INITIAL_BACKOFF", "x"}, {"ARRAYMORPH_RETRY_MAX_BACKOFF", "inf"},
      {"ARRAYMORPH_RETRY_TOTAL_TIMEOUT", "nan"}, {"ARRAYMORPH_LOG_LEVEL", "chatty"},
  };
  for (const auto& c : cases) {  // no structured binding: INFO captures it (C++20, clang 14)
    const auto& name = c.first;
    const auto& value = c.second;
    INFO(name, "=", value);
    const std::string m = env_error(name, value);
    CHECK(contains(m, name));
    CHECK(contains(m, std::string("'") + value + "'"));
  }
}

TEST_CASE("secrets never appear in messages") {
  // Errors elsewhere must not echo credentials present in the same environment.
  EnvGuard env;
  env.set("AWS_SECRET_ACCESS_KEY", "TOPSECRETVALUE");
  env.set("AWS_SESSION_TOKEN", "TOPSECRETTOKEN");
  env.set("AZURE_STORAGE_CONNECTION_STRING", "AccountKey=TOPSECRETKEY");
  env.set("ARRAYMORPH_THREADS", "bad");
  Result<Config> c = Config::from_env();
  REQUIRE_FALSE(c.ok());
  CHECK_FALSE(contains(c.status().message(), "TOPSECRET"));
}

TEST_CASE("apply: every key") {
  Config c;
  Status s = c.apply({{"threads", "3"},
                      {"max_inflight", "16"},
                      {"cache_bytes", "64MiB"},
                      {"connect_timeout", "1"},
                      {"request_timeout", "2"},
                      {"retry_max_attempts", "4"},
                      {"retry_initial_backoff", "0.1"},
                      {"retry_max_backoff", "0.2"},
                      {"retry_total_timeout", "5"},
                      {"log_level", "info"},
                      {"platform", "memory"},
                      {"local.root", "/tmp/x"},
                      {"s3.bucket", "bk"},
                      {"s3.access_key", "ak"},
                      {"s3.secret_key", "sk"},
                      {"s3.session_token", "st"},
                      {"s3.region", "us-west-2"},
                      {"s3.endpoint", "minio:9000"},
                      {"s3.use_tls", "false"},
                      {"s3.addressing_style", "virtual"},
                      {"s3.signed_payloads", "true"},
                      {"s3.anonymous", "true"},
                      {"s3.ca_bundle", "/ca"},
                      {"s3.multipart_threshold", "8MiB"},
                      {"s3.multipart_part_size", "5MiB"},
                      {"azure.container", "ct"},
                      {"azure.connection_string", "cs"},
                      {"azure.sas_token", "sas"},
                      {"azure.block_threshold", "4MiB"},
                      {"azure.block_size", "1MiB"}});
  REQUIRE_MESSAGE(s.ok(), s.to_string());
  CHECK(c.threads == 3);
  CHECK(c.max_inflight == 16);
  CHECK(c.cache_bytes == (64ull << 20));
  CHECK(c.connect_timeout_s == doctest::Approx(1));
  CHECK(c.request_timeout_s == doctest::Approx(2));
  CHECK(c.retry.max_attempts == 4);
  CHECK(c.retry.initial_backoff_s == doctest::Approx(0.1));
  CHECK(c.retry.max_backoff_s == doctest::Approx(0.2));
  CHECK(c.retry.total_timeout_s == doctest::Approx(5));
  CHECK(c.log_level == "info");
  CHECK(c.platform == Platform::kMemory);
  CHECK(c.platform_explicit);
  CHECK(c.local.root == "/tmp/x");
  CHECK(c.s3.bucket == "bk");
  CHECK(c.s3.access_key == "ak");
  CHECK(c.s3.secret_key == "sk");
  CHECK(c.s3.session_token == "st");
  CHECK(c.s3.region == "us-west-2");
  CHECK(c.s3.endpoint == "minio:9000");
  CHECK_FALSE(c.s3.use_tls);
  CHECK(c.s3.virtual_addressing);
  CHECK(c.s3.signed_payloads);
  CHECK(c.s3.anonymous);
  CHECK(c.s3.ca_bundle == "/ca");
  CHECK(c.s3.multipart_threshold == (8ull << 20));
  CHECK(c.s3.multipart_part_size == (5ull << 20));
  CHECK(c.azure.container == "ct");
  CHECK(c.azure.connection_string == "cs");
  CHECK(c.azure.sas_token == "sas");
  CHECK(c.azure.block_threshold == (4ull << 20));
  CHECK(c.azure.block_size == (1ull << 20));
}

TEST_CASE("apply: unknown key and bad values, all or nothing") {
  Config c;
  Status s = c.apply({{"thread", "4"}});
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(contains(s.message(), "'thread'"));

  s = c.apply({{"max_inflight", "8"}, {"threads", "-1"}});
  REQUIRE_FALSE(s.ok());
  CHECK(contains(s.message(), "threads"));
  CHECK(contains(s.message(), "'-1'"));
  CHECK(c.max_inflight == 64);  // nothing applied

  s = c.apply({{"max_inflight", "0"}});
  REQUIRE_FALSE(s.ok());
  CHECK(contains(s.message(), "max_inflight"));

  s = c.apply({{"event_loops", "0"}});
  REQUIRE_FALSE(s.ok());
  CHECK(contains(s.message(), "event_loops"));
  CHECK(c.event_loops == 2);
  REQUIRE(c.apply({{"event_loops", "3"}}).ok());
  CHECK(c.event_loops == 3);

  s = c.apply({{"platform", "ftp"}});
  REQUIRE_FALSE(s.ok());
  CHECK(contains(s.message(), "platform"));
  CHECK(contains(s.message(), "S3, Azure, Local, Memory"));

  s = c.apply({{"s3.addressing_style", "auto"}});
  REQUIRE_FALSE(s.ok());
  CHECK(contains(s.message(), "s3.addressing_style"));

  s = c.apply({{"s3.secret_key", "TOPSECRET"}, {"s3.use_tls", "perhaps"}});
  REQUIRE_FALSE(s.ok());
  CHECK_FALSE(contains(s.message(), "TOPSECRET"));

  // threads=0 means "one per core".
  REQUIRE(c.apply({{"threads", "0"}}).ok());
  CHECK(c.threads == 0);
  CHECK(c.effective_threads() >= 1);
}

TEST_CASE("precedence: apply() over environment over defaults") {
  EnvGuard env;
  env.set("BUCKET_NAME", "env-bucket");
  env.set("ARRAYMORPH_THREADS", "2");
  env.set("ARRAYMORPH_MAX_INFLIGHT", "10");
  Config c = env_config();
  CHECK(c.platform == Platform::kS3);
  CHECK_FALSE(c.platform_explicit);
  REQUIRE(c.apply({{"threads", "5"}, {"s3.bucket", "explicit"}, {"platform", "local"}}).ok());
  CHECK(c.threads == 5);
  CHECK(c.max_inflight == 10);  // environment kept where nothing explicit was given
  CHECK(c.s3.bucket == "explicit");
  CHECK(c.platform == Platform::kLocal);
  CHECK(c.platform_explicit);
  CHECK(c.cache_bytes == (256ull << 20));  // default
}

TEST_CASE("empty variables count as unset") {
  EnvGuard env;
  env.set("BUCKET_NAME", "");
  env.set("STORAGE_PLATFORM", "");
  env.set("ARRAYMORPH_THREADS", "");
  Config c = env_config();
  CHECK(c.platform == Platform::kLocal);
  CHECK(c.threads == 0);
}

TEST_CASE("AWS_REQUEST_PAYER: requester (or a boolean) turns requester-pays on") {
  {
    EnvGuard env;
    CHECK_FALSE(env_config().s3.request_payer);
    env.set("AWS_REQUEST_PAYER", "requester");
    CHECK(env_config().s3.request_payer);
  }
  Config c;
  REQUIRE(c.apply({{"s3.request_payer", "true"}}).ok());
  CHECK(c.s3.request_payer);
  REQUIRE(c.apply({{"s3.request_payer", "false"}}).ok());
  CHECK_FALSE(c.s3.request_payer);
  CHECK(contains(env_error("AWS_REQUEST_PAYER", "maybe"), "AWS_REQUEST_PAYER"));
}

TEST_CASE("control characters in any value are refused, naming the variable, not the value") {
  // AWS_SESSION_TOKEN goes into the x-amz-security-token header: a CR/LF would inject a header.
  const std::pair<const char*, const char*> cases[] = {
      {"AWS_SESSION_TOKEN", "tok\r\nx-amz-injected: 1"},
      {"AWS_ACCESS_KEY_ID", "AKIA\n"},
      {"AWS_REGION", "us-east-1\rX"},
      {"BUCKET_NAME", "bucket\x01"},
      {"AZURE_STORAGE_SAS_TOKEN", "sv=1&sig=SECRET\n"},
      {"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:1/\x7f"},
  };
  for (const auto& c : cases) {  // no structured binding: INFO captures it (C++20, clang 14)
    const auto& name = c.first;
    const auto& value = c.second;
    INFO(name);
    const std::string m = env_error(name, value);
    CHECK(contains(m, name));
    CHECK(contains(m, "control character"));
    CHECK_FALSE(contains(m, "SECRET"));
    CHECK_FALSE(contains(m, "injected"));
  }
  Config c;
  Status s = c.apply({{"s3.session_token", "a\nb"}});
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(contains(s.message(), "s3.session_token"));
}
