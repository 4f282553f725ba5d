// scalar_codec.hpp -- one number in a buffer of a given width and byte order <-> a C++ value:
// unsigned integers of 1-8 bytes and IEEE floats of 2 (half), 4 and 8 bytes, either endianness;
// and a float as the JSON that Zarr readers expect (attribute_value.cpp).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

#include "model/zarr_metadata.hpp"

namespace arraymorph::vol {

using model::json;

// `n` bytes at `p`, big-endian when `be`.
uint64_t load_uint(const unsigned char* p, size_t n, bool be);
void store_uint(unsigned char* p, size_t n, bool be, uint64_t v);
// IEEE 754 binary16 <-> double (round to nearest even; overflow gives infinity).
double half_to_double(uint16_t h);
uint16_t double_to_half(double d);
// An IEEE float of `n` = 2, 4 or 8 bytes.
double load_float(const unsigned char* p, size_t n, bool be);
void store_float(unsigned char* p, size_t n, bool be, double d);
// A float as JSON: non-finite values as Zarr spells them ("NaN", "Infinity", "-Infinity");
// float16/32 with the shortest decimal that reads back to the same value of that width.
json float_json(double d, size_t size);

}  // namespace arraymorph::vol
