// crypto.hpp -- the digests and MACs request signing and integrity checks need, over OpenSSL's
// libcrypto: SHA-256 (SigV4 payload and canonical-request hashes), HMAC-SHA256 (SigV4 and Azure
// Shared Key), MD5 (Content-MD5). One copy for both drivers.
//
// Secrets: a key is only ever an HMAC input here; nothing formats it into text.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>

namespace arraymorph::net {

// Lower-case hex SHA-256.
std::string sha256_hex(const unsigned char* data, size_t size);
std::string sha256_hex(const std::string& data);
// Raw 32-byte HMAC-SHA256 of `message` under `key`.
std::string hmac_sha256(const std::string& key, const std::string& message);
// Raw 16-byte MD5, and its base64 (the Content-MD5 header value).
std::string md5(const unsigned char* data, size_t size);
std::string md5_base64(const unsigned char* data, size_t size);

}  // namespace arraymorph::net
