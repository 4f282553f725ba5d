// crypto.cpp -- see crypto.hpp.
#include "net/crypto.hpp"

#include <array>
#include <cstring>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "net/encoding.hpp"

namespace arraymorph::net {
namespace {
std::string digest(const EVP_MD* md, const unsigned char* data, size_t size) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data, size, out, &len, md, nullptr);
  return std::string(reinterpret_cast<const char*>(out), len);
}
}  // namespace

std::string sha256_hex(const unsigned char* data, size_t size) {
  return hex_encode(digest(EVP_sha256(), data, size));
}

std::string sha256_hex(const std::string& data) {
  return sha256_hex(reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

std::string hmac_sha256(const std::string& key, const std::string& message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string md5(const unsigned char* data, size_t size) { return digest(EVP_md5(), data, size); }

std::string md5_base64(const unsigned char* data, size_t size) {
  return base64_encode(md5(data, size));
}

std::string md5_base64(const std::vector<Piece>& pieces) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  for (const auto& [p, n] : pieces) EVP_DigestUpdate(ctx, p, n);
  EVP_DigestFinal_ex(ctx, out, &len);
  EVP_MD_CTX_free(ctx);
  return base64_encode(out, len);
}

namespace {

uint32_t crc32c_table(const unsigned char* p, size_t n, uint32_t crc) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("sse4.2"))) uint32_t crc32c_sse42(const unsigned char* p, size_t n,
                                                         uint32_t crc) {
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return c32;
}
bool have_sse42() {
  static const bool yes = __builtin_cpu_supports("sse4.2");
  return yes;
}
#endif

}  // namespace

uint32_t crc32c(const unsigned char* data, size_t size, uint32_t crc) {
  crc = ~crc;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (have_sse42()) return ~crc32c_sse42(data, size, crc);
#endif
  return ~crc32c_table(data, size, crc);
}

std::string crc32c_base64(uint32_t crc) {
  const unsigned char be[4] = {static_cast<unsigned char>(crc >> 24),
                               static_cast<unsigned char>(crc >> 16),
                               static_cast<unsigned char>(crc >> 8), static_cast<unsigned char>(crc)};
  return base64_encode(be, 4);
}

}  // namespace arraymorph::net
