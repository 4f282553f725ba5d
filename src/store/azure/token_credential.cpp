// token_credential.cpp -- see token_credential.hpp.
#include "store/azure/token_credential.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <variant>

#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "net/encoding.hpp"
#include "net/strings.hpp"
#include "net/transport.hpp"

namespace arraymorph::azure {
namespace {

using SysClock = std::chrono::system_clock;

// A number of seconds given as a JSON number or a decimal string (IMDS and App Service send
// strings, Entra ID numbers).
std::optional<long long> seconds_field(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<long long>();
  if (it->is_number()) return static_cast<long long>(it->get<double>());
  if (it->is_string()) {
    const std::string s = net::trim(it->get<std::string>());
    if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    return std::stoll(s);
  }
  return std::nullopt;
}

// "scheme://host[:port]/path" of a URL: what errors may show (a query could carry a secret).
std::string without_query(const std::string& url) { return url.substr(0, url.find('?')); }

std::string form_field(const std::string& name, const std::string& value) {
  return name + "=" + net::percent_encode(value, false);
}

// The service's own explanation of a failed token request: `error` and `error_description`
// (OAuth 2.0, RFC 6749 5.2), shortened. They never echo the credential.
std::string oauth_error(const net::HttpResponse& r) {
  const nlohmann::json j = nlohmann::json::parse(r.body_string(), nullptr, false);
  if (!j.is_object()) return "";
  std::string out;
  if (j.contains("error") && j["error"].is_string()) out = j["error"].get<std::string>();
  if (j.contains("error_description") && j["error_description"].is_string())
    out += (out.empty() ? "" : ": ") + net::excerpt(j["error_description"].get<std::string>(), 200);
  return out;
}

class EntraSource final : public TokenSource {
 public:
  EntraSource(EntraOptions o, std::shared_ptr<TokenClient> client)
      : o_(std::move(o)), client_(std::move(client)) {
    std::string host = o_.authority_host.empty() ? kDefaultAuthorityHost : o_.authority_host;
    while (!host.empty() && host.back() == '/') host.pop_back();
    url_ = host + "/" + net::percent_encode(o_.tenant_id, false) + "/oauth2/v2.0/token";
  }

  std::string describe() const override {
    return std::string(o_.client_secret.empty() ? "Azure workload identity" : "Azure service principal") +
           " (client " + o_.client_id + ", tenant " + o_.tenant_id + ", " + url_ + ")";
  }

  Result<AccessToken> fetch(SysClock::time_point now) override {
    std::string body = form_field("grant_type", "client_credentials") + "&" +
                       form_field("client_id", o_.client_id) + "&" +
                       form_field("scope", kStorageScope) + "&";
    if (!o_.client_secret.empty()) {
      body += form_field("client_secret", o_.client_secret);
    } else {
      // Re-read every time: the cluster rotates the projected token file.
      std::ifstream in(o_.federated_token_file, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      const std::string assertion = net::trim(text.str());
      if (!in || assertion.empty())
        return invalid_argument("Azure workload identity: cannot read a token from "
                                "AZURE_FEDERATED_TOKEN_FILE '" + o_.federated_token_file + "'");
      body += form_field("client_assertion_type",
                         "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") + "&" +
              form_field("client_assertion", assertion);
    }
    net::HttpRequest req;
    req.method = "POST";
    req.url = url_;
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    req.owned_body = std::move(body);
    return client_->fetch(describe(), std::move(req), now);
  }

 private:
  EntraOptions o_;
  std::shared_ptr<TokenClient> client_;
  std::string url_;
};

class ManagedIdentitySource final : public TokenSource {
 public:
  ManagedIdentitySource(ManagedIdentityOptions o, std::shared_ptr<TokenClient> client)
      : o_(std::move(o)), client_(std::move(client)) {
    if (!o_.identity_endpoint.empty()) {
      url_ = o_.identity_endpoint;
    } else {
      std::string host = o_.imds_endpoint.empty() ? kDefaultImdsEndpoint : o_.imds_endpoint;
      while (!host.empty() && host.back() == '/') host.pop_back();
      url_ = host + "/metadata/identity/oauth2/token";
    }
  }

  std::string describe() const override {
    return std::string("Azure managed identity (") +
           (o_.identity_endpoint.empty() ? "IMDS " : "IDENTITY_ENDPOINT ") + url_ +
           (o_.client_id.empty() ? "" : ", client " + o_.client_id) + ")";
  }

  Result<AccessToken> fetch(SysClock::time_point now) override {
    net::HttpRequest req;
    req.method = "GET";
    std::string query = form_field("resource", kStorageResource);
    if (o_.identity_endpoint.empty()) {
      query = "api-version=2018-02-01&" + query;
      req.headers.emplace_back("Metadata", "true");
    } else {
      query = "api-version=2019-08-01&" + query;
      req.headers.emplace_back("X-IDENTITY-HEADER", o_.identity_header);
    }
    if (!o_.client_id.empty()) query += "&" + form_field("client_id", o_.client_id);
    req.url = url_ + (url_.find('?') == std::string::npos ? "?" : "&") + query;
    return client_->fetch(describe(), std::move(req), now);
  }

