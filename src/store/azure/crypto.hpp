// crypto.hpp -- the few encodings and MACs Azure Shared Key needs: base64 and HMAC-SHA256.
//
// Thin wrappers (HMAC over OpenSSL's one-shot HMAC()); kept apart from the signer so the signer
// stays a readable transcription of Azure's rules.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>

namespace arraymorph::azure {

// Standard alphabet, with '=' padding.
std::string base64_encode(const std::string& bytes);
// Strict standard-alphabet decode; whitespace is not allowed. nullopt on malformed input.
std::optional<std::string> base64_decode(const std::string& text);
// Raw 32-byte HMAC-SHA256 of `message` under `key`.
std::string hmac_sha256(const std::string& key, const std::string& message);

}  // namespace arraymorph::azure
