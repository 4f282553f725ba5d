// http_types.cpp -- case-insensitive header lookup for the HTTP value types.
#include "net/http_types.hpp"

#include "net/strings.hpp"

namespace arraymorph::net {


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


}  // namespace arraymorph::net
