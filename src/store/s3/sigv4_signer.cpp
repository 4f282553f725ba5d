// sigv4_signer.cpp -- AWS SigV4 steps and their composition (see sigv4_signer.hpp).
#include "store/s3/sigv4_signer.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <utility>
#include <vector>

#include "net/crypto.hpp"
#include "net/encoding.hpp"
#include "net/strings.hpp"

namespace arraymorph::s3 {

using net::hex_encode;
using net::hmac_sha256;
using net::percent_decode;
using net::sha256_hex;

namespace {


}  // namespace

std::string amz_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string canonical_query_string(const std::string& raw_query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t pos = 0;
  while (pos <= raw_query.size()) {
    size_t amp = raw_query.find('&', pos);
    if (amp == std::string::npos) amp = raw_query.size();
    const std::string item = raw_query.substr(pos, amp - pos);
    if (!item.empty()) {
      const auto eq = item.find('=');
      std::string k = eq == std::string::npos ? item : item.substr(0, eq);
      std::string v = eq == std::string::npos ? "" : item.substr(eq + 1);
      params.emplace_back(net::percent_encode(percent_decode(k), false),
                          net::percent_encode(percent_decode(v), false));
    }
    pos = amp + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

CanonicalHeaders canonical_headers(const net::Headers& headers) {
  std::map<std::string, std::string> merged;  // sorted by lower-case name
  for (const auto& [name, value] : headers) {
    std::string n = net::ascii_lower(name);
    if (n == "authorization") continue;
    auto [it, fresh] = merged.emplace(n, net::collapse_whitespace(value));
    if (!fresh) it->second += "," + net::collapse_whitespace(value);
  }
  CanonicalHeaders out;
  for (const auto& [n, v] : merged) {
    out.canonical += n + ":" + v + "\n";
    if (!out.signed_names.empty()) out.signed_names.push_back(';');
    out.signed_names += n;
  }
  return out;
}

std::string canonical_request(const std::string& method, const std::string& canonical_uri,
                              const std::string& canonical_query, const CanonicalHeaders& headers,
                              const std::string& payload_hash) {
  return method + "\n" + canonical_uri + "\n" + canonical_query + "\n" + headers.canonical + "\n" +
         headers.signed_names + "\n" + payload_hash;
}

std::string credential_scope(const std::string& date8, const std::string& region,
                             const std::string& service) {
  return date8 + "/" + region + "/" + service + "/aws4_request";
}

std::string string_to_sign(const std::string& amz_datetime, const std::string& scope,
                           const std::string& canonical_request_text) {
  return "AWS4-HMAC-SHA256\n" + amz_datetime + "\n" + scope + "\n" +
         sha256_hex(canonical_request_text);
}

std::string signing_key(const std::string& secret_key, const std::string& date8,
                        const std::string& region, const std::string& service) {
  const std::string k_date = hmac_sha256("AWS4" + secret_key, date8);
  const std::string k_region = hmac_sha256(k_date, region);
  const std::string k_service = hmac_sha256(k_region, service);
  return hmac_sha256(k_service, "aws4_request");
}

std::string signature_hex(const std::string& key, const std::string& sts) {
  return hex_encode(hmac_sha256(key, sts));
}

UrlParts split_url(const std::string& url) {
  UrlParts p;
  size_t start = 0;
  const auto scheme_end = url.find("://");
  if (scheme_end != std::string::npos) {
    p.scheme = url.substr(0, scheme_end);
    start = scheme_end + 3;
  }
  const size_t path_start = url.find_first_of("/?", start);
  p.authority = url.substr(start, path_start == std::string::npos ? std::string::npos
                                                                    : path_start - start);
  if (path_start == std::string::npos) {
    p.path = "/";
    return p;
  }
  const size_t q = url.find('?', path_start);
  p.path = url.substr(path_start, q == std::string::npos ? std::string::npos : q - path_start);
  if (p.path.empty()) p.path = "/";
  if (q != std::string::npos) p.query = url.substr(q + 1);
  const auto hash = p.query.find('#');
  if (hash != std::string::npos) p.query.resize(hash);
  return p;
}

SignatureParts sign_request(net::HttpRequest& request, const Credentials& credentials,
                            const SigningOptions& options) {
  const UrlParts url = split_url(request.url);
  // Host is set explicitly so the value signed is exactly the value libcurl sends.
  net::set_header(request.headers, "Host", url.authority);
  if (options.content_sha256_header)
    net::set_header(request.headers, "x-amz-content-sha256", options.payload_hash);
  if (credentials.anonymous) return {};

  const std::string datetime = amz_date(options.now);
  const std::string date8 = datetime.substr(0, 8);
  net::set_header(request.headers, "x-amz-date", datetime);
  if (!credentials.session_token.empty())
    net::set_header(request.headers, "x-amz-security-token", credentials.session_token);

  SignatureParts parts;
  const CanonicalHeaders ch = canonical_headers(request.headers);
  parts.canonical_request = canonical_request(request.method, url.path,
                                              canonical_query_string(url.query), ch,
                                              options.payload_hash);
  const std::string scope = credential_scope(date8, options.region, options.service);
  parts.string_to_sign = string_to_sign(datetime, scope, parts.canonical_request);
  parts.signature = signature_hex(
      signing_key(credentials.secret_key, date8, options.region, options.service),
      parts.string_to_sign);
  parts.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key + "/" + scope +
                        ", SignedHeaders=" + ch.signed_names + ", Signature=" + parts.signature;
  net::set_header(request.headers, "Authorization", parts.authorization);
  return parts;
}

}  // namespace arraymorph::s3
