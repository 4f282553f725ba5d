// s3_url.cpp -- endpoint resolution and URL building for S3 (see s3_url.hpp).
#include "store/s3/s3_url.hpp"

#include <cctype>

#include "net/encoding.hpp"
#include "net/strings.hpp"

namespace arraymorph::s3 {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Host part of "host[:port]" (IPv6 literals keep their brackets).
std::string host_of(const std::string& authority) {
  if (!authority.empty() && authority[0] == '[') {
    const auto close = authority.find(']');
    return close == std::string::npos ? authority : authority.substr(0, close + 1);
  }
  return authority.substr(0, authority.find(':'));
}

}  // namespace

Result<S3Endpoint> resolve_endpoint(const S3Config& config) {
  S3Endpoint ep;
  ep.virtual_style = config.virtual_addressing;
  if (config.endpoint.empty()) {
    if (config.region.empty())
      return invalid_argument("AWS_REGION is empty: it is needed to reach AWS S3 (or set AWS_ENDPOINT_URL_S3)");
    ep.scheme = "https";
    ep.authority = "s3." + config.region + ".amazonaws.com";
    ep.is_aws = true;
    return ep;
  }
  std::string rest = config.endpoint;
  std::string scheme;
  const auto sep = rest.find("://");
  if (sep != std::string::npos) {
    scheme = net::ascii_lower(rest.substr(0, sep));
    rest = rest.substr(sep + 3);
    if (scheme != "http" && scheme != "https")
      return invalid_argument("AWS_ENDPOINT_URL_S3 must start with http:// or https:// (got scheme '" +
                              scheme + "')");
  }
  const auto slash = rest.find('/');
  ep.authority = rest.substr(0, slash);
  if (slash != std::string::npos) {
    ep.base_path = rest.substr(slash);
    while (!ep.base_path.empty() && ep.base_path.back() == '/') ep.base_path.pop_back();
  }
  if (ep.authority.empty() || ep.authority.find_first_of(" ?#@") != std::string::npos)
    return invalid_argument("AWS_ENDPOINT_URL_S3 is not a valid endpoint URL: '" + config.endpoint + "'");
  const std::string host = net::ascii_lower(host_of(ep.authority));
  ep.is_aws = ends_with(host, ".amazonaws.com") || host == "amazonaws.com";
  // AWS itself: always TLS with verification. Elsewhere the configured choice (use_tls already
  // reflects an explicit scheme unless AWS_USE_TLS overrode it).
  ep.scheme = ep.is_aws ? "https" : (config.use_tls ? "https" : "http");
  return ep;
}

std::string encode_key(const std::string& key) { return net::percent_encode(key, true); }

std::string encode_query(const QueryParams& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    out += net::percent_encode(k, false);
    out.push_back('=');
    out += net::percent_encode(v, false);
  }
  return out;
}

std::string object_url(const S3Endpoint& endpoint, const std::string& bucket,
                       const std::string& key, const QueryParams& query) {
  std::string url = endpoint.scheme + "://";
  if (endpoint.virtual_style) {
    url += bucket + "." + endpoint.authority + endpoint.base_path + "/" + encode_key(key);
  } else {
    url += endpoint.authority + endpoint.base_path + "/" + bucket;
    if (!key.empty()) url += "/" + encode_key(key);
  }
  if (!query.empty()) url += "?" + encode_query(query);
  return url;
}

}  // namespace arraymorph::s3
