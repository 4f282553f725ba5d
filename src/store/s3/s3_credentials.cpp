// s3_credentials.cpp -- static credentials and the aws-c-auth default chain (see the header).
#include "store/s3/s3_credentials.hpp"

#include <aws/auth/auth.h>
#include <aws/auth/credentials.h>
#include <aws/common/error.h>
#include <aws/io/channel_bootstrap.h>
#include <aws/io/event_loop.h>
#include <aws/io/host_resolver.h>
#include <aws/io/tls_channel_handler.h>
#include <aws/sdkutils/aws_profile.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "common/log.hpp"

namespace arraymorph::s3 {

namespace {

class StaticSource final : public CredentialSource {
 public:
  explicit StaticSource(Credentials c) : c_(std::move(c)) {}
  Result<Credentials> get() override { return c_; }
  const char* kind() const override { return c_.anonymous ? "anonymous" : "static"; }

 private:
  const Credentials c_;
};

// The CRT objects every chain shares: created once per process, never destroyed (see header).
struct CrtRuntime {
  aws_allocator* alloc = nullptr;
  aws_event_loop_group* elg = nullptr;
  aws_host_resolver* resolver = nullptr;
  aws_client_bootstrap* bootstrap = nullptr;
};

Result<CrtRuntime*> crt_runtime() {
  static std::once_flag once;
  static CrtRuntime rt;
  static std::string failure;
  std::call_once(once, [] {
    rt.alloc = aws_default_allocator();
    aws_auth_library_init(rt.alloc);
    aws_event_loop_group_options elg_options{};
    elg_options.loop_count = 1;  // credential fetches are rare and small
    rt.elg = aws_event_loop_group_new(rt.alloc, &elg_options);
    if (rt.elg) {
      aws_host_resolver_default_options ro{};
      ro.max_entries = 8;
      ro.el_group = rt.elg;
      rt.resolver = aws_host_resolver_new_default(rt.alloc, &ro);
    }
    if (rt.resolver) {
      aws_client_bootstrap_options bo{};
      bo.event_loop_group = rt.elg;
      bo.host_resolver = rt.resolver;
      rt.bootstrap = aws_client_bootstrap_new(rt.alloc, &bo);
    }
    if (!rt.bootstrap)
      failure = std::string("cannot start the AWS Common Runtime for credentials: ") +
                aws_error_name(aws_last_error());
  });
  if (!failure.empty()) return internal_error(failure);
  return &rt;
}

// One TLS context per CA bundle ("" = the system trust store), shared by every chain using it.
Result<aws_tls_ctx*> tls_context(CrtRuntime& rt, const std::string& ca_bundle) {
  static std::mutex mu;
  static std::map<std::string, aws_tls_ctx*> contexts;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = contexts.find(ca_bundle); it != contexts.end()) return it->second;
  aws_tls_ctx_options options;
  aws_tls_ctx_options_init_default_client(&options, rt.alloc);
  if (!ca_bundle.empty() &&
      aws_tls_ctx_options_override_default_trust_store_from_path(&options, nullptr,
                                                                 ca_bundle.c_str()) != 0) {
    const int err = aws_last_error();
    aws_tls_ctx_options_clean_up(&options);
    return invalid_argument("AWS_CA_BUNDLE='" + ca_bundle + "' cannot be used as a trust store (" +
                            aws_error_name(err) + ")");
  }
  aws_tls_ctx* ctx = aws_tls_client_ctx_new(rt.alloc, &options);
  const int err = aws_last_error();
  aws_tls_ctx_options_clean_up(&options);
  if (!ctx) return internal_error(std::string("cannot create a TLS context: ") + aws_error_name(err));
  contexts.emplace(ca_bundle, ctx);
  return ctx;
}

std::string cursor_string(aws_byte_cursor c) {
  return c.len ? std::string(reinterpret_cast<const char*>(c.ptr), c.len) : std::string();
}

std::string missing_credentials_message(const std::string& why) {
  const char* profile = std::getenv("AWS_PROFILE");
  return "no S3 credentials: no source of the AWS default credential chain gave any (last "
         "error: " + why + "). Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or call arraymorph.configure_s3), "
         "configure profile '" + std::string(profile && *profile ? profile : "default") +
         "' in ~/.aws/credentials or ~/.aws/config (AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE, "
         "AWS_CONFIG_FILE; credential_process and SSO profiles work), use web identity "
         "(AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE), an ECS task role or EC2 instance profile, "
         "or set AWS_NO_SIGN_REQUEST=true for a public bucket";
}

// The aws-c-auth default chain. get() asks the chain's cached provider, which answers at once
// from its cache (on the calling thread) or queries the sources on the CRT event-loop thread.
class ChainSource final : public CredentialSource {
 public:
  explicit ChainSource(aws_credentials_provider* provider) : provider_(provider) {}
  ~ChainSource() override { aws_credentials_provider_release(provider_); }

