// log.hpp: level parsing, threshold, redaction of every secret form, one line per event.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/log.hpp"

using namespace arraymorph;

namespace {
std::vector<std::string> g_lines;
void capture(const std::string& line) { g_lines.push_back(line); }

struct Capture {
  log::Level saved = log::level();
  Capture() {
    g_lines.clear();
    log::set_sink_for_testing(capture);
  }
  ~Capture() {
    log::set_sink_for_testing(nullptr);
    log::set_level(saved);
  }
};
}  // namespace

TEST_CASE("levels parse by name, warn and warning are one") {
  CHECK(log::parse_level("X", "warn").value() == log::Level::kWarning);
  CHECK(log::parse_level("X", "Warning").value() == log::Level::kWarning);
  CHECK(log::parse_level("X", "DEBUG").value() == log::Level::kDebug);
  auto bad = log::parse_level("ARRAYMORPH_LOG_LEVEL", "chatty");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("ARRAYMORPH_LOG_LEVEL") != std::string::npos);
}

TEST_CASE("the threshold filters, and the message is not built when filtered") {
  Capture cap;
  log::set_level(log::Level::kWarning);
  int evaluated = 0;
  auto count = [&] { return ++evaluated; };
  AM_LOG(kDebug, "test", "hidden " << count());
  AM_LOG(kWarning, "test", "shown " << count());
  REQUIRE(g_lines.size() == 1);
  CHECK(evaluated == 1);
  CHECK(g_lines[0].find("WARNING test: shown 1") != std::string::npos);
  log::set_level(log::Level::kDebug);
  AM_LOG(kDebug, "test", "now shown");
  CHECK(g_lines.size() == 2);
}

TEST_CASE("secrets are redacted in every form") {
  const std::string sas = "https://acct.blob.core.windows.net/c/k?sv=2021&se=2030&sp=rw&sig=abc%2Bdef%3D";
  std::string r = log::redact(sas);
  CHECK(r.find("abc") == std::string::npos);
  CHECK(r.find("sig=REDACTED") != std::string::npos);
  CHECK(r.find("sp=rw") != std::string::npos);  // the rest survives

  r = log::redact("GET /b/k?X-Amz-Credential=AKIA%2F2024&X-Amz-Signature=deadbeef&X-Amz-Security-Token=tok HTTP/1.1");
  CHECK(r.find("AKIA") == std::string::npos);
  CHECK(r.find("deadbeef") == std::string::npos);
  CHECK(r.find("tok ") == std::string::npos);

  r = log::redact("Authorization: AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=ff\nx-amz-date: 1");
  CHECK(r.find("Signature=ff") == std::string::npos);
  CHECK(r.find("x-amz-date: 1") != std::string::npos);

  r = log::redact("x-amz-security-token: SECRET\r\nhost: h");
  CHECK(r.find("SECRET") == std::string::npos);

  r = log::redact("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vd==;BlobEndpoint=x");
  CHECK(r.find("Eby8vd") == std::string::npos);
  CHECK(r.find("AccountName=devstoreaccount1") != std::string::npos);
  CHECK(log::redact("SharedAccessSignature=sv=1&sig=zz").find("zz") == std::string::npos);
}

TEST_CASE("a written line is redacted and on one line") {
  Capture cap;
  log::set_level(log::Level::kDebug);
  AM_LOG(kDebug, "http", "GET k?sig=SECRET\nbody");
  REQUIRE(g_lines.size() == 1);
  CHECK(g_lines[0].find("SECRET") == std::string::npos);
  CHECK(g_lines[0].find('\n') == g_lines[0].size() - 1);
  CHECK(g_lines[0].rfind("arraymorph[", 0) == 0);
}
