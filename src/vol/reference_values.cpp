// reference_values.cpp -- see reference_values.hpp.
#include "vol/reference_values.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "vol/attribute_store.hpp"

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

bool contains_reference(hid_t type, RefKind kind) {
  switch (H5Tget_class(type)) {
    case H5T_REFERENCE:
      return reference_kind(type) == kind;
    case H5T_COMPOUND: {
      const int n = H5Tget_nmembers(type);
      for (int i = 0; i < n; ++i) {
        Hid m(H5Tget_member_type(type, static_cast<unsigned>(i)));
        if (contains_reference(m.get(), kind)) return true;
      }
      return false;
    }
    case H5T_ARRAY:
    case H5T_VLEN: {
      Hid b(H5Tget_super(type));
      return b.get() >= 0 && contains_reference(b.get(), kind);
    }
    default:
      return false;
  }
}

namespace {

// Alignment of `type` in memory as a C compiler lays it out (x86-64/aarch64 rules).
size_t alignment_of(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
    case H5T_FLOAT:
    case H5T_ENUM:
    case H5T_BITFIELD:
      return std::min<size_t>(H5Tget_size(type), 8);
    case H5T_STRING:
      return H5Tis_variable_str(type) > 0 ? alignof(char*) : 1;
    case H5T_REFERENCE:
      return 8;  // hobj_ref_t / haddr_t, H5R_ref_t (union with int64_t)
    case H5T_VLEN:
      return alignof(hvl_t);
    case H5T_ARRAY: {
      Hid b(H5Tget_super(type));
      return alignment_of(b.get());
    }
    case H5T_COMPOUND: {
      size_t a = 1;
      const int n = H5Tget_nmembers(type);
      for (int i = 0; i < n; ++i) {
        Hid m(H5Tget_member_type(type, static_cast<unsigned>(i)));
        a = std::max(a, alignment_of(m.get()));
      }
      return a;
    }
    default:
      return 1;
  }
}

size_t align_up(size_t v, size_t a) { return (v + a - 1) / a * a; }

hid_t checked(hid_t id) {
  if (id < 0) throw Error(internal_error("cannot translate a datatype between reference styles"));
  return id;
}

}  // namespace

hid_t with_reference_style(hid_t type, bool to_new_style) {
  const RefKind from = to_new_style ? RefKind::kObject : RefKind::kNewStyle;
  if (!contains_reference(type, from)) return checked(H5Tcopy(type));
  switch (H5Tget_class(type)) {
    case H5T_REFERENCE:
      return checked(H5Tcopy(to_new_style ? H5T_STD_REF : H5T_STD_REF_OBJ));
    case H5T_VLEN: {
      Hid b(H5Tget_super(type));
      Hid nb(with_reference_style(b.get(), to_new_style));
      return checked(H5Tvlen_create(nb.get()));
    }
    case H5T_ARRAY: {
      Hid b(H5Tget_super(type));
      Hid nb(with_reference_style(b.get(), to_new_style));
      const int nd = H5Tget_array_ndims(type);
      std::vector<hsize_t> dims(static_cast<size_t>(std::max(nd, 0)));
      H5Tget_array_dims2(type, dims.data());
      return checked(H5Tarray_create2(nb.get(), static_cast<unsigned>(nd), dims.data()));
    }
    case H5T_COMPOUND: {
      struct Member {
        size_t old_offset;
        std::string name;
        Hid type;
        size_t offset = 0;
      };
      const int n = H5Tget_nmembers(type);
      std::vector<Member> ms;
      for (int i = 0; i < n; ++i) {
        const auto u = static_cast<unsigned>(i);
        Hid mt(H5Tget_member_type(type, u));
        char* nm = H5Tget_member_name(type, u);
        ms.push_back({H5Tget_member_offset(type, u), nm ? nm : "", Hid(with_reference_style(mt.get(), to_new_style))});
        if (nm) H5free_memory(nm);
      }
      std::stable_sort(ms.begin(), ms.end(), [](const Member& a, const Member& b) { return a.old_offset < b.old_offset; });
      size_t end = 0, align = 1;
      for (auto& m : ms) {
        const size_t a = alignment_of(m.type.get());
        m.offset = align_up(end, a);
        end = m.offset + H5Tget_size(m.type.get());
        align = std::max(align, a);
      }
      Hid out(checked(H5Tcreate(H5T_COMPOUND, std::max<size_t>(align_up(end, align), 1))));
      for (auto& m : ms)
        if (H5Tinsert(out.get(), m.name.c_str(), m.offset, m.type.get()) < 0)
          throw Error(internal_error("cannot translate compound member '" + m.name + "' between reference styles"));
      return out.release();
    }
    default:
      return checked(H5Tcopy(type));
  }
}

namespace {
std::atomic<bool> g_new_style_view{true};
}

bool attribute_references_new_style() { return g_new_style_view.load(); }
void set_attribute_references_new_style(bool on) { g_new_style_view.store(on); }

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
