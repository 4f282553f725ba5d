// strings.hpp -- the few ASCII string helpers the network code, the configuration and the
// drivers share (one copy of each: lower-casing, trimming, case-insensitive comparison).
//
// ASCII only on purpose: header names, config keys and endpoint hosts are ASCII; bytes >= 0x80
// are left as they are. Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace arraymorph::net {

// ASCII lower-case copy.
std::string ascii_lower(std::string s);
// Without leading/trailing spaces, tabs, CR and LF.
std::string trim(std::string_view s);
// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b);
// Trimmed, with every run of spaces, tabs, CR and LF inside replaced by one space (SigV4's
// "trimall", Azure Shared Key's "unfold" of header values).
std::string collapse_whitespace(std::string_view s);
// The first `max` bytes of a response body on one line, for error messages.
std::string excerpt(std::string_view s, size_t max = 120);

}  // namespace arraymorph::net
