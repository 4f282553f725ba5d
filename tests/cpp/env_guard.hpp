// env_guard.hpp -- sets environment variables for one test and restores the previous values.
// Clears every variable arraymorph reads on construction so the caller's shell cannot leak in.
// Not thread-safe (setenv never is): use only in single-threaded test cases.
#pragma once

#include <cstdlib>
#include <map>
#include <optional>
#include <string>

namespace arraymorph::testing {

class EnvGuard {
 public:
  EnvGuard() {
    for (const char* name : kNames) {
      const char* v = std::getenv(name);
      saved_[name] = v ? std::optional<std::string>(v) : std::nullopt;
      ::unsetenv(name);
    }
  }
  ~EnvGuard() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

  void set(const char* name, const std::string& value) {
    if (!saved_.count(name)) {
      const char* v = std::getenv(name);
      saved_[name] = v ? std::optional<std::string>(v) : std::nullopt;
    }
    ::setenv(name, value.c_str(), 1);
  }

 private:
  static constexpr const char* kNames[] = {
      "STORAGE_PLATFORM", "BUCKET_NAME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_S3",
      "AWS_ENDPOINT_URL", "AWS_USE_TLS", "AWS_S3_ADDRESSING_STYLE", "AWS_SIGNED_PAYLOADS",
      "AWS_NO_SIGN_REQUEST", "AWS_CA_BUNDLE", "AWS_REQUEST_PAYER", "AZURE_STORAGE_CONNECTION_STRING",
      "AZURE_STORAGE_SAS_TOKEN", "ARRAYMORPH_LOCAL_ROOT", "ARRAYMORPH_THREADS",
      "ARRAYMORPH_MAX_INFLIGHT", "ARRAYMORPH_CACHE_BYTES", "ARRAYMORPH_CONNECT_TIMEOUT",
      "ARRAYMORPH_REQUEST_TIMEOUT", "ARRAYMORPH_RETRY_MAX_ATTEMPTS",
      "ARRAYMORPH_RETRY_INITIAL_BACKOFF", "ARRAYMORPH_RETRY_MAX_BACKOFF",
      "ARRAYMORPH_RETRY_TOTAL_TIMEOUT", "ARRAYMORPH_LOG_LEVEL", "ARRAYMORPH_FILE_LOCKING", "HDF5_USE_FILE_LOCKING",
      "ARRAYMORPH_CHUNK_CHECKSUM", "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_ACCOUNT_NAME",
      "ARRAYMORPH_AZURE_CREDENTIAL", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET",
      "AZURE_AUTHORITY_HOST", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_POD_IDENTITY_AUTHORITY_HOST",
      "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "ARRAYMORPH_AZURE_CA_BUNDLE"};
  std::map<std::string, std::optional<std::string>> saved_;
};

}  // namespace arraymorph::testing
