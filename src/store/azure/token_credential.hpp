// token_credential.hpp -- OAuth 2.0 bearer tokens for Azure Storage: the sources (Microsoft
// Entra ID client credentials with a secret or a federated assertion, managed identity) and the
// cache that refreshes a token before it expires.
//
// Every token request goes through one net::RequestClient (request_client.hpp): the same
// attempts, retry taxonomy, backoff and deadline as the Blob requests, over a transport of its
// own (TokenClient below) so that fetching a token from inside a Blob request's build step can
// never wait for a slot or an event loop the Blob requests hold.
//
// Secrets (client secret, federated assertion, identity header, the tokens themselves) never
// appear in a Status or a log line: errors name the source, the endpoint (without query) and the
// HTTP status, plus the service's `error` code and description (which carry no secret).
//
// Thread-safety: TokenCache::token() from any thread (one fetch at a time; the others wait for
// it). Sources are called by their cache only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/config.hpp"
#include "common/status.hpp"
#include "net/request_client.hpp"

namespace arraymorph::azure {

// The resource/scope every token is requested for.
inline constexpr const char* kStorageResource = "https://storage.azure.com/";
inline constexpr const char* kStorageScope = "https://storage.azure.com/.default";
inline constexpr const char* kDefaultAuthorityHost = "https://login.microsoftonline.com";
inline constexpr const char* kDefaultImdsEndpoint = "http://169.254.169.254";

struct AccessToken {
  std::string value;  // the bearer token. Secret.
  std::chrono::system_clock::time_point expires_on;
};

// Reads a token response (AAD v2.0, IMDS, App Service): "access_token" plus "expires_in"
// (seconds, number or string) or "expires_on" (epoch seconds, number or string). `now` anchors
// expires_in. Errors say which field is missing or malformed, never the body.
Result<AccessToken> parse_token_response(const std::string& body,
                                         std::chrono::system_clock::time_point now);

// The request client and transport every token source of one store uses (see the header
// comment): one event loop, a private admission limit, the store's retry policy, timeouts and
// CA bundle. Owns them; shared by the sources.
class TokenClient {
 public:
  // Null transport: a libcurl transport from `options`.
  TokenClient(const net::TransportOptions& options, const RetryPolicy& retry,
              std::shared_ptr<net::HttpTransport> transport = nullptr);
  // Sends `request` (POST form or GET) with retries and returns the parsed token (expires_in
  // counted from `now`); `source` names the credential in errors ("Azure managed identity").
  Result<AccessToken> fetch(const std::string& source, net::HttpRequest request,
                            std::chrono::system_clock::time_point now);

 private:
  std::unique_ptr<net::RequestClient> client_;
};

// One way of obtaining a token. fetch() blocks (it runs on the thread asking the cache); `now`
// is the cache's clock.
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  virtual Result<AccessToken> fetch(std::chrono::system_clock::time_point now) = 0;
  virtual std::string describe() const = 0;  // "Azure managed identity (IMDS ...)", no secret
};

// Microsoft Entra ID client-credentials grant: POST {authority}/{tenant}/oauth2/v2.0/token with
// client_secret (service principal), or with client_assertion read afresh from the federated
// token file on every fetch (workload identity: the file is rotated by the cluster).
struct EntraOptions {
  std::string authority_host;  // empty: kDefaultAuthorityHost
  std::string tenant_id;
  std::string client_id;
  std::string client_secret;         // service principal. Secret.
  std::string federated_token_file;  // workload identity (used when client_secret is empty)
};
std::unique_ptr<TokenSource> make_entra_source(EntraOptions options,
                                               std::shared_ptr<TokenClient> client);

// Managed identity: App Service's IDENTITY_ENDPOINT + IDENTITY_HEADER (api-version 2019-08-01)
// when an identity endpoint is given, else the VM Instance Metadata Service at `imds_endpoint`
// (api-version 2018-02-01, "Metadata: true"). `client_id` selects a user-assigned identity.
struct ManagedIdentityOptions {
  std::string imds_endpoint;      // empty: kDefaultImdsEndpoint
  std::string identity_endpoint;  // full URL of the App Service token endpoint
  std::string identity_header;    // Secret.
  std::string client_id;
};
std::unique_ptr<TokenSource> make_managed_identity_source(ManagedIdentityOptions options,
                                                          std::shared_ptr<TokenClient> client);

// Keeps the current token and fetches a new one when less than the refresh margin is left:
// min(5 minutes, half the token's lifetime), so long jobs never send an expired token and a
// short-lived token is not fetched on every request.
class TokenCache {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  explicit TokenCache(std::unique_ptr<TokenSource> source, Clock clock = nullptr);

  // The bearer token to send now (fetching it if needed). Secret: never log the value.
  Result<std::string> token();
  std::string describe() const { return source_->describe(); }
  int fetches() const;  // for tests: how many tokens were fetched

 private:
  std::unique_ptr<TokenSource> source_;
  Clock clock_;
  mutable std::mutex mu_;
  AccessToken current_;
  std::chrono::system_clock::time_point refresh_at_{};
  int fetches_ = 0;
};

}  // namespace arraymorph::azure
