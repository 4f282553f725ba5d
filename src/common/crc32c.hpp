// crc32c.hpp -- CRC-32C (Castagnoli), the checksum of the Zarr v3 "crc32c" codec and of S3's
// x-amz-checksum-crc32c. Table-driven software implementation (one table, built at compile time).
//
// Thread-safety: pure function.
#pragma once

#include <cstddef>
#include <cstdint>

namespace arraymorph {

// CRC-32C of data[0, size), continuing from `crc` (pass the previous result to checksum a
// buffer in pieces; 0 for the first piece). crc32c("123456789") == 0xE3069283.
uint32_t crc32c(const unsigned char* data, size_t size, uint32_t crc = 0);

}  // namespace arraymorph
