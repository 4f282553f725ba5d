// s3_credentials.hpp -- where S3 credentials come from, in one place.
//
// Precedence (as the AWS CLI): AWS_NO_SIGN_REQUEST (anonymous, for public buckets) > keys in the
// configuration (configure_s3(...) or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
// AWS_SESSION_TOKEN, already read into S3Config by Config::from_env) > the profile named by
// AWS_PROFILE (or "default") in the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or
// ~/.aws/credentials), then in the config file (AWS_CONFIG_FILE or ~/.aws/config, sections
// "[profile name]" or "[default]"). Missing credentials are an error naming the variables to
// set; messages never contain a key or secret.
//
// Thread-safety: pure functions; the environment is read through the injected lookup.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "arraymorph/config.hpp"
#include "arraymorph/status.hpp"
#include "store/s3/sigv4_signer.hpp"

namespace arraymorph::s3 {

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
// getenv, with empty values treated as unset.
EnvLookup process_env();

// INI as the AWS files use it: "[section]" headers, "key = value" lines, '#'/';' comments.
using IniFile = std::map<std::string, std::map<std::string, std::string>>;
IniFile parse_ini(const std::string& text);

Result<Credentials> resolve_credentials(const S3Config& config, const EnvLookup& env);

}  // namespace arraymorph::s3
