// crypto.cpp -- see crypto.hpp.
#include "net/crypto.hpp"

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

}  // namespace arraymorph::net
