// integrity.hpp -- checking a received body against the checksum the store returned with it
// (Call::verify hooks of the S3 and Azure drivers, see request_client.hpp).
//
// The body is either HttpResponse::body or, for zero-copy GETs, the GetDestination spans it was
// scattered into; it can be checked only when the spans tile it ([0, size) without gaps),
// otherwise the check is skipped (bytes no span covers were dropped on purpose).
//
// Thread-safety: pure functions (they read caller memory the transport has finished writing).
#pragma once

#include <string>

#include "net/http_types.hpp"

namespace arraymorph::net {

// "" when the body's CRC32C equals `expected` (base64 of 4 big-endian bytes, as in
// x-amz-checksum-crc32c) or cannot be checked; else "crc32c <expected> != <actual>".
std::string check_crc32c(const HttpResponse& r, const GetDestination* dest,
                         const std::string& expected);
// The same for MD5 (base64, as in Content-MD5).
std::string check_md5(const HttpResponse& r, const GetDestination* dest,
                      const std::string& expected);

}  // namespace arraymorph::net
