// s3_credentials.cpp -- credential precedence and the ~/.aws file readers (see the header).
#include "store/s3/s3_credentials.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "net/strings.hpp"

namespace arraymorph::s3 {

namespace {

using net::trim;

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Credentials of `section` in `file`, when it has at least a key id and a secret.
std::optional<Credentials> from_section(const IniFile& file, const std::string& section) {
  const auto it = file.find(section);
  if (it == file.end()) return std::nullopt;
  const auto& kv = it->second;
  const auto id = kv.find("aws_access_key_id");
  const auto secret = kv.find("aws_secret_access_key");
  if (id == kv.end() || secret == kv.end() || id->second.empty() || secret->second.empty())
    return std::nullopt;
  Credentials c;
  c.access_key = id->second;
  c.secret_key = secret->second;
  const auto token = kv.find("aws_session_token");
  if (token != kv.end()) c.session_token = token->second;
  return c;
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v || !*v) return std::nullopt;
    return std::string(v);
  };
}

IniFile parse_ini(const std::string& text) {
  IniFile out;
  std::string section;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trim(line.substr(1, line.size() - 2));
      out[section];
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos || section.empty()) continue;
    out[section][trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  return out;
}

Result<Credentials> resolve_credentials(const S3Config& config, const EnvLookup& env) {
  if (config.anonymous) {
    Credentials c;
    c.anonymous = true;
    return c;
  }
  if (!config.access_key.empty() || !config.secret_key.empty()) {
    if (config.access_key.empty())
      return invalid_argument("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
    if (config.secret_key.empty())
      return invalid_argument("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    return Credentials{config.access_key, config.secret_key, config.session_token, false};
  }
  const auto profile_env = env("AWS_PROFILE");
  const std::string profile = profile_env.value_or("default");
  const std::string home = env("HOME").value_or("");
  const std::string cred_path =
      env("AWS_SHARED_CREDENTIALS_FILE").value_or(home.empty() ? "" : home + "/.aws/credentials");
  const std::string conf_path =
      env("AWS_CONFIG_FILE").value_or(home.empty() ? "" : home + "/.aws/config");
  if (!cred_path.empty()) {
    if (auto text = read_file(cred_path)) {
      if (auto c = from_section(parse_ini(*text), profile)) return *c;
    }
  }
  if (!conf_path.empty()) {
    if (auto text = read_file(conf_path)) {
      const IniFile ini = parse_ini(*text);
      if (auto c = from_section(ini, "profile " + profile)) return *c;
      if (auto c = from_section(ini, profile)) return *c;
    }
  }
  if (profile_env)
    return invalid_argument("AWS_PROFILE names profile '" + profile + "' but it has no "
                            "aws_access_key_id/aws_secret_access_key in " + cred_path + " or " +
                            conf_path);
  return invalid_argument(
      "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or call "
      "arraymorph.configure_s3), configure a profile in ~/.aws/credentials (AWS_PROFILE), or set "
      "AWS_NO_SIGN_REQUEST=true for a public bucket");
}

}  // namespace arraymorph::s3
