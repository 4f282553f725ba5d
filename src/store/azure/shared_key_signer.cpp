// shared_key_signer.cpp -- see shared_key_signer.hpp for the rules transcribed here.
#include "store/azure/shared_key_signer.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <map>
#include <vector>

#include "net/crypto.hpp"
#include "net/encoding.hpp"
#include "net/strings.hpp"

namespace arraymorph::azure {

using net::base64_encode;
using net::hmac_sha256;
using net::percent_decode;

namespace {



std::string header_or_empty(const net::Headers& h, const char* name) {
  auto v = net::find_header(h, name);
  return v ? *v : std::string();
}

}  // namespace


std::string rfc1123_date(std::chrono::system_clock::time_point t) {
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  // Formatted by hand: strftime's %a/%b follow the C locale only if nobody called setlocale.
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string canonicalized_headers(const net::Headers& headers) {
  // std::map: sorted by lower-case name; repeated headers are joined with ',' (HTTP semantics).
  std::map<std::string, std::string> ms;
  for (const auto& [name, value] : headers) {
    std::string n = net::ascii_lower(name);
    if (n.rfind("x-ms-", 0) != 0) continue;
    auto [it, inserted] = ms.emplace(n, net::collapse_whitespace(value));
    if (!inserted) it->second += "," + net::collapse_whitespace(value);
  }
  std::string out;
  for (const auto& [n, v] : ms) out += n + ":" + v + "\n";
  return out;
}

std::string canonicalized_resource(const std::string& account, const std::string& url) {
  // Path: from the first '/' after "scheme://host[:port]" up to '?', exactly as sent (encoded).
  std::string path = "/";
  std::string query;
  const size_t scheme = url.find("://");
  const size_t host_start = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t qpos = url.find('?', host_start);
  const size_t slash = url.find('/', host_start);
  if (slash != std::string::npos && (qpos == std::string::npos || slash < qpos))
    path = url.substr(slash, (qpos == std::string::npos ? url.size() : qpos) - slash);
  if (qpos != std::string::npos) query = url.substr(qpos + 1);

  std::map<std::string, std::vector<std::string>> params;
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string item = query.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string name = net::ascii_lower(percent_decode(item.substr(0, eq)));
    const std::string value = eq == std::string::npos ? "" : percent_decode(item.substr(eq + 1));
    params[name].push_back(value);
  }
  std::string out = "/" + account + path;
  for (auto& [name, values] : params) {
    std::sort(values.begin(), values.end());
    out += "\n" + name + ":";
    for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + values[i];
  }
  return out;
}

std::string string_to_sign(const net::HttpRequest& request, const std::string& account) {
  const net::Headers& h = request.headers;
  // Content-Length: the header if set, else the body the transport will send. Since version
  // 2015-02-21 a zero length is signed as the empty string.
  std::string length = header_or_empty(h, "Content-Length");
  if (length.empty() && request.body_length() > 0) length = std::to_string(request.body_length());
  if (length == "0") length.clear();

  std::string s;
  s += request.method + "\n";
  s += header_or_empty(h, "Content-Encoding") + "\n";
  s += header_or_empty(h, "Content-Language") + "\n";
  s += length + "\n";
  s += header_or_empty(h, "Content-MD5") + "\n";
  s += header_or_empty(h, "Content-Type") + "\n";
  s += header_or_empty(h, "Date") + "\n";
  s += header_or_empty(h, "If-Modified-Since") + "\n";
  s += header_or_empty(h, "If-Match") + "\n";
  s += header_or_empty(h, "If-None-Match") + "\n";
  s += header_or_empty(h, "If-Unmodified-Since") + "\n";
  s += header_or_empty(h, "Range") + "\n";
  s += canonicalized_headers(h);
  s += canonicalized_resource(account, request.url);
  return s;
}

void sign_shared_key(net::HttpRequest& request, const std::string& account,
                     const std::string& decoded_key, std::chrono::system_clock::time_point now) {
  net::set_header(request.headers, "x-ms-date", rfc1123_date(now));
  const std::string signature =
      base64_encode(hmac_sha256(decoded_key, string_to_sign(request, account)));
  net::set_header(request.headers, "Authorization", "SharedKey " + account + ":" + signature);
}

}  // namespace arraymorph::azure
