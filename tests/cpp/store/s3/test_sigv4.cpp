// test_sigv4.cpp -- the SigV4 signer against AWS's published worked examples.
//
// Sources: the four S3 examples of "Signature Calculations for the Authorization Header:
// Transferring Payload in a Single Chunk" (AKIAIOSFODNN7EXAMPLE, 2013-05-24) and cases of the
// generic aws-sig-v4-test-suite (AKIDEXAMPLE, 2015-08-30, service "service"). Every canonical
// request, string to sign and signature must match the published text exactly.
#include <doctest/doctest.h>

#include <string>

#include "net/encoding.hpp"
#include "store/s3/sigv4_signer.hpp"

using namespace arraymorph;
using namespace arraymorph::s3;

namespace {

constexpr std::time_t k20130524 = 1369353600;  // Fri, 24 May 2013 00:00:00 GMT
constexpr std::time_t k20150830T123600 = 1440938160;
const Credentials kDocCreds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "",
                            false};
const Credentials kSuiteCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", false};

SigningOptions doc_options(const std::string& payload_hash) {
  SigningOptions o;
  o.region = "us-east-1";
  o.service = "s3";
  o.now = k20130524;
  o.payload_hash = payload_hash;
  return o;
}

SigningOptions suite_options() {
  SigningOptions o;
  o.region = "us-east-1";
  o.service = "service";
  o.now = k20150830T123600;
  o.payload_hash = kEmptyPayloadSha256;
  o.content_sha256_header = false;
  return o;
}

}  // namespace

TEST_CASE("amz_date formats UTC") {
  CHECK(amz_date(k20130524) == "20130524T000000Z");
  CHECK(amz_date(k20150830T123600) == "20150830T123600Z");
}

