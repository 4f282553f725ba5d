// log.hpp -- the connector's diagnostic log: one line per event on stderr.
//
// Level threshold: ARRAYMORPH_LOG_LEVEL (error | warn | warning | info | debug, default warning),
// read at first use and updated by every file open from the effective configuration (so
// arraymorph.configure(log_level="debug") applies to the next open). What each level carries:
//   error    failures the caller cannot see otherwise (a close that failed at process exit);
//   warning  degraded but correct operation (stale consolidated metadata ignored, a re-fetch);
//   info     file open/close, lock taken/released;
//   debug    each request and retry, checksum failures, each step of the metadata commit.
//
// Every message passes through redact() before it is written, so a URL with a SAS signature or a
// header dump can never print a secret, whoever formats the message.
//
// Usage (the message expression is only evaluated when the level is enabled):
//   AM_LOG(kDebug, "commit", "root zarr.json written, " << n << " nodes");
//
// Thread-safety: every function may be called from any thread; a line is written with one
// fwrite under a mutex, so lines of concurrent threads never interleave.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace arraymorph::log {

enum class Level { kError = 0, kWarning = 1, kInfo = 2, kDebug = 3 };

// Parses a level name ("warn" and "warning" are the same); `name` is used in the error.
Result<Level> parse_level(const std::string& name, const std::string& value);
const char* level_name(Level level) noexcept;

// The current threshold (initialised from ARRAYMORPH_LOG_LEVEL on first use; a malformed value
// there keeps the default and is reported once as a warning).
Level level() noexcept;
void set_level(Level level) noexcept;
inline bool enabled(Level l) noexcept { return static_cast<int>(l) <= static_cast<int>(level()); }

// Replaces the values of credentials in free text by "REDACTED": query parameters sig=,
// X-Amz-Signature=, X-Amz-Security-Token=, X-Amz-Credential=; "Authorization:",
// "x-amz-security-token:" and "X-IDENTITY-HEADER:" header values; AccountKey= and
// SharedAccessSignature= fields of Azure connection strings; OAuth form fields client_secret= and
// client_assertion=; the word after "Bearer ". Matching is case-insensitive.
std::string redact(std::string_view text);

// Writes "arraymorph[pid] LEVEL component: message" (redacted) to stderr, or to the sink
// installed by set_sink_for_testing.
void write(Level level, std::string_view component, const std::string& message);

// Tests: capture lines instead of writing them to stderr (nullptr restores stderr).
using Sink = void (*)(const std::string& line);
void set_sink_for_testing(Sink sink) noexcept;

}  // namespace arraymorph::log

#define AM_LOG(lvl, component, expr)                                                    \
  do {                                                                                  \
    if (::arraymorph::log::enabled(::arraymorph::log::Level::lvl)) {                    \
      std::ostringstream am_log_stream_;                                                \
      am_log_stream_ << expr;                                                           \
      ::arraymorph::log::write(::arraymorph::log::Level::lvl, component, am_log_stream_.str()); \
    }                                                                                   \
  } while (0)
