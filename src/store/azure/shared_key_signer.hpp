// shared_key_signer.hpp -- Azure Storage "Shared Key" authorization (Blob service, version
// 2009-09-19 and later), as pure functions with the clock passed in.
//
// The string to sign is, one field per line:
//   VERB, Content-Encoding, Content-Language, Content-Length (empty when 0), Content-MD5,
//   Content-Type, Date, If-Modified-Since, If-Match, If-None-Match, If-Unmodified-Since, Range,
// followed by the canonicalized x-ms-* headers ("name:value\n" each, lower-case names, sorted)
// and the canonicalized resource ("/" + account + encoded URI path, then "\nname:v1,v2" per query
// parameter: lower-case names, sorted; decoded values, sorted). The signature is
// base64(HMAC-SHA256(base64-decoded account key, string to sign)) and goes into
// "Authorization: SharedKey <account>:<signature>".
//
// We always send x-ms-date (never Date) and x-ms-range (never Range); the Date and Range lines
// are still filled from the request for completeness, so the functions match the published rules
// for any request.
//
// Thread-safety: pure functions over values.
#pragma once

#include <chrono>
#include <string>

#include "net/http_types.hpp"

namespace arraymorph::azure {

// "Sun, 11 Oct 2009 21:49:13 GMT" (RFC 1123, always GMT), the form x-ms-date takes.
std::string rfc1123_date(std::chrono::system_clock::time_point t);

// The x-ms-* headers of `headers`, canonicalized; each line ends in '\n'.
std::string canonicalized_headers(const net::Headers& headers);
// "/account/path" plus sorted "\nname:values" lines for the query of the absolute `url`.
std::string canonicalized_resource(const std::string& account, const std::string& url);
// The full string to sign for `request` as it will be sent (headers already set).
std::string string_to_sign(const net::HttpRequest& request, const std::string& account);

// Sets x-ms-date from `now`, then Authorization. `decoded_key` is the raw key bytes (the
// base64-decoded AccountKey). x-ms-version and every other signed header must already be set.
void sign_shared_key(net::HttpRequest& request, const std::string& account,
                     const std::string& decoded_key, std::chrono::system_clock::time_point now);

}  // namespace arraymorph::azure
