// scalar_codec.cpp -- see scalar_codec.hpp.
#include "vol/scalar_codec.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace arraymorph::vol {

uint64_t load_uint(const unsigned char* p, size_t n, bool be) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[be ? n - 1 - i : i]) << (8 * i);
  return v;
}

void store_uint(unsigned char* p, size_t n, bool be, uint64_t v) {
  for (size_t i = 0; i < n; ++i) p[be ? n - 1 - i : i] = static_cast<unsigned char>(v >> (8 * i));
}

double half_to_double(uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  double v;
  if (exp == 0) v = std::ldexp(static_cast<double>(mant), -24);
  else if (exp == 31) v = mant ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  else v = std::ldexp(1.0 + mant / 1024.0, exp - 15);
  return sign ? -v : v;
}

uint16_t double_to_half(double d) {
  const uint16_t sign = std::signbit(d) ? 0x8000 : 0;
  if (std::isnan(d)) return sign | 0x7e00;
  const double a = std::fabs(d);
  if (a >= 65520.0) return sign | 0x7c00;  // rounds to infinity
  if (a < 0x1p-14) return sign | static_cast<uint16_t>(std::nearbyint(a * 0x1p24));  // subnormal
  int e = 0;
  std::frexp(a, &e);
  const int E = e - 1;
  uint32_t mant = static_cast<uint32_t>(std::nearbyint((std::ldexp(a, -E) - 1.0) * 1024.0));
  uint32_t exp = static_cast<uint32_t>(E + 15);
  if (mant == 1024) {
    mant = 0;
    ++exp;
  }
  if (exp >= 31) return sign | 0x7c00;
  return static_cast<uint16_t>(sign | (exp << 10) | mant);
}

double load_float(const unsigned char* p, size_t n, bool be) {
  const uint64_t bits = load_uint(p, n, be);
  if (n == 2) return half_to_double(static_cast<uint16_t>(bits));
  if (n == 4) {
    uint32_t b = static_cast<uint32_t>(bits);
    float f;
    std::memcpy(&f, &b, 4);
    return f;
  }
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

void store_float(unsigned char* p, size_t n, bool be, double d) {
  uint64_t bits = 0;
  if (n == 2) {
    bits = double_to_half(d);
  } else if (n == 4) {
    float f = static_cast<float>(d);
    uint32_t b;
    std::memcpy(&b, &f, 4);
    bits = b;
  } else {
    std::memcpy(&bits, &d, 8);
  }
  store_uint(p, n, be, bits);
}

// A float as JSON: non-finite values as Zarr spells them; float16/32 with the shortest decimal
// that reads back to the same value, so Zarr readers see 0.1 rather than 0.10000000149011612.
json float_json(double d, size_t size) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (size == 8) return d;
  char buf[40];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, d);
    const double c = std::strtod(buf, nullptr);
    const bool same = size == 4 ? static_cast<float>(c) == static_cast<float>(d)
                                : double_to_half(c) == double_to_half(d);
    if (same) return c;
  }
  return d;
}


}  // namespace arraymorph::vol
