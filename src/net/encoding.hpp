// encoding.hpp -- byte/text encodings with no cryptography: base64, hex and RFC 3986
// percent-coding. The one copy used by the signers, the drivers and the Zarr metadata (fill
// values, HDF5 type blobs), so it is compiled into every build, with or without network stores.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace arraymorph::net {

// Standard alphabet with '=' padding (RFC 4648 section 4).
std::string base64_encode(const unsigned char* data, size_t size);
std::string base64_encode(const std::string& bytes);
// Strict standard-alphabet decode: length a multiple of 4, padding only at the end, no
// whitespace. nullopt on malformed input (callers name what they were decoding).
std::optional<std::string> base64_decode(const std::string& text);

// Lower-case hex of raw bytes.
std::string hex_encode(const std::string& raw);

// Percent-encodes per RFC 3986 (unreserved characters kept, upper-case hex). With keep_slash,
// '/' is kept (object key paths); without it '/' is encoded (query values, canonical queries).
std::string percent_encode(const std::string& s, bool keep_slash);
// Decodes %XX escapes; malformed escapes are kept literally ('+' is not a space).
std::string percent_decode(const std::string& s);

}  // namespace arraymorph::net
