// crypto.hpp -- the digests and MACs request signing and integrity checks need: SHA-256 (SigV4
// payload and canonical-request hashes), HMAC-SHA256 (SigV4 and Azure Shared Key) and MD5
// (Azure Content-MD5) over OpenSSL's libcrypto; CRC32C (S3 x-amz-checksum-crc32c) with the
// SSE4.2 instruction where the CPU has it (~10x MD5's speed), a table otherwise. One copy for
// both drivers.
//
// Secrets: a key is only ever an HMAC input here; nothing formats it into text.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace arraymorph::net {

// Lower-case hex SHA-256.
std::string sha256_hex(const unsigned char* data, size_t size);
std::string sha256_hex(const std::string& data);
// Raw 32-byte HMAC-SHA256 of `message` under `key`.
std::string hmac_sha256(const std::string& key, const std::string& message);
// Raw 16-byte MD5, and its base64 (the Content-MD5 header value).
std::string md5(const unsigned char* data, size_t size);
std::string md5_base64(const unsigned char* data, size_t size);
// MD5 of several pieces in order, base64 (a body received into several buffers).
using Piece = std::pair<const unsigned char*, size_t>;
std::string md5_base64(const std::vector<Piece>& pieces);
// CRC32C (Castagnoli), continuing from `crc` (0 to start), and the base64 of its 4 big-endian
// bytes (the x-amz-checksum-crc32c value).
uint32_t crc32c(const unsigned char* data, size_t size, uint32_t crc = 0);
std::string crc32c_base64(uint32_t crc);

}  // namespace arraymorph::net
