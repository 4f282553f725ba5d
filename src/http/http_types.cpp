// http_types.cpp -- header lookup and RFC 3986 percent-encoding for the HTTP value types.
#include "http/http_types.hpp"

#include <cctype>  // tolower on ASCII header names

namespace arraymorph::http {

namespace {

bool iequals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> find_header(const Headers& headers, const std::string& name) {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return std::nullopt;
}

void set_header(Headers& headers, const std::string& name, std::string value) {
  Headers kept;
  kept.reserve(headers.size() + 1);
  for (auto& h : headers) {
    if (!iequals(h.first, name)) kept.push_back(std::move(h));
  }
  kept.emplace_back(name, std::move(value));
  headers = std::move(kept);
}

std::string uri_encode(const std::string& s, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3 / 2);
  for (unsigned char c : s) {
    // Unreserved set of RFC 3986 (what SigV4 requires); everything else, including the bytes of
    // UTF-8 sequences, is %XX with upper-case hex.
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

}  // namespace arraymorph::http
