// sigv4_signer.hpp -- AWS Signature Version 4 for S3, as pure functions with the clock passed in.
//
// Each step is exposed (canonical request, string to sign, signing key, signature) so the unit
// tests can diff them against the worked examples in AWS's documentation and the
// aws-sig-v4-test-suite; sign_request() composes them and adds the headers to a request.
// Payloads are either hashed (sha256 hex of the body) or "UNSIGNED-PAYLOAD" (AWS_SIGNED_PAYLOADS).
// S3 does not normalise or double-encode paths: the canonical URI is the URL's path as sent.
//
// Secrets: the secret key is only ever an HMAC input here; nothing in this file formats it into a
// string that could reach a message or a log (the Authorization header carries the access key id,
// as SigV4 requires, and the signature).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <ctime>
#include <string>

#include "net/crypto.hpp"
#include "net/http_types.hpp"

namespace arraymorph::s3 {

struct Credentials {
  std::string access_key;
  std::string secret_key;     // never logged
  std::string session_token;  // never logged; sent as x-amz-security-token when set
  bool anonymous = false;     // AWS_NO_SIGN_REQUEST: send requests unsigned
};

inline constexpr const char* kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr const char* kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Digests (SHA-256, HMAC, MD5) are the shared ones in net/crypto.hpp.
using net::md5_base64;
using net::sha256_hex;

// "20130524T000000Z" (UTC) of a POSIX time.
std::string amz_date(std::time_t t);

// --- the steps ------------------------------------------------------------------------------
// Query "b=2&a=1&flag" -> "a=1&b=2&flag=": components decoded then re-encoded strictly (RFC 3986
// unreserved kept, '/' encoded), sorted by name then value.
std::string canonical_query_string(const std::string& raw_query);

struct CanonicalHeaders {
  std::string canonical;     // "name:value\n" lines, names lower-case and sorted
  std::string signed_names;  // "host;range;x-amz-date"
};
// Every header given is signed, except Authorization. Values are trimmed and inner runs of
// spaces collapsed; repeated names are joined with ','.
CanonicalHeaders canonical_headers(const net::Headers& headers);

std::string canonical_request(const std::string& method, const std::string& canonical_uri,
                              const std::string& canonical_query, const CanonicalHeaders& headers,
                              const std::string& payload_hash);
// "20130524/us-east-1/s3/aws4_request"
std::string credential_scope(const std::string& date8, const std::string& region,
                             const std::string& service);
std::string string_to_sign(const std::string& amz_datetime, const std::string& scope,
                           const std::string& canonical_request);
// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request"); raw.
std::string signing_key(const std::string& secret_key, const std::string& date8,
                        const std::string& region, const std::string& service);
std::string signature_hex(const std::string& signing_key, const std::string& string_to_sign);

// --- composition ----------------------------------------------------------------------------
struct SigningOptions {
  std::string region = "us-east-1";
  std::string service = "s3";
  std::time_t now = 0;         // signing time (tests pass fixed ones; drivers pass time(nullptr))
  std::string payload_hash;    // sha256 hex of the body, or kUnsignedPayload
  bool content_sha256_header = true;  // S3 requires x-amz-content-sha256; other services do not
};

struct SignatureParts {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // hex
  std::string authorization;  // the Authorization header value
};

// Sets Host (from the URL), X-Amz-Date, X-Amz-Content-Sha256, X-Amz-Security-Token (when a
// session token is set) and Authorization on `request`, replacing earlier values so a retried
// request can be re-signed. Anonymous credentials leave the request unsigned (only Host and the
// content hash header are set) and return empty parts.
SignatureParts sign_request(net::HttpRequest& request, const Credentials& credentials,
                            const SigningOptions& options);

// Splits an absolute URL into authority ("host[:port]"), path ("/..." or "/") and raw query.
struct UrlParts {
  std::string scheme;
  std::string authority;
  std::string path;
  std::string query;
};
UrlParts split_url(const std::string& url);

}  // namespace arraymorph::s3
