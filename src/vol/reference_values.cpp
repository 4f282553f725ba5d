// reference_values.cpp -- see reference_values.hpp.
#include "vol/reference_values.hpp"

#include <cstdio>
#include <cstring>
#include <string>

#include "arraymorph/status.hpp"

namespace arraymorph::vol {
namespace {

uint64_t load_le(const unsigned char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

void store_le(unsigned char* p, size_t n, uint64_t v) {
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

[[noreturn]] void bad_reference(const model::json& j) {
  std::string text = j.dump();
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  throw Error(invalid_argument("attribute value " + text +
                               " is not a stored reference (\"<16 hex digits>\" or \"<16 hex digits>/<index>\")"));
}

}  // namespace

RefKind reference_kind(hid_t type) {
  if (H5Tget_class(type) != H5T_REFERENCE) return RefKind::kNone;
  if (H5Tequal(type, H5T_STD_REF_OBJ) > 0) return RefKind::kObject;
  if (H5Tequal(type, H5T_STD_REF_DSETREG) > 0) return RefKind::kRegion;
  if (H5Tequal(type, H5T_STD_REF) > 0) return RefKind::kNewStyle;
  // A type decoded from _hdf5.datatype (H5Tdecode) no longer compares equal to the predefined
  // old-style types (its location differs); their sizes are fixed: hobj_ref_t, hdset_reg_ref_t.
  switch (H5Tget_size(type)) {
    case sizeof(hobj_ref_t): return RefKind::kObject;
    case sizeof(hdset_reg_ref_t): return RefKind::kRegion;
    default: return RefKind::kNewStyle;
  }
}

bool contains_new_style_reference(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_REFERENCE:
      return reference_kind(type) == RefKind::kNewStyle;
    case H5T_COMPOUND: {
      const int n = H5Tget_nmembers(type);
      for (int i = 0; i < n; ++i) {
        hid_t m = H5Tget_member_type(type, static_cast<unsigned>(i));
        const bool found = contains_new_style_reference(m);
        H5Tclose(m);
        if (found) return true;
      }
      return false;
    }
    case H5T_ARRAY:
    case H5T_VLEN: {
      hid_t b = H5Tget_super(type);
      const bool found = b >= 0 && contains_new_style_reference(b);
      if (b >= 0) H5Tclose(b);
      return found;
    }
    default:
      return false;
  }
}

model::json reference_json(RefKind kind, const unsigned char* p) {
  const uint64_t id = load_le(p, 8);
  const uint64_t index = kind == RefKind::kRegion ? load_le(p + 8, 4) : 0;
  if (id == 0 && index == 0) return nullptr;
  char buf[40];
  if (kind == RefKind::kRegion)
    std::snprintf(buf, sizeof buf, "%016llx/%llu", static_cast<unsigned long long>(id),
                  static_cast<unsigned long long>(index));
  else
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
  return std::string(buf);
}

void reference_from_json(RefKind kind, const model::json& j, unsigned char* p) {
  const size_t size = kind == RefKind::kRegion ? 12 : 8;
  std::memset(p, 0, size);
  if (j.is_null()) return;
  if (!j.is_string()) bad_reference(j);
  const std::string s = j.get<std::string>();
  if (s.size() < 16 || s.find_first_not_of("0123456789abcdef") < 16) bad_reference(j);
  store_le(p, 8, std::stoull(s.substr(0, 16), nullptr, 16));
  if (kind == RefKind::kRegion) {
    if (s.size() < 18 || s[16] != '/' || s.find_first_not_of("0123456789", 17) != std::string::npos ||
        s.size() > 27)
      bad_reference(j);
    const unsigned long long index = std::stoull(s.substr(17));
    if (index > 0xffffffffull) bad_reference(j);
    store_le(p + 8, 4, index);
  } else if (s.size() != 16) {
    bad_reference(j);
  }
}

}  // namespace arraymorph::vol
