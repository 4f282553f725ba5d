// s3_credentials.hpp -- where S3 credentials come from: static keys, or aws-c-auth's default chain.
//
// Precedence: AWS_NO_SIGN_REQUEST / configure(s3.anonymous) (unsigned requests) > keys in the
// configuration (arraymorph.configure(...) / configure_s3(...) keys, or AWS_ACCESS_KEY_ID /
// AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, already read into S3Config by Config::from_env) >
// the AWS Common Runtime's default credentials provider chain (aws-c-auth,
// aws_credentials_provider_new_chain_default): environment, the AWS_PROFILE profile of the shared
// files (static keys, credential_process, SSO, role_arn/source_profile, web identity), STS web
// identity from AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, then the ECS container endpoint
// (AWS_CONTAINER_CREDENTIALS_FULL_URI / _RELATIVE_URI) or EC2 IMDSv2 (unless
// AWS_EC2_METADATA_DISABLED=true). docs/configuration.md lists every variable; docs/design.md
// ("AWS credentials from aws-c-auth") says why this is the library's job and not ours.
//
// Caching and refresh belong to aws-c-auth: the chain sits behind its cached provider, which
// hands out the same credentials until 5 minutes before their expiration (15 minutes for
// credentials without one) and then fetches new ones. CredentialSource::get() is called once per
// request attempt, so a long job picks the refreshed credentials up on its next request.
//
// Secrets: access key ids may appear in the SigV4 Authorization header (as the protocol wants);
// the secret and the session token never reach a message or a log line. Errors name the source
// that failed (the aws-c-auth error name) and the variables to set.
//
// Thread-safety: CredentialSource::get() may be called from any thread concurrently. The CRT
// runtime under the chain (one event-loop thread, DNS resolver, TLS context) is created once per
// process on first use and deliberately never torn down (stores may be released during static
// destruction, after which the CRT could not shut down cleanly).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/config.hpp"
#include "common/status.hpp"
#include "store/s3/sigv4_signer.hpp"

namespace arraymorph::s3 {

class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  // The current credentials. Returns at once while the cached ones are valid; blocks (bounded by
  // the providers' own timeouts) while a source is (re)queried.
  virtual Result<Credentials> get() = 0;
  // What the chain said the last time a query failed ("" when the last query succeeded); for
  // error messages of requests signed with older credentials.
  virtual std::string last_error() const { return {}; }
  // "static", "anonymous" or "aws-c-auth default chain": for log lines.
  virtual const char* kind() const = 0;
};

// The AWS_* variables of the process, sorted, one "NAME=value" a line: what the chain reads its
// settings from (profile, role, endpoints, files). Part of the store identity and of the chain
// cache key, so a process that changes them gets a new chain. Holds secret values: compare it,
// never log it.
std::string aws_environment();

// Whether `config` leaves credentials to the chain (no anonymous flag, no configured keys).
bool uses_credential_chain(const S3Config& config);

// The `region` of the profile AWS_PROFILE (default "default") in the shared config file
// (AWS_CONFIG_FILE, default ~/.aws/config), read with aws-c-sdkutils' profile parser (the one
// the chain uses); nullopt when there is none. The S3 factory uses it when neither AWS_REGION
// nor AWS_DEFAULT_REGION nor a configured region is set.
std::optional<std::string> profile_region();

// Fixed credentials (tests, configure() keys, anonymous).
std::shared_ptr<CredentialSource> static_credentials(Credentials credentials);

// The source `config` selects (precedence above). For the chain, queries it once so that missing
// or unusable credentials fail here, naming the variables to set, rather than at the first read.
// config.ca_bundle is the trust store of the chain's own HTTPS (STS, SSO) as it is for S3.
Result<std::shared_ptr<CredentialSource>> make_credential_source(const S3Config& config);

}  // namespace arraymorph::s3
