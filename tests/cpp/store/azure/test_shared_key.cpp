// Shared Key signing (src/store/azure/shared_key_signer): the string-to-sign layout and
// canonicalization examples published in Azure's "Authorize with Shared Key" page, and full
// signatures.
//
// Azure's page gives strings to sign but no signature computed with a published key, so the
// expected signatures below were computed independently with Python's standard library, using
// the emulator's published well-known key (not a secret):
//   key = base64.b64decode("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==")
//   base64.b64encode(hmac.new(key, string_to_sign.encode(), hashlib.sha256).digest())
// with string_to_sign exactly as written in each test. Azurite accepting our requests
// (tests/python/test_azure_store.py) is the end-to-end check.
#include <doctest/doctest.h>

#include <chrono>

#include "store/azure/connection_string.hpp"
#include "net/encoding.hpp"
#include "store/azure/shared_key_signer.hpp"

using namespace arraymorph;
using arraymorph::net::base64_decode;
using namespace arraymorph::azure;

namespace {
std::chrono::system_clock::time_point at(long long epoch_seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(epoch_seconds));
}
std::string dev_key() { return *base64_decode(kDevStoreKey); }
}  // namespace

TEST_CASE("rfc1123 dates as x-ms-date takes them") {
  CHECK(rfc1123_date(at(1255297753)) == "Sun, 11 Oct 2009 21:49:13 GMT");
  CHECK(rfc1123_date(at(1795559400)) == "Tue, 24 Nov 2026 22:30:00 GMT");
  CHECK(rfc1123_date(at(0)) == "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST_CASE("canonicalized resource: Azure's published examples") {
  // "Get Container Metadata" example of the documentation.
  CHECK(canonicalized_resource(
            "myaccount",
            "https://myaccount.blob.core.windows.net/mycontainer?restype=container&comp=metadata") ==
        "/myaccount/mycontainer\ncomp:metadata\nrestype:container");
  // Repeated parameters: values sorted and comma-joined under one lower-case name.
  CHECK(canonicalized_resource("myaccount",
                               "https://myaccount.blob.core.windows.net/mycontainer?restype=container"
                               "&comp=list&include=snapshots&include=metadata&include=uncommittedblobs") ==
        "/myaccount/mycontainer\ncomp:list\ninclude:metadata,snapshots,uncommittedblobs\n"
        "restype:container");
  // Secondary endpoint: the account in the resource is the real account name.
  CHECK(canonicalized_resource("myaccount",
                               "https://myaccount-secondary.blob.core.windows.net/mycontainer/myblob") ==
        "/myaccount/mycontainer/myblob");
  // Emulator (path-style) URLs carry the account in the path, so it appears twice.
  CHECK(canonicalized_resource("devstoreaccount1",
                               "http://127.0.0.1:10000/devstoreaccount1/data/a%20b.h5") ==
        "/devstoreaccount1/devstoreaccount1/data/a%20b.h5");
  // Query names are lower-cased, values percent-decoded.
  CHECK(canonicalized_resource("acct", "https://h/c?restype=container&comp=list&Prefix=a%2Fb%20c") ==
        "/acct/c\ncomp:list\nprefix:a/b c\nrestype:container");
  CHECK(canonicalized_resource("acct", "https://h") == "/acct/");
}

TEST_CASE("canonicalized headers: x-ms-* only, lower-case, sorted, whitespace unfolded") {
  net::Headers h = {{"X-MS-Version", "2021-08-06"},
                     {"Content-Type", "text/plain"},
                     {"x-ms-meta-Note", "  two   words\there  "},
                     {"x-ms-date", "Tue, 24 Nov 2026 22:30:00 GMT"}};
  CHECK(canonicalized_headers(h) ==
        "x-ms-date:Tue, 24 Nov 2026 22:30:00 GMT\n"
        "x-ms-meta-note:two words here\n"
        "x-ms-version:2021-08-06\n");
}

TEST_CASE("string to sign: the documented Get Container Metadata example, and its signature") {
  net::HttpRequest r;
  r.method = "GET";
  r.url = "https://myaccount.blob.core.windows.net/mycontainer?restype=container&comp=metadata"
          "&timeout=20";
  r.headers = {{"x-ms-version", "2009-09-19"}};
  sign_shared_key(r, "myaccount", dev_key(), at(1255297753));
  // VERB, then 11 empty standard headers, then canonical headers and resource.
  const std::string expected =
      "GET\n\n\n\n\n\n\n\n\n\n\n\n"
      "x-ms-date:Sun, 11 Oct 2009 21:49:13 GMT\nx-ms-version:2009-09-19\n"
      "/myaccount/mycontainer\ncomp:metadata\nrestype:container\ntimeout:20";
  CHECK(string_to_sign(r, "myaccount") == expected);
  CHECK(net::find_header(r.headers, "x-ms-date").value() == "Sun, 11 Oct 2009 21:49:13 GMT");
  CHECK(net::find_header(r.headers, "Authorization").value() ==
        "SharedKey myaccount:m649E40iEJ3QQyCg9/WI2Fa9zS+RB/2rEBcLJb0CKs0=");
}

TEST_CASE("string to sign: Put Blob to the emulator with a body, and its signature") {
  static const unsigned char body[] = "hello world";  // 11 bytes signed as Content-Length
  net::HttpRequest r;
  r.method = "PUT";
  r.url = "http://127.0.0.1:10000/devstoreaccount1/data/file.h5/c/0/1";
  r.headers = {{"x-ms-version", "2021-08-06"},
               {"x-ms-blob-type", "BlockBlob"},
               {"Content-Type", "application/octet-stream"}};
  r.body_ptr = body;
  r.body_size = 11;
  sign_shared_key(r, kDevStoreAccount, dev_key(), at(1795559400));
  CHECK(string_to_sign(r, kDevStoreAccount) ==
        "PUT\n\n\n11\n\napplication/octet-stream\n\n\n\n\n\n\n"
        "x-ms-blob-type:BlockBlob\nx-ms-date:Tue, 24 Nov 2026 22:30:00 GMT\n"
        "x-ms-version:2021-08-06\n"
        "/devstoreaccount1/devstoreaccount1/data/file.h5/c/0/1");
  CHECK(net::find_header(r.headers, "Authorization").value() ==
        "SharedKey devstoreaccount1:J92u2DTXZgHUKgZ96f5yc8Xhy3WLym8iSIIZsS4LR+w=");
}

TEST_CASE("string to sign: zero Content-Length is empty, standard headers fill their lines") {
  net::HttpRequest r;
  r.method = "PUT";
  r.url = "https://a.blob.core.windows.net/c/k";
  r.headers = {{"Content-Length", "0"}, {"If-Match", "\"etag\""}, {"Range", "bytes=0-9"},
               {"Content-MD5", "md5"}, {"x-ms-date", "D"}};
  CHECK(string_to_sign(r, "a") == "PUT\n\n\n\nmd5\n\n\n\n\"etag\"\n\n\nbytes=0-9\nx-ms-date:D\n/a/c/k");
}

TEST_CASE("re-signing replaces the date and authorization instead of adding more") {
  net::HttpRequest r;
  r.url = "https://a.blob.core.windows.net/c/k";
  r.headers = {{"x-ms-version", "2021-08-06"}};
  sign_shared_key(r, "a", dev_key(), at(1255297753));
  const std::string first = net::find_header(r.headers, "Authorization").value();
  sign_shared_key(r, "a", dev_key(), at(1255297754));
  CHECK(r.headers.size() == 3);
  CHECK(net::find_header(r.headers, "x-ms-date").value() == "Sun, 11 Oct 2009 21:49:14 GMT");
  CHECK(net::find_header(r.headers, "Authorization").value() != first);
}

