// test_s3_url.cpp -- endpoint resolution (AWS vs custom, TLS rules), addressing styles, key and
// query encoding.
#include <doctest/doctest.h>

#include "net/encoding.hpp"
#include "store/s3/s3_url.hpp"

using namespace arraymorph;
using namespace arraymorph::s3;

TEST_CASE("percent_encode: unreserved kept, everything else %XX upper-case") {
  CHECK(net::percent_encode("AZaz09-_.~", false) == "AZaz09-_.~");
  CHECK(net::percent_encode("a b", true) == "a%20b");
  CHECK(net::percent_encode("a/b", true) == "a/b");
  CHECK(net::percent_encode("a/b", false) == "a%2Fb");
  CHECK(net::percent_encode("+%=:", true) == "%2B%25%3D%3A");
  CHECK(net::percent_encode("$&,;@!*'()", true) == "%24%26%2C%3B%40%21%2A%27%28%29");
  CHECK(net::percent_encode("\xC3\xA9\xE2\x82\xAC", true) == "%C3%A9%E2%82%AC");  // "é€"
  CHECK(net::percent_encode("", true) == "");
}

TEST_CASE("encode_key covers the awkward characters of object keys") {
  CHECK(encode_key("demo.h5/x/c/0/1") == "demo.h5/x/c/0/1");
  CHECK(encode_key("my file.h5/zarr.json") == "my%20file.h5/zarr.json");
  CHECK(encode_key("a+b%c=d:e") == "a%2Bb%25c%3Dd%3Ae");
  CHECK(encode_key("d\xC3\xA9j\xC3\xA0/\xE6\x95\xB0") == "d%C3%A9j%C3%A0/%E6%95%B0");
}

TEST_CASE("encode_query keeps order, encodes values strictly") {
  CHECK(encode_query({{"list-type", "2"}, {"prefix", "a b/c"}, {"delimiter", "/"}}) ==
        "list-type=2&prefix=a%20b%2Fc&delimiter=%2F");
  CHECK(encode_query({{"uploads", ""}}) == "uploads=");
  CHECK(encode_query({{"continuation-token", "1/2+3="}}) == "continuation-token=1%2F2%2B3%3D");
}

TEST_CASE("AWS default endpoint: regional, https, whatever use_tls says") {
  S3Config c;
  c.region = "eu-west-1";
  c.use_tls = false;
  auto ep = resolve_endpoint(c);
  REQUIRE(ep.ok());
  CHECK(ep->scheme == "https");
  CHECK(ep->authority == "s3.eu-west-1.amazonaws.com");
  CHECK(ep->is_aws);
  CHECK(ep->verify_tls);
  CHECK(object_url(*ep, "bkt", "a b/c") == "https://s3.eu-west-1.amazonaws.com/bkt/a%20b/c");
  c.virtual_addressing = true;
  ep = resolve_endpoint(c);
  CHECK(object_url(*ep, "bkt", "a b/c") == "https://bkt.s3.eu-west-1.amazonaws.com/a%20b/c");
  CHECK(object_url(*ep, "bkt", "", {{"list-type", "2"}}) ==
        "https://bkt.s3.eu-west-1.amazonaws.com/?list-type=2");
}

TEST_CASE("explicit amazonaws.com endpoint is forced to https") {
  S3Config c;
  c.endpoint = "http://s3.us-west-2.amazonaws.com";
  c.use_tls = false;
  auto ep = resolve_endpoint(c);
  REQUIRE(ep.ok());
  CHECK(ep->scheme == "https");
  CHECK(ep->is_aws);
}

TEST_CASE("custom endpoint: http allowed, path style, port and base path kept") {
  S3Config c;
  c.endpoint = "http://127.0.0.1:8333";
  c.use_tls = false;
  auto ep = resolve_endpoint(c);
  REQUIRE(ep.ok());
  CHECK(ep->scheme == "http");
  CHECK_FALSE(ep->is_aws);
  CHECK(ep->describe() == "http://127.0.0.1:8333");
  CHECK(object_url(*ep, "b", "demo.h5/zarr.json") == "http://127.0.0.1:8333/b/demo.h5/zarr.json");
  CHECK(object_url(*ep, "b", "", {{"delete", ""}}) == "http://127.0.0.1:8333/b?delete=");
  c.endpoint = "https://minio.example.org:9000/s3/";
  c.use_tls = true;
  ep = resolve_endpoint(c);
  REQUIRE(ep.ok());
  CHECK(ep->scheme == "https");
  CHECK(object_url(*ep, "b", "k") == "https://minio.example.org:9000/s3/b/k");
  c.virtual_addressing = true;
  ep = resolve_endpoint(c);
  CHECK(object_url(*ep, "b", "k") == "https://b.minio.example.org:9000/s3/k");
}

TEST_CASE("endpoint without scheme follows use_tls") {
  S3Config c;
  c.endpoint = "localhost:9000";
  c.use_tls = false;
  CHECK(resolve_endpoint(c)->scheme == "http");
  c.use_tls = true;
  CHECK(resolve_endpoint(c)->scheme == "https");
}

TEST_CASE("bad endpoints name the variable") {
  S3Config c;
  c.endpoint = "ftp://x";
  auto ep = resolve_endpoint(c);
  REQUIRE_FALSE(ep.ok());
  CHECK(ep.status().code() == Code::kInvalidArgument);
  CHECK(ep.status().message().find("AWS_ENDPOINT_URL_S3") != std::string::npos);
  c.endpoint = "http://";
  CHECK_FALSE(resolve_endpoint(c).ok());
}
