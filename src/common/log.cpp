// log.cpp -- see log.hpp.
#include "common/log.hpp"

#include "net/strings.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace arraymorph::log {
namespace {

constexpr int kUnset = -1;
std::atomic<int> g_level{kUnset};
std::atomic<Sink> g_sink{nullptr};

std::mutex& write_mutex() {
  static std::mutex* mu = new std::mutex();  // leaked: logging may run from atexit handlers
  return *mu;
}

// Where a secret value ends: at a delimiter of the syntax it appears in.
bool ends_value(char c, bool header) {
  if (header) return c == '\r' || c == '\n';
  return c == '&' || c == ';' || c == ',' || c == '"' || c == '\'' || c == ' ' || c == '\t' ||
         c == '\r' || c == '\n' || c == '>' || c == '<';
}

struct Marker {
  const char* text;  // lower case
  bool header;       // value runs to the end of the line
};

constexpr Marker kMarkers[] = {
    {"sig=", false},
    {"x-amz-signature=", false},
    {"x-amz-security-token=", false},
    {"x-amz-credential=", false},
    {"accountkey=", false},
    {"sharedaccesssignature=", false},
    {"client_secret=", false},
    {"client_assertion=", false},
    {"bearer ", false},
    {"authorization:", true},
    {"x-identity-header:", true},
    {"x-amz-security-token:", true},
};

}  // namespace

Result<Level> parse_level(const std::string& name, const std::string& value) {
  std::string v = net::ascii_lower(value);
  v.erase(std::remove_if(v.begin(), v.end(), [](unsigned char c) { return std::isspace(c); }), v.end());
  if (v == "error") return Level::kError;
  if (v == "warn" || v == "warning") return Level::kWarning;
  if (v == "info") return Level::kInfo;
  if (v == "debug") return Level::kDebug;
  return invalid_argument(name + ": invalid value '" + value + "' (expected one of error, warn, info, debug)");
}

const char* level_name(Level level) noexcept {
  switch (level) {
    case Level::kError: return "ERROR";
    case Level::kWarning: return "WARNING";
    case Level::kInfo: return "INFO";
    case Level::kDebug: return "DEBUG";
  }
  return "?";
}

Level level() noexcept {
  int l = g_level.load(std::memory_order_relaxed);
  if (l != kUnset) return static_cast<Level>(l);
  Level initial = Level::kWarning;
  const char* env = std::getenv("ARRAYMORPH_LOG_LEVEL");
  bool bad = false;
  if (env != nullptr && *env != '\0') {
    auto parsed = parse_level("ARRAYMORPH_LOG_LEVEL", env);
    if (parsed.ok()) initial = parsed.value();
    else bad = true;
  }
  int expected = kUnset;
  g_level.compare_exchange_strong(expected, static_cast<int>(initial));
  if (bad) write(Level::kWarning, "log", "ARRAYMORPH_LOG_LEVEL: unknown level, using warning");
  return static_cast<Level>(g_level.load(std::memory_order_relaxed));
}

void set_level(Level level) noexcept { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }

std::string redact(std::string_view text) {
  const std::string low = net::ascii_lower(std::string(text));
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const Marker* hit = nullptr;
    for (const Marker& m : kMarkers) {
      if (low.compare(i, std::char_traits<char>::length(m.text), m.text) == 0) {
        hit = &m;
        break;
      }
    }
    if (hit == nullptr) {
      out += text[i++];
      continue;
    }
    const size_t n = std::char_traits<char>::length(hit->text);
    out.append(text.substr(i, n));
    i += n;
    if (hit->header) {  // keep the space after "Authorization:"
      while (i < text.size() && text[i] == ' ') out += text[i++];
    }
    size_t j = i;
    while (j < text.size() && !ends_value(text[j], hit->header)) ++j;
    if (j > i) out += "REDACTED";
    i = j;
  }
  return out;
}

void write(Level level, std::string_view component, const std::string& message) {
  std::string line = "arraymorph[" + std::to_string(static_cast<long>(::getpid())) + "] " +
                     level_name(level) + " " + std::string(component) + ": " + redact(message);
  // One event is one line: a message with embedded newlines (a server body) stays on it.
  std::replace(line.begin(), line.end(), '\n', ' ');
  std::replace(line.begin(), line.end(), '\r', ' ');
  line += '\n';
  std::lock_guard<std::mutex> lock(write_mutex());
  if (Sink sink = g_sink.load()) {
    sink(line);
    return;
  }
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

void set_sink_for_testing(Sink sink) noexcept { g_sink.store(sink); }

}  // namespace arraymorph::log