  Result<Credentials> get() override {
    auto waiter = std::make_shared<Waiter>();
    // The callback owns one reference: it may run after a timed-out get() has returned.
    auto* ref = new std::shared_ptr<Waiter>(waiter);
    if (aws_credentials_provider_get_credentials(provider_, &ChainSource::on_credentials, ref) != 0) {
      delete ref;
      return fail(aws_error_name(aws_last_error()));
    }
    std::unique_lock<std::mutex> lock(waiter->mu);
    // Each source bounds its own requests (IMDS 1 s connects, STS/ECS a few seconds); this only
    // guards against a source that never answers.
    if (!waiter->cv.wait_for(lock, std::chrono::seconds(60), [&] { return waiter->done; }))
      return fail("no answer from the credential chain within 60 s");
    if (waiter->error) return fail(waiter->error_name);
    note_success(waiter->expiration);
    return waiter->credentials;
  }

  std::string last_error() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return last_error_;
  }
  const char* kind() const override { return "aws-c-auth default chain"; }

 private:
  struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    int error = 0;
    std::string error_name;
    Credentials credentials;
    uint64_t expiration = UINT64_MAX;  // POSIX seconds; UINT64_MAX = none
  };

  static void on_credentials(aws_credentials* creds, int error_code, void* user_data) {
    std::unique_ptr<std::shared_ptr<Waiter>> ref(static_cast<std::shared_ptr<Waiter>*>(user_data));
    Waiter& w = **ref;
    std::lock_guard<std::mutex> lock(w.mu);
    if (creds && error_code == 0) {
      w.credentials.access_key = cursor_string(aws_credentials_get_access_key_id(creds));
      w.credentials.secret_key = cursor_string(aws_credentials_get_secret_access_key(creds));
      w.credentials.session_token = cursor_string(aws_credentials_get_session_token(creds));
      w.expiration = aws_credentials_get_expiration_timepoint_seconds(creds);
    } else {
      w.error = error_code ? error_code : AWS_ERROR_UNKNOWN;
      w.error_name = aws_error_name(w.error);
    }
    w.done = true;
    w.cv.notify_all();
  }

  Status fail(const std::string& why) {
    bool had_credentials;
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_error_ = why;
      had_credentials = had_credentials_;
    }
    AM_LOG(kWarning, "s3", "credential chain failed: " << why);
    if (had_credentials)
      return Status(Code::kPermissionDenied,
                    "S3 credentials from the AWS default credential chain expired and could not be "
                    "refreshed (" + why + "); check the source that issued them (profile, SSO "
                    "login, web identity token, container or instance role)");
    return invalid_argument(missing_credentials_message(why));
  }

  void note_success(uint64_t expiration) {
    std::lock_guard<std::mutex> lock(mu_);
    last_error_.clear();
    had_credentials_ = true;
    if (expiration == last_expiration_) return;  // the cached credentials again
    last_expiration_ = expiration;
    if (expiration == UINT64_MAX) {
      AM_LOG(kDebug, "s3", "credentials from the aws-c-auth default chain (no expiration)");
    } else {
      AM_LOG(kDebug, "s3", "credentials from the aws-c-auth default chain, expiring in "
                               << static_cast<long long>(expiration) - std::time(nullptr) << " s");
    }
  }

  aws_credentials_provider* provider_;
  mutable std::mutex mu_;
  std::string last_error_;
  uint64_t last_expiration_ = 0;
  bool had_credentials_ = false;  // a later failure is a failed refresh
};

// aws-c-auth's default chain does not consult SSO profiles yet (its profile provider leaves them
// as a TODO), although its SSO provider exists: when the profile has sso_* settings, that
// provider goes in front of the chain (botocore also asks SSO before the shared credential
// file), both behind one cache. Takes `chain`; returns the provider to use, or nullptr.
aws_credentials_provider* with_sso_profile(aws_allocator* alloc, aws_credentials_provider* chain,
                                           const aws_credentials_provider_chain_default_options& o) {
  aws_credentials_provider_sso_options so{};
  so.bootstrap = o.bootstrap;
  so.tls_ctx = o.tls_ctx;
  aws_credentials_provider* sso = aws_credentials_provider_new_sso(alloc, &so);
  if (!sso) {
    aws_reset_error();  // no SSO profile: the usual case
    return chain;
  }
  aws_credentials_provider* members[] = {sso, chain};
  aws_credentials_provider_chain_options co{};
  co.providers = members;
  co.provider_count = 2;
  aws_credentials_provider* both = aws_credentials_provider_new_chain(alloc, &co);
  aws_credentials_provider_release(sso);  // the chain holds its own references
  aws_credentials_provider_release(chain);
  if (!both) return nullptr;
  aws_credentials_provider_cached_options cached{};
  cached.source = both;  // owned by the cache from here
  aws_credentials_provider* out = aws_credentials_provider_new_cached(alloc, &cached);
  if (!out) aws_credentials_provider_release(both);
  return out;
}

}  // namespace

