// connection_string.cpp -- see connection_string.hpp.
#include "store/azure/connection_string.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "net/encoding.hpp"
#include "net/strings.hpp"

namespace arraymorph::azure {

using net::base64_decode;

namespace {

constexpr const char* kVar = "AZURE_STORAGE_CONNECTION_STRING";


using net::trim;

Status bad(const std::string& what) { return invalid_argument(std::string(kVar) + ": " + what); }

}  // namespace

std::string account_from_endpoint(const std::string& blob_endpoint) {
  const size_t scheme = blob_endpoint.find("://");
  if (scheme == std::string::npos) return {};
  const size_t host_start = scheme + 3;
  const size_t slash = blob_endpoint.find('/', host_start);
  const std::string host = blob_endpoint.substr(host_start, slash == std::string::npos
                                                                ? std::string::npos
                                                                : slash - host_start);
  if (slash != std::string::npos && slash + 1 < blob_endpoint.size()) {
    const std::string path = blob_endpoint.substr(slash + 1);
    return path.substr(0, path.find('/'));
  }
  const size_t dot = host.find(".blob.");
  return dot == std::string::npos ? std::string() : host.substr(0, dot);
}

std::string normalize_sas(const std::string& token) {
  std::string t = trim(token);
  if (!t.empty() && t.front() == '?') t.erase(0, 1);
  return t;
}

std::string append_sas(const std::string& url, const std::string& sas_token) {
  const std::string sas = normalize_sas(sas_token);
  if (sas.empty()) return url;
  return url + (url.find('?') == std::string::npos ? '?' : '&') + sas;
}

Result<ConnectionInfo> parse_connection_string(const std::string& text) {
  if (trim(text).empty()) return bad("is empty (expected AccountName=...;AccountKey=...)");

  // Keyed by lower-case name; values keep their case (keys and SAS are case-sensitive).
  std::map<std::string, std::string> fields;
  size_t index = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(';', start);
    if (end == std::string::npos) end = text.size();
    const std::string segment = trim(text.substr(start, end - start));
    start = end + 1;
    ++index;
    if (segment.empty()) continue;  // "a=b;;c=d" and a trailing ';' are common and harmless
    const size_t eq = segment.find('=');
    // The segment itself is not printed: it may be a secret that lost its "AccountKey=".
    if (eq == std::string::npos || eq == 0)
      return bad("segment " + std::to_string(index) + " is not of the form Key=Value");
    fields[net::ascii_lower(trim(segment.substr(0, eq)))] = trim(segment.substr(eq + 1));
  }
  auto field = [&](const char* name) -> std::string {
    auto it = fields.find(name);
    return it == fields.end() ? std::string() : it->second;
  };

  ConnectionInfo info;
  if (net::ascii_lower(field("usedevelopmentstorage")) == "true") {
    // Azurite's documented defaults; an explicit BlobEndpoint below still wins.
    info.account = kDevStoreAccount;
    info.account_key = *base64_decode(kDevStoreKey);
    info.blob_endpoint = std::string("http://127.0.0.1:10000/") + kDevStoreAccount;
    info.use_tls = false;
  }
  if (!field("accountname").empty()) info.account = field("accountname");

  const std::string key = field("accountkey");
  if (!key.empty()) {
    auto decoded = base64_decode(key);
    if (!decoded || decoded->empty()) return bad("AccountKey is not valid base64");
    info.account_key = std::move(*decoded);
  }
  const std::string sas = field("sharedaccesssignature");
  if (!sas.empty()) info.sas_token = normalize_sas(sas);

  const std::string endpoint = field("blobendpoint");
  if (!endpoint.empty()) {
    const std::string l = net::ascii_lower(endpoint);
    if (l.rfind("https://", 0) == 0) {
      info.use_tls = true;
    } else if (l.rfind("http://", 0) == 0) {
      info.use_tls = false;
    } else {
      return bad("BlobEndpoint must start with http:// or https://");
    }
    info.blob_endpoint = endpoint;
    while (!info.blob_endpoint.empty() && info.blob_endpoint.back() == '/')
      info.blob_endpoint.pop_back();
  } else if (info.blob_endpoint.empty()) {
    if (info.account.empty())
      return bad("AccountName is missing (or give BlobEndpoint, or UseDevelopmentStorage=true)");
    std::string protocol = net::ascii_lower(field("defaultendpointsprotocol"));
    if (protocol.empty()) protocol = "https";
    if (protocol != "https" && protocol != "http")
      return bad("DefaultEndpointsProtocol must be http or https");
    std::string suffix = field("endpointsuffix");
    if (suffix.empty()) suffix = "core.windows.net";
    info.use_tls = protocol == "https";
    info.blob_endpoint = protocol + "://" + info.account + ".blob." + suffix;
  }

  // Shared Key signs with the account name, so a key without a name cannot be used.
  if (!info.account_key.empty() && info.account.empty())
    return bad("AccountName is missing (required with AccountKey)");
  return info;
}

}  // namespace arraymorph::azure