 private:
  ManagedIdentityOptions o_;
  std::shared_ptr<TokenClient> client_;
  std::string url_;
};

}  // namespace

Result<AccessToken> parse_token_response(const std::string& body, SysClock::time_point now) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return Status(Code::kIo, "token response is not a JSON object");
  auto tok = j.find("access_token");
  if (tok == j.end() || !tok->is_string() || tok->get<std::string>().empty())
    return Status(Code::kIo, "token response has no access_token");
  AccessToken out;
  out.value = tok->get<std::string>();
  if (auto in = seconds_field(j, "expires_in")) {
    out.expires_on = now + std::chrono::seconds(*in);
  } else if (auto on = seconds_field(j, "expires_on")) {
    out.expires_on = SysClock::time_point(std::chrono::seconds(*on));
  } else {
    return Status(Code::kIo, "token response has neither expires_in nor expires_on (in seconds)");
  }
  return out;
}

// ------------------------------------------------------------------------------ TokenClient

TokenClient::TokenClient(const net::TransportOptions& options, const RetryPolicy& retry,
                         std::shared_ptr<net::HttpTransport> transport) {
  net::TransportOptions topts = options;
  topts.event_loops = 1;
  topts.max_inflight = 4;
  if (!transport) transport = net::make_curl_transport(topts);
  net::ClientOptions client;
  client.retry = retry;
  client.admission = std::make_shared<net::Admission>(4);  // never the Blob requests' slots
  client_ = std::make_unique<net::RequestClient>(std::move(transport), std::move(client));
}

Result<AccessToken> TokenClient::fetch(const std::string& source, net::HttpRequest request,
                                       SysClock::time_point now) {
  const std::string where = without_query(request.url);
  net::Call call;
  call.op = OpKind::kGet;
  call.idempotent = true;  // a token request changes nothing: safe to repeat
  call.build = [request = std::move(request)] { return request; };
  net::Completed done = client_->run(std::move(call));
  if (auto* error = std::get_if<net::TransportError>(&done.outcome))
    return Status(Code::kUnavailable, source + ": token request to " + where + " failed: " +
                                          error->message, error->retryable());
  const net::HttpResponse& r = std::get<net::HttpResponse>(done.outcome);
  if (r.status < 200 || r.status >= 300) {
    const std::string why = oauth_error(r);
    const Code code = (r.status == 400 || r.status == 401 || r.status == 403)
                          ? Code::kPermissionDenied : Code::kUnavailable;
    return Status(code, source + ": token request to " + where + " answered HTTP " +
                            std::to_string(r.status) + (why.empty() ? "" : " (" + why + ")"));
  }
  Result<AccessToken> token = parse_token_response(r.body_string(), now);
  if (!token.ok()) return token.status().with_context(source + " (" + where + ")");
  return token;
}

std::unique_ptr<TokenSource> make_entra_source(EntraOptions options,
                                               std::shared_ptr<TokenClient> client) {
  return std::make_unique<EntraSource>(std::move(options), std::move(client));
}

std::unique_ptr<TokenSource> make_managed_identity_source(ManagedIdentityOptions options,
                                                          std::shared_ptr<TokenClient> client) {
  return std::make_unique<ManagedIdentitySource>(std::move(options), std::move(client));
}

// ------------------------------------------------------------------------------ TokenCache

TokenCache::TokenCache(std::unique_ptr<TokenSource> source, Clock clock)
    : source_(std::move(source)), clock_(clock ? std::move(clock) : [] { return SysClock::now(); }) {}

Result<std::string> TokenCache::token() {
  std::lock_guard<std::mutex> lock(mu_);
  const SysClock::time_point now = clock_();
  if (!current_.value.empty() && now < refresh_at_) return current_.value;
  Result<AccessToken> fresh = source_->fetch(now);
  if (!fresh.ok()) {
    // A refresh that failed while the old token still holds: keep using it until it expires.
    if (!current_.value.empty() && now < current_.expires_on) {
      AM_LOG(kWarning, "azure", "token refresh failed, using the current token until it expires: "
                                    << fresh.status().message());
      return current_.value;
    }
    return fresh.status();
  }
  current_ = std::move(fresh.value());
  ++fetches_;
  const auto lifetime = current_.expires_on - now;
  const auto margin = std::min<SysClock::duration>(std::chrono::minutes(5), lifetime / 2);
  refresh_at_ = current_.expires_on - margin;
  AM_LOG(kDebug, "azure", "new access token from " << source_->describe() << ", valid for "
                              << std::chrono::duration_cast<std::chrono::seconds>(lifetime).count()
                              << " s");
  return current_.value;
}

int TokenCache::fetches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fetches_;
}

}  // namespace arraymorph::azure
