// test_encoding.cpp -- the one copy of base64, hex, percent-coding (src/net/encoding), the
// digests (src/net/crypto) and the string helpers (src/net/strings).
#include <doctest/doctest.h>

#include "net/crypto.hpp"
#include "net/encoding.hpp"
#include "net/strings.hpp"

using namespace arraymorph::net;

TEST_CASE("base64 and HMAC-SHA256 primitives") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_decode("Zm9vYg==").value() == "foob");
  CHECK(base64_decode("Zm9vYmE=").value() == "fooba");
  CHECK_FALSE(base64_decode("Zm9v YmE=").has_value());
  CHECK_FALSE(base64_decode("Zm9=vYmE").has_value());
  CHECK_FALSE(base64_decode("abc").has_value());
  // RFC 4231 test case 2.
  CHECK(base64_encode(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
        "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
  CHECK(percent_decode("a%2Fb%20c%zz%4") == "a/b c%zz%4");
}

TEST_CASE("base64 of raw bytes, hex, percent-encoding") {
  const unsigned char bytes[] = {0x00, 0xff, 0x10};
  CHECK(base64_encode(bytes, 3) == "AP8Q");
  CHECK(base64_encode(bytes, 2) == "AP8=");
  CHECK(hex_encode(std::string("\x00\xab", 2)) == "00ab");
  CHECK(percent_encode("a b/c~", true) == "a%20b/c~");
  CHECK(percent_encode("a b/c~", false) == "a%20b%2Fc~");
  CHECK(percent_decode(percent_encode("\xC3\xA9 /?&=", false)) == "\xC3\xA9 /?&=");
}

TEST_CASE("SHA-256 and MD5 digests") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(md5_base64(nullptr, 0) == "1B2M2Y8AsgTpgAmY7PhCfg==");
  CHECK(md5(reinterpret_cast<const unsigned char*>("abc"), 3).size() == 16);
}

TEST_CASE("string helpers") {
  CHECK(ascii_lower("AbC-\xC3\x89") == "abc-\xC3\x89");
  CHECK(trim(" \t x y \r\n") == "x y");
  CHECK(trim("") == "");
  CHECK(iequals("Content-Length", "content-length"));
  CHECK_FALSE(iequals("a", "ab"));
}
