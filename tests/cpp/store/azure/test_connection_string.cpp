// Connection-string parsing (src/store/azure/connection_string) and SAS token handling.
#include <doctest/doctest.h>

#include "store/azure/connection_string.hpp"
#include "net/encoding.hpp"

using namespace arraymorph;
using namespace arraymorph::azure;
using arraymorph::net::base64_decode;

namespace {
// A made-up key: base64 of "not-a-real-key-0123456789".
constexpr const char* kFakeKey = "bm90LWEtcmVhbC1rZXktMDEyMzQ1Njc4OQ==";
}  // namespace

TEST_CASE("cloud account: endpoint from name, protocol and suffix") {
  auto r = parse_connection_string(std::string("DefaultEndpointsProtocol=https;AccountName=acct;"
                                               "AccountKey=") + kFakeKey +
                                   ";EndpointSuffix=core.windows.net");
  REQUIRE(r.ok());
  CHECK(r->account == "acct");
  CHECK(r->account_key == "not-a-real-key-0123456789");
  CHECK(r->blob_endpoint == "https://acct.blob.core.windows.net");
  CHECK(r->use_tls);
  CHECK(r->sas_token.empty());
}

TEST_CASE("defaults: https and core.windows.net; key names are case-insensitive") {
  auto r = parse_connection_string(std::string("accountname=acct;ACCOUNTKEY=") + kFakeKey + ";");
  REQUIRE(r.ok());
  CHECK(r->blob_endpoint == "https://acct.blob.core.windows.net");
  CHECK(r->use_tls);
  auto cn = parse_connection_string(std::string("AccountName=acct;AccountKey=") + kFakeKey +
                                    ";EndpointSuffix=core.chinacloudapi.cn;"
                                    "DefaultEndpointsProtocol=http");
  REQUIRE(cn.ok());
  CHECK(cn->blob_endpoint == "http://acct.blob.core.chinacloudapi.cn");
  CHECK_FALSE(cn->use_tls);
}

TEST_CASE("explicit BlobEndpoint (Azurite path-style) decides scheme and TLS") {
  auto r = parse_connection_string(std::string("DefaultEndpointsProtocol=https;AccountName="
                                               "devstoreaccount1;AccountKey=") +
                                   kDevStoreKey +
                                   ";BlobEndpoint=http://127.0.0.1:41234/devstoreaccount1/;");
  REQUIRE(r.ok());
  CHECK(r->blob_endpoint == "http://127.0.0.1:41234/devstoreaccount1");
  CHECK_FALSE(r->use_tls);
  CHECK(r->account_key.size() == 64);
}

TEST_CASE("UseDevelopmentStorage=true is Azurite's well-known account") {
  auto r = parse_connection_string("UseDevelopmentStorage=true");
  REQUIRE(r.ok());
  CHECK(r->account == "devstoreaccount1");
  CHECK(r->blob_endpoint == "http://127.0.0.1:10000/devstoreaccount1");
  CHECK(r->account_key == base64_decode(kDevStoreKey).value());
  CHECK_FALSE(r->use_tls);
}

TEST_CASE("SharedAccessSignature: no key needed; values keep their '=' and '&'") {
  auto r = parse_connection_string(
      "BlobEndpoint=https://acct.blob.core.windows.net;"
      "SharedAccessSignature=?sv=2021-08-06&ss=b&srt=sco&sp=rwdl&se=2030-01-01T00:00:00Z&sig=abc%3D");
  REQUIRE(r.ok());
  CHECK(r->account.empty());
  CHECK(r->account_key.empty());
  CHECK(r->sas_token == "sv=2021-08-06&ss=b&srt=sco&sp=rwdl&se=2030-01-01T00:00:00Z&sig=abc%3D");
  CHECK(r->blob_endpoint == "https://acct.blob.core.windows.net");
}

TEST_CASE("errors name the missing or malformed field and never echo a secret") {
  auto empty = parse_connection_string("  ");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().code() == Code::kInvalidArgument);
  CHECK(empty.status().message().find("AZURE_STORAGE_CONNECTION_STRING") != std::string::npos);

  auto no_name = parse_connection_string(std::string("AccountKey=") + kFakeKey);
  REQUIRE_FALSE(no_name.ok());
  CHECK(no_name.status().message().find("AccountName") != std::string::npos);
  CHECK(no_name.status().message().find(kFakeKey) == std::string::npos);

  auto bad_key = parse_connection_string("AccountName=acct;AccountKey=s3cr3t!notbase64");
  REQUIRE_FALSE(bad_key.ok());
  CHECK(bad_key.status().message().find("AccountKey") != std::string::npos);
  CHECK(bad_key.status().message().find("s3cr3t") == std::string::npos);

  // A bare secret that lost its "AccountKey=" must not be printed back.
  auto bare = parse_connection_string("AccountName=acct;s3cr3tvalue");
  REQUIRE_FALSE(bare.ok());
  CHECK(bare.status().message().find("segment 2") != std::string::npos);
  CHECK(bare.status().message().find("s3cr3t") == std::string::npos);

  auto proto = parse_connection_string(std::string("AccountName=a;AccountKey=") + kFakeKey +
                                       ";DefaultEndpointsProtocol=ftp");
  REQUIRE_FALSE(proto.ok());
  CHECK(proto.status().message().find("DefaultEndpointsProtocol") != std::string::npos);

  auto endpoint = parse_connection_string("BlobEndpoint=127.0.0.1:10000;SharedAccessSignature=sv=x");
  REQUIRE_FALSE(endpoint.ok());
  CHECK(endpoint.status().message().find("BlobEndpoint") != std::string::npos);
}

TEST_CASE("SAS tokens are normalised and appended to URLs with or without a query") {
  CHECK(normalize_sas("?sv=1&sig=x") == "sv=1&sig=x");
  CHECK(normalize_sas(" sv=1&sig=x ") == "sv=1&sig=x");
  CHECK(append_sas("https://a/c/k", "?sv=1&sig=x") == "https://a/c/k?sv=1&sig=x");
  CHECK(append_sas("https://a/c?restype=container&comp=list", "sv=1&sig=x") ==
        "https://a/c?restype=container&comp=list&sv=1&sig=x");
  CHECK(append_sas("https://a/c/k", "") == "https://a/c/k");
}

TEST_CASE("the account an endpoint names (labels SAS-only stores in messages)") {
  CHECK(account_from_endpoint("https://acct.blob.core.windows.net") == "acct");
  CHECK(account_from_endpoint("http://127.0.0.1:10000/devstoreaccount1") == "devstoreaccount1");
  CHECK(account_from_endpoint("https://acct.blob.core.chinacloudapi.cn/") == "acct");
  CHECK(account_from_endpoint("https://storage.example.com") == "");
  CHECK(account_from_endpoint("not a url") == "");
}