std::string aws_environment() {
  std::vector<std::string> vars;
  for (char** e = environ; e && *e; ++e)
    if (std::strncmp(*e, "AWS_", 4) == 0) vars.emplace_back(*e);
  std::sort(vars.begin(), vars.end());
  std::string out;
  for (const auto& v : vars) out += v + '\n';
  return out;
}

bool uses_credential_chain(const S3Config& config) {
  return !config.anonymous && config.access_key.empty() && config.secret_key.empty();
}

std::optional<std::string> profile_region() {
  auto rt = crt_runtime();
  if (!rt.ok()) return std::nullopt;
  aws_allocator* alloc = (*rt)->alloc;
  std::optional<std::string> out;
  aws_string* path = aws_get_config_file_path(alloc, nullptr);
  aws_string* name = aws_get_profile_name(alloc, nullptr);
  aws_string* key = aws_string_new_from_c_str(alloc, "region");
  aws_profile_collection* profiles =
      path ? aws_profile_collection_new_from_file(alloc, path, AWS_PST_CONFIG) : nullptr;
  if (profiles && name && key) {
    const aws_profile* profile = aws_profile_collection_get_profile(profiles, name);
    const aws_profile_property* region = profile ? aws_profile_get_property(profile, key) : nullptr;
    const aws_string* value = region ? aws_profile_property_get_value(region) : nullptr;
    if (value && value->len) out = std::string(aws_string_c_str(value), value->len);
  }
  aws_reset_error();  // a missing file is the usual case, not an error
  if (profiles) aws_profile_collection_release(profiles);
  aws_string_destroy(key);
  aws_string_destroy(name);
  aws_string_destroy(path);
  return out;
}

std::shared_ptr<CredentialSource> static_credentials(Credentials credentials) {
  return std::make_shared<StaticSource>(std::move(credentials));
}

Result<std::shared_ptr<CredentialSource>> make_credential_source(const S3Config& config) {
  if (config.anonymous) {  // see uses_credential_chain
    Credentials c;
    c.anonymous = true;
    return static_credentials(std::move(c));
  }
  if (!config.access_key.empty() || !config.secret_key.empty()) {
    if (config.access_key.empty())
      return invalid_argument("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
    if (config.secret_key.empty())
      return invalid_argument("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    return static_credentials(
        Credentials{config.access_key, config.secret_key, config.session_token, false});
  }
  // One chain per process and environment: every store (every open file) shares its cache, so
  // a source is queried once per refresh, not once per file.
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<ChainSource>> chains;
  const std::string key = config.ca_bundle + '\n' + aws_environment();
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = chains.find(key); it != chains.end()) {
    auto again = it->second->get();  // fails the open now, as a new chain would
    if (!again.ok()) return again.status();
    return std::shared_ptr<CredentialSource>(it->second);
  }
  auto rt = crt_runtime();
  if (!rt.ok()) return rt.status();
  auto tls = tls_context(**rt, config.ca_bundle);
  if (!tls.ok()) return tls.status();
  aws_credentials_provider_chain_default_options options{};
  options.bootstrap = (*rt)->bootstrap;
  options.tls_ctx = *tls;
  // The environment provider stays in the chain: Config::from_env has read the same variables
  // into static keys above, so it only sees them when they were set after the configuration.
  aws_credentials_provider* provider = aws_credentials_provider_new_chain_default((*rt)->alloc, &options);
  if (!provider)
    return invalid_argument(missing_credentials_message(aws_error_name(aws_last_error())));
  provider = with_sso_profile((*rt)->alloc, provider, options);
  if (!provider)
    return invalid_argument(missing_credentials_message(aws_error_name(aws_last_error())));
  auto source = std::make_shared<ChainSource>(provider);
  auto first = source->get();
  if (!first.ok()) return first.status();
  AM_LOG(kInfo, "s3", "S3 credentials from the aws-c-auth default chain");
  chains.emplace(key, source);
  return std::shared_ptr<CredentialSource>(std::move(source));
}

}  // namespace arraymorph::s3