TEST_CASE("sha256 and md5 helpers") {
  CHECK(sha256_hex("") == kEmptyPayloadSha256);
  CHECK(sha256_hex("Welcome to Amazon S3.") ==
        "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  CHECK(md5_base64(nullptr, 0) == "1B2M2Y8AsgTpgAmY7PhCfg==");
}

TEST_CASE("AWS example: GET Object (range, signed empty payload)") {
  net::HttpRequest r;
  r.method = "GET";
  r.url = "https://examplebucket.s3.amazonaws.com/test.txt";
  r.headers = {{"Range", "bytes=0-9"}};
  const auto parts = sign_request(r, kDocCreds, doc_options(kEmptyPayloadSha256));
  CHECK(parts.canonical_request ==
        "GET\n/test.txt\n\n"
        "host:examplebucket.s3.amazonaws.com\n"
        "range:bytes=0-9\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20130524T000000Z\n\n"
        "host;range;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(parts.string_to_sign ==
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  CHECK(parts.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  CHECK(parts.authorization ==
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  CHECK(net::find_header(r.headers, "authorization") == parts.authorization);
  CHECK(net::find_header(r.headers, "host") == "examplebucket.s3.amazonaws.com");
  CHECK(net::find_header(r.headers, "X-Amz-Date") == "20130524T000000Z");
}

TEST_CASE("AWS example: PUT Object (hashed payload, '$' in the key, Date header)") {
  const std::string body = "Welcome to Amazon S3.";
  net::HttpRequest r;
  r.method = "PUT";
  r.url = "https://examplebucket.s3.amazonaws.com/" + net::percent_encode("test$file.text", true);
  r.owned_body = body;
  r.headers = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  const auto parts = sign_request(r, kDocCreds, doc_options(sha256_hex(body)));
  CHECK(parts.canonical_request ==
        "PUT\n/test%24file.text\n\n"
        "date:Fri, 24 May 2013 00:00:00 GMT\n"
        "host:examplebucket.s3.amazonaws.com\n"
        "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
        "x-amz-date:20130524T000000Z\n"
        "x-amz-storage-class:REDUCED_REDUNDANCY\n\n"
        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
        "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  CHECK(parts.string_to_sign ==
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  CHECK(parts.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST_CASE("AWS example: GET Bucket Lifecycle (query without value)") {
  net::HttpRequest r;
  r.method = "GET";
  r.url = "https://examplebucket.s3.amazonaws.com/?lifecycle";
  const auto parts = sign_request(r, kDocCreds, doc_options(kEmptyPayloadSha256));
  CHECK(parts.canonical_request ==
        "GET\n/\nlifecycle=\n"
        "host:examplebucket.s3.amazonaws.com\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20130524T000000Z\n\n"
        "host;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(parts.string_to_sign ==
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  CHECK(parts.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST_CASE("AWS example: Get Bucket (List Objects), query parameters sorted") {
  net::HttpRequest r;
  r.method = "GET";
  r.url = "https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2";
  const auto parts = sign_request(r, kDocCreds, doc_options(kEmptyPayloadSha256));
  CHECK(parts.canonical_request ==
        "GET\n/\nmax-keys=2&prefix=J\n"
        "host:examplebucket.s3.amazonaws.com\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20130524T000000Z\n\n"
        "host;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(parts.string_to_sign ==
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  CHECK(parts.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST_CASE("aws-sig-v4-test-suite: get-vanilla") {
  net::HttpRequest r;
  r.method = "GET";
  r.url = "https://example.amazonaws.com/";
  const auto parts = sign_request(r, kSuiteCreds, suite_options());
  CHECK(parts.canonical_request ==
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(parts.string_to_sign ==
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  CHECK(parts.signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  CHECK(parts.authorization ==
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST_CASE("aws-sig-v4-test-suite: get-vanilla-query-order-key-case") {
  net::HttpRequest r;
  r.method = "GET";
  r.url = "https://example.amazonaws.com/?Param2=value2&Param1=value1";
  const auto parts = sign_request(r, kSuiteCreds, suite_options());
  CHECK(parts.canonical_request ==
        "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n"
        "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(parts.signature == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST_CASE("aws-sig-v4-test-suite: get-utf8 (canonical URI keeps the encoded path)") {
  net::HttpRequest r;
  r.method = "GET";
  r.url = "https://example.amazonaws.com/" + net::percent_encode("\xE1\x88\xB4", true);
  const auto parts = sign_request(r, kSuiteCreds, suite_options());
  CHECK(parts.canonical_request ==
        "GET\n/%E1%88%B4\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
        "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(parts.signature == "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
}

TEST_CASE("aws-sig-v4-test-suite: get-header-value-trim") {
  net::HttpRequest r;
  r.method = "GET";
  r.url = "https://example.amazonaws.com/";
  r.headers = {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}};
  const auto parts = sign_request(r, kSuiteCreds, suite_options());
  CHECK(parts.canonical_request ==
        "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
        "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(parts.signature == "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
}

TEST_CASE("steps compose: signing key and signature of the GET example") {
  const std::string key = signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524",
                                      "us-east-1", "s3");
  CHECK(key.size() == 32);
  CHECK(signature_hex(key,
                      "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                      "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972") ==
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE("session token is signed; unsigned payload; re-signing replaces headers") {
  Credentials c = kDocCreds;
  c.session_token = "token/with+chars=";
  net::HttpRequest r;
  r.method = "GET";
  r.url = "http://127.0.0.1:8333/bucket/a%20b";
  auto o = doc_options(kUnsignedPayload);
  const auto p1 = sign_request(r, c, o);
  CHECK(net::find_header(r.headers, "x-amz-security-token") == "token/with+chars=");
  CHECK(net::find_header(r.headers, "x-amz-content-sha256") == "UNSIGNED-PAYLOAD");
  CHECK(net::find_header(r.headers, "Host") == "127.0.0.1:8333");
  CHECK(p1.canonical_request.find("x-amz-security-token:token/with+chars=\n") != std::string::npos);
  CHECK(p1.canonical_request.find("\n/bucket/a%20b\n") != std::string::npos);
  CHECK(p1.canonical_request.substr(p1.canonical_request.size() - 16) == "UNSIGNED-PAYLOAD");
  o.now += 60;  // a retry one minute later
  const auto p2 = sign_request(r, c, o);
  CHECK(p2.signature != p1.signature);
  size_t auth_headers = 0;
  for (const auto& h : r.headers) auth_headers += h.first == "Authorization";
  CHECK(auth_headers == 1);
  CHECK(net::find_header(r.headers, "x-amz-date") == "20130524T000100Z");
}

TEST_CASE("anonymous credentials leave the request unsigned") {
  Credentials anon;
  anon.anonymous = true;
  net::HttpRequest r;
  r.url = "https://bucket.s3.us-east-2.amazonaws.com/key";
  const auto parts = sign_request(r, anon, doc_options(kUnsignedPayload));
  CHECK(parts.signature.empty());
  CHECK_FALSE(net::find_header(r.headers, "Authorization").has_value());
  CHECK(net::find_header(r.headers, "Host") == "bucket.s3.us-east-2.amazonaws.com");
}

TEST_CASE("canonical query re-encodes and sorts") {
  CHECK(canonical_query_string("") == "");
  CHECK(canonical_query_string("uploads") == "uploads=");
  CHECK(canonical_query_string("prefix=a%2Fb&list-type=2&delimiter=%2F") ==
        "delimiter=%2F&list-type=2&prefix=a%2Fb");
  CHECK(canonical_query_string("continuation-token=ab%2B%3D&x=a b") ==
        "continuation-token=ab%2B%3D&x=a%20b");
  CHECK(canonical_query_string("b=2&a=2&a=1") == "a=1&a=2&b=2");
}
