// test_integrity.cpp -- checking a received body against a returned checksum (src/net/integrity,
// src/net/crypto's CRC32C): owned bodies, zero-copy destinations that tile the body, and
// destinations with gaps (not checkable: skipped).
#include <doctest/doctest.h>

#include <string>

#include "net/crypto.hpp"
#include "net/integrity.hpp"

using namespace arraymorph;
using namespace arraymorph::net;

TEST_CASE("CRC32C check value and continuation") {
  const std::string s = "123456789";
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  CHECK(crc32c(p, s.size()) == 0xE3069283u);
  CHECK(crc32c(p + 4, 5, crc32c(p, 4)) == 0xE3069283u);
  CHECK(crc32c_base64(0xE3069283u) == "4waSgw==");
  std::string big(100003, 'x');
  big[77777] = 'y';
  const auto* q = reinterpret_cast<const unsigned char*>(big.data());
  CHECK(crc32c(q + 50000, big.size() - 50000, crc32c(q, 50000)) == crc32c(q, big.size()));
}

TEST_CASE("owned bodies and tiling destinations are checked; gaps are skipped") {
  HttpResponse r;
  r.status = 200;
  const std::string s = "123456789";
  r.body.assign(s.begin(), s.end());
  CHECK(check_crc32c(r, nullptr, "4waSgw==").empty());
  CHECK(check_md5(r, nullptr, "JfnnlDI7RTiF9RgfG2JNCw==").empty());
  r.body[3] ^= 1;
  CHECK(check_crc32c(r, nullptr, "4waSgw==").find("crc32c") != std::string::npos);
  CHECK(check_md5(r, nullptr, "JfnnlDI7RTiF9RgfG2JNCw==").find("Content-MD5") != std::string::npos);

  unsigned char a[4], b[5];
  std::copy(s.begin(), s.begin() + 4, a);
  std::copy(s.begin() + 4, s.end(), b);
  GetDestination dest{9, {DestSpan{0, a, 4}, DestSpan{4, b, 5}}};
  HttpResponse z;
  z.status = 200;
  z.into_dest = true;
  z.dest_bytes = 9;
  CHECK(check_crc32c(z, &dest, "4waSgw==").empty());
  b[0] ^= 1;
  CHECK_FALSE(check_crc32c(z, &dest, "4waSgw==").empty());
  GetDestination gappy{9, {DestSpan{0, a, 4}, DestSpan{5, b, 4}}};
  CHECK(check_crc32c(z, &gappy, "4waSgw==").empty());  // byte 4 was dropped: cannot check
}
