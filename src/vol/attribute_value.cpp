// attribute_value.cpp -- see attribute_value.hpp: the JSON encoder and decoder of attribute
// values, attribute dataspace shapes and the natural mapping of plain JSON.
#include "vol/attribute_value.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "common/status.hpp"
#include "vol/reference_values.hpp"
#include "vol/scalar_codec.hpp"
#include "vol/type_map.hpp"
#include "vol/type_walker.hpp"
#include "vol/utf8.hpp"

namespace arraymorph::vol {
namespace {

hsize_t product(const std::vector<hsize_t>& dims) {
  hsize_t n = 1;
  for (auto d : dims) n *= d;
  return n;
}

// Flat element list -> nested lists of `dims` (scalar when dims is empty).
json nest(std::vector<json>& flat, const std::vector<hsize_t>& dims, size_t level, size_t& pos) {
  if (level == dims.size()) return std::move(flat[pos++]);
  json arr = json::array();
  for (hsize_t i = 0; i < dims[level]; ++i) arr.push_back(nest(flat, dims, level + 1, pos));
  return arr;
}

json nest(std::vector<json>& flat, const std::vector<hsize_t>& dims) {
  size_t pos = 0;
  return nest(flat, dims, 0, pos);
}

// Nested lists of exactly `dims` -> flat element pointers; false when the shape differs.
bool flatten(const json& j, const std::vector<hsize_t>& dims, size_t level, std::vector<const json*>& out) {
  if (level == dims.size()) {
    out.push_back(&j);
    return true;
  }
  if (!j.is_array() || j.size() != dims[level]) return false;
  for (const auto& e : j)
    if (!flatten(e, dims, level + 1, out)) return false;
  return true;
}

[[noreturn]] void bad_value(const json& j, const std::string& expected) {
  std::string text = j.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  throw Error(invalid_argument("attribute value " + text + " is not " + expected));
}


// ------------------------------------------------------------------------- element encoder
[[noreturn]] void no_codec() {
  throw Error(unsupported("new-style references (H5T_STD_REF / H5R_ref_t) here; use object references "
                          "(H5T_STD_REF_OBJ) or region references (H5T_STD_REF_DSETREG)"));
}

struct Encoder {
  bool strings_base64 = false;
  bool bad_utf8 = false;
  const NewRefCodec* refs = nullptr;

  json string(const char* s, size_t n) {
    if (strings_base64) return model::base64_encode(reinterpret_cast<const unsigned char*>(s), n);
    if (!valid_utf8(s, n)) {
      bad_utf8 = true;
      return "";
    }
    return std::string(s, n);
  }

  json element(const TNode& t, const unsigned char* p) {
    switch (t.k) {
      case TNode::kInt: {
        uint64_t u = load_uint(p, t.size, t.big_endian);
        if (!t.is_signed) return u;
        if (t.size < 8 && (u >> (8 * t.size - 1)) & 1) u |= ~uint64_t{0} << (8 * t.size);  // sign-extend
        return static_cast<int64_t>(u);
      }
      case TNode::kFloat:
        return float_json(load_float(p, t.size, t.big_endian), t.size);
      case TNode::kBool: {
        const uint64_t v = load_uint(p, 1, false);
        if (v <= 1) return v == 1;
        return element(t.kids[0], p);
      }
      case TNode::kEnum:
        return element(t.kids[0], p);
      case TNode::kComplex: {
        const TNode& f = t.kids[0];
        return json::array({element(f, p), element(f, p + f.size)});
      }
      case TNode::kCompound: {
        json o = json::object();
        for (size_t i = 0; i < t.kids.size(); ++i) o[t.names[i]] = element(t.kids[i], p + t.offsets[i]);
        return o;
      }
      case TNode::kArray: {
        const TNode& b = t.kids[0];
        std::vector<json> flat;
        const hsize_t n = product(t.dims);
        flat.reserve(n);
        for (hsize_t i = 0; i < n; ++i) flat.push_back(element(b, p + i * b.size));
        return nest(flat, t.dims);
      }
      case TNode::kFixedStr: {
        const char* s = reinterpret_cast<const char*>(p);
        size_t n = t.size;
        if (t.pad == H5T_STR_SPACEPAD) {
          while (n > 0 && s[n - 1] == ' ') --n;
        } else if (t.pad == H5T_STR_NULLTERM) {
          n = strnlen(s, t.size);
        } else {
          while (n > 0 && s[n - 1] == '\0') --n;
        }
        return string(s, n);
      }
      case TNode::kVlenStr: {
        const char* s = nullptr;
        std::memcpy(&s, p, sizeof s);
        if (!s) return nullptr;
        return string(s, std::strlen(s));
      }
      case TNode::kVlenSeq: {
        hvl_t h;
        std::memcpy(&h, p, sizeof h);
        json arr = json::array();
        const auto* base = static_cast<const unsigned char*>(h.p);
        for (size_t i = 0; i < h.len && base; ++i) arr.push_back(element(t.kids[0], base + i * t.kids[0].size));
        return arr;
      }
      case TNode::kRef:
        if (t.ref != RefKind::kNewStyle) return reference_json(t.ref, p);
        if (!refs) no_codec();
        return refs->encode(p);
      case TNode::kRaw:
        break;
    }
    throw Error(internal_error("attribute encoder reached a raw type"));
  }
};

// ------------------------------------------------------------------------- element decoder
struct Decoder {
  bool strings_base64 = false;
  const NewRefCodec* refs = nullptr;

  std::string string(const json& j) {
    if (!j.is_string()) bad_value(j, "a string");
    if (!strings_base64) return j.get<std::string>();
    auto bytes = model::base64_decode(j.get<std::string>());
    if (!bytes.ok()) bad_value(j, "base64 text");
    return std::string(bytes.value().begin(), bytes.value().end());
  }

  static double number(const json& j) {
    if (j.is_number()) return j.get<double>();
    if (j.is_boolean()) return j.get<bool>() ? 1.0 : 0.0;
    if (j.is_string()) {
      const std::string s = j.get<std::string>();
      if (s == "NaN" || s == "nan") return std::numeric_limits<double>::quiet_NaN();
      if (s == "Infinity" || s == "inf") return std::numeric_limits<double>::infinity();
      if (s == "-Infinity" || s == "-inf") return -std::numeric_limits<double>::infinity();
    }
    bad_value(j, "a number");
  }

  static void integer(const TNode& t, const json& j, unsigned char* p) {
    const unsigned bits = static_cast<unsigned>(8 * t.size);
    uint64_t u = 0;
    if (j.is_boolean()) {
      u = j.get<bool>() ? 1 : 0;
    } else if (j.is_number_unsigned()) {
      u = j.get<uint64_t>();
      const uint64_t max = t.is_signed ? (uint64_t{1} << (bits - 1)) - 1 : (bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1);
      if (u > max) bad_value(j, "within the range of the attribute's " + std::to_string(bits) + "-bit integer type");
    } else if (j.is_number_integer()) {
      const int64_t v = j.get<int64_t>();
      if (t.is_signed) {
        const int64_t lo = bits == 64 ? std::numeric_limits<int64_t>::min() : -(int64_t{1} << (bits - 1));
        const int64_t hi = bits == 64 ? std::numeric_limits<int64_t>::max() : (int64_t{1} << (bits - 1)) - 1;
        if (v < lo || v > hi) bad_value(j, "within the range of the attribute's " + std::to_string(bits) + "-bit integer type");
      } else if (v < 0 || (bits < 64 && static_cast<uint64_t>(v) >= (uint64_t{1} << bits))) {
        bad_value(j, "within the range of the attribute's unsigned " + std::to_string(bits) + "-bit integer type");
      }
      u = static_cast<uint64_t>(v);
    } else if (j.is_number_float()) {
      const double d = j.get<double>();
      if (d != std::floor(d)) bad_value(j, "an integer");
      if (!(d >= -0x1p63 && d < 0x1p64)) bad_value(j, "a 64-bit integer");
      integer(t, d < 0 ? json(static_cast<int64_t>(d)) : json(static_cast<uint64_t>(d)), p);
      return;
    } else {
      bad_value(j, "an integer");
    }
    store_uint(p, t.size, t.big_endian, u);
  }

  void element(const TNode& t, const json& j, unsigned char* p) {
    switch (t.k) {
      case TNode::kInt:
        integer(t, j, p);
        return;
      case TNode::kFloat:
        store_float(p, t.size, t.big_endian, number(j));
        return;
      case TNode::kBool:
      case TNode::kEnum:
        integer(t.kids[0], j, p);
        return;
      case TNode::kComplex: {
        const TNode& f = t.kids[0];
        if (j.is_array() && j.size() == 2) {
          element(f, j[0], p);
          element(f, j[1], p + f.size);
        } else if (j.is_object() && j.contains("r") && j.contains("i")) {
          element(f, j["r"], p);
          element(f, j["i"], p + f.size);
        } else if (j.is_number()) {
          element(f, j, p);
        } else {
          bad_value(j, "a complex number [re, im]");
        }
        return;
      }
      case TNode::kCompound:
        if (j.is_object()) {
          for (size_t i = 0; i < t.kids.size(); ++i) {
            auto it = j.find(t.names[i]);
            if (it != j.end()) element(t.kids[i], *it, p + t.offsets[i]);
          }
        } else if (j.is_array() && j.size() == t.kids.size()) {
          for (size_t i = 0; i < t.kids.size(); ++i) element(t.kids[i], j[i], p + t.offsets[i]);
        } else {
          bad_value(j, "a compound value (object keyed by member name)");
        }
        return;
      case TNode::kArray: {
        std::vector<const json*> flat;
        if (!flatten(j, t.dims, 0, flat)) bad_value(j, "an array of the attribute's array-type shape");
        for (size_t i = 0; i < flat.size(); ++i) element(t.kids[0], *flat[i], p + i * t.kids[0].size);
        return;
      }
      case TNode::kFixedStr: {
        const std::string s = string(j);
        std::memset(p, t.pad == H5T_STR_SPACEPAD ? ' ' : '\0', t.size);
        size_t n = std::min(s.size(), t.pad == H5T_STR_NULLTERM && t.size > 0 ? t.size - 1 : t.size);
        if (t.pad == H5T_STR_NULLTERM && s.size() == t.size) n = t.size;  // HDF5 drops the NUL when full
        std::memcpy(p, s.data(), n);
        return;
      }
      case TNode::kVlenStr: {
        char* out = nullptr;
        if (!j.is_null()) {
          const std::string s = string(j);
          out = static_cast<char*>(H5allocate_memory(s.size() + 1, false));
          if (!out) throw std::bad_alloc();
          std::memcpy(out, s.c_str(), s.size() + 1);
        }
        std::memcpy(p, &out, sizeof out);
        return;
      }
      case TNode::kVlenSeq: {
        if (!j.is_array()) bad_value(j, "a list (variable-length sequence)");
        hvl_t h{0, nullptr};
        const size_t es = t.kids[0].size;
        if (!j.empty()) {
          h.p = H5allocate_memory(j.size() * es, true);
          if (!h.p) throw std::bad_alloc();
          h.len = j.size();
        }
        std::memcpy(p, &h, sizeof h);
        for (size_t i = 0; i < j.size(); ++i) element(t.kids[0], j[i], static_cast<unsigned char*>(h.p) + i * es);
        return;
      }
      case TNode::kRef:
        if (t.ref != RefKind::kNewStyle) {
          reference_from_json(t.ref, j, p);
        } else {
          if (!refs) no_codec();
          refs->decode(j, p);
        }
        return;
      case TNode::kRaw:
        break;
    }
    throw Error(internal_error("attribute decoder reached a raw type"));
  }
};


hid_t vlen_utf8() {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

hid_t h5py_bool() {
  hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
  signed char f = 0, tr = 1;
  H5Tenum_insert(t, "FALSE", &f);
  H5Tenum_insert(t, "TRUE", &tr);
  return t;
}

}  // namespace

// ------------------------------------------------------------------------- dataspaces
AttrShape shape_of(hid_t space) {
  AttrShape s;
  const H5S_class_t cls = H5Sget_simple_extent_type(space);
  if (cls == H5S_NULL) {
    s.null = true;
    return s;
  }
  if (cls == H5S_SIMPLE) {
    const int nd = H5Sget_simple_extent_ndims(space);
    s.dims.resize(static_cast<size_t>(std::max(nd, 0)));
    if (nd > 0) H5Sget_simple_extent_dims(space, s.dims.data(), nullptr);
  } else if (cls != H5S_SCALAR) {
    throw Error(invalid_argument("invalid attribute dataspace"));
  }
  return s;
}

hid_t make_space(const AttrShape& s) {
  if (s.null) return H5Screate(H5S_NULL);
  if (s.dims.empty()) return H5Screate(H5S_SCALAR);
  return H5Screate_simple(static_cast<int>(s.dims.size()), s.dims.data(), nullptr);
}

bool same_shape(hid_t a, hid_t b) {
  const AttrShape x = shape_of(a), y = shape_of(b);
  const bool scalar_x = !x.null && H5Sget_simple_extent_type(a) == H5S_SCALAR;
  const bool scalar_y = !y.null && H5Sget_simple_extent_type(b) == H5S_SCALAR;
  return x.null == y.null && scalar_x == scalar_y && x.dims == y.dims;
}


// ------------------------------------------------------------------------- natural mapping
Natural natural_of(const json& v) {
  Natural n;
  auto as_text = [&]() {
    n.type = Hid(vlen_utf8());
    n.space = Hid(H5Screate(H5S_SCALAR));
    n.value = v.dump();
    n.text = true;
  };
  if (v.is_null()) {
    n.type = Hid(H5Tcopy(H5T_IEEE_F64LE));
    n.space = Hid(H5Screate(H5S_NULL));
    return n;
  }
  if (v.is_object()) {
    as_text();
    return n;
  }
  // Leaves and shape: follow the first element down, then check everything fits that shape.
  AttrShape shape;
  const json* cur = &v;
  while (cur->is_array()) {
    shape.dims.push_back(cur->size());
    if (cur->empty()) break;
    cur = &(*cur)[0];
  }
  std::vector<const json*> leaves;
  // Deeper than an HDF5 dataspace can be: keep it as JSON text (parse_zarr_json bounds the depth).
  if (shape.dims.size() > H5S_MAX_RANK || !flatten(v, shape.dims, 0, leaves)) {
    as_text();
    return n;
  }
  bool all_bool = true, all_num = true, all_str = true, any_float = false, any_big = false, any_neg = false;
  for (const json* l : leaves) {
    all_bool = all_bool && l->is_boolean();
    all_num = all_num && l->is_number();
    all_str = all_str && l->is_string();
    if (l->is_number_float()) any_float = true;
    else if (l->is_number_unsigned() && l->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) any_big = true;
    else if (l->is_number_integer() && l->get<int64_t>() < 0) any_neg = true;
  }
  hid_t type;
  if (leaves.empty()) type = H5Tcopy(H5T_IEEE_F64LE);
  else if (all_bool) type = h5py_bool();
  else if (all_num) type = H5Tcopy(any_float || (any_big && any_neg) ? H5T_IEEE_F64LE : any_big ? H5T_STD_U64LE : H5T_STD_I64LE);
  else if (all_str) type = vlen_utf8();
  else {
    as_text();
    return n;
  }
  n.type = Hid(type);
  n.space = Hid(make_space(shape));
  n.value = v;
  return n;
}


// ------------------------------------------------------------------------- public API
hsize_t space_elements(hid_t space) {
  if (H5Sget_simple_extent_type(space) == H5S_NULL) return 0;
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n < 0) throw Error(invalid_argument("invalid attribute dataspace"));
  return static_cast<hsize_t>(n);
}

void check_attribute_type(hid_t type) {
  const TNode t = analyze(type);
  if (t.raw_inside && t.pointers)
    throw Error(unsupported("attributes of variable-length data whose element type cannot be stored as JSON "
                            "(opaque, bitfield or non-IEEE members inside variable-length sequences)"));
}

EncodedValue encode_value(hid_t type, hid_t space, const void* buf, const NewRefCodec* refs) {
  const TNode t = analyze(type);
  const AttrShape shape = shape_of(space);
  EncodedValue out;
  if (shape.null) {
    out.value = nullptr;
    return out;
  }
  const hsize_t n = product(shape.dims);
  const auto* p = static_cast<const unsigned char*>(buf);
  if (t.raw_inside) {
    if (t.pointers) check_attribute_type(type);
    out.value = model::base64_encode(p, n * t.size);
    out.encoding = ValueEncoding::kRaw;
    return out;
  }
  for (bool b64 : {false, true}) {
    Encoder e{b64, false, refs};
    std::vector<json> flat;
    flat.reserve(n);
    for (hsize_t i = 0; i < n && !e.bad_utf8; ++i) flat.push_back(e.element(t, p + i * t.size));
    if (e.bad_utf8) continue;
    out.value = nest(flat, shape.dims);
    out.encoding = b64 ? ValueEncoding::kStringsBase64 : ValueEncoding::kJson;
    return out;
  }
  throw Error(internal_error("attribute strings could not be encoded"));
}

void decode_value(const json& value, ValueEncoding encoding, hid_t type, hid_t space, void* buf,
                  const NewRefCodec* refs) {
  const TNode t = analyze(type);
  const AttrShape shape = shape_of(space);
  if (shape.null) return;
  const hsize_t n = product(shape.dims);
  auto* p = static_cast<unsigned char*>(buf);
  std::memset(p, 0, n * t.size);
  if (encoding == ValueEncoding::kRaw || t.raw_inside) {
    if (t.pointers) check_attribute_type(type);
    if (!value.is_string()) bad_value(value, "base64 text of the attribute's raw bytes");
    auto bytes = model::base64_decode(value.get<std::string>());
    if (!bytes.ok() || bytes.value().size() != n * t.size)
      throw Error(invalid_argument("stored raw attribute value has the wrong size for its datatype and shape"));
    std::memcpy(p, bytes.value().data(), n * t.size);
    return;
  }
  std::vector<const json*> flat;
  if (!flatten(value, shape.dims, 0, flat)) {
    std::string dims;
    for (size_t i = 0; i < shape.dims.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape.dims[i]);
    bad_value(value, "of shape (" + dims + (shape.dims.size() == 1 ? ",)" : ")"));
  }
  Decoder d{encoding == ValueEncoding::kStringsBase64, refs};
  try {
    for (size_t i = 0; i < flat.size(); ++i) d.element(t, *flat[i], p + i * t.size);
  } catch (...) {
    if (t.pointers) H5Treclaim(type, space, H5P_DEFAULT, buf);
    throw;
  }
}

void validate(const json& value, ValueEncoding enc, hid_t type, hid_t space) {
  std::vector<unsigned char> buf(std::max<size_t>(1, space_elements(space) * H5Tget_size(type)));
  decode_value(value, enc, type, space, buf.data());
  if (analyze(type).pointers) H5Treclaim(type, space, H5P_DEFAULT, buf.data());
}

EncodedValue encode_from_memory(hid_t file_type, hid_t space, hid_t mem_type, const void* buf,
                                const void* background, const NewRefCodec* refs) {
  const hsize_t n = space_elements(space);
  if (n == 0 || H5Tequal(mem_type, file_type) > 0) return encode_value(file_type, space, buf);
  if (contains_new_style_reference(mem_type)) {
    // HDF5 cannot convert H5R_ref_t without a native file; the JSON of both types is the same.
    EncodedValue v = encode_value(mem_type, space, buf, refs);
    validate(v.value, v.encoding, file_type, space);
    return v;
  }
  const size_t fsize = H5Tget_size(file_type), msize = H5Tget_size(mem_type);
  std::vector<unsigned char> tmp(n * std::max(fsize, msize)), bkg(tmp.size(), 0);
  if (background) std::memcpy(bkg.data(), background, n * fsize);
  std::memcpy(tmp.data(), buf, n * msize);
  if (H5Tconvert(mem_type, file_type, n, tmp.data(), bkg.data(), H5P_DEFAULT) < 0)
    throw Error(invalid_argument("cannot convert the written value from its memory datatype to the attribute's datatype"));
  const bool pointers = analyze(file_type).pointers;
  try {
    EncodedValue v = encode_value(file_type, space, tmp.data());
    if (pointers) H5Treclaim(file_type, space, H5P_DEFAULT, tmp.data());
    return v;
  } catch (...) {
    if (pointers) H5Treclaim(file_type, space, H5P_DEFAULT, tmp.data());
    throw;
  }
}

void read_into_memory(const AttrRecord& rec, hid_t mem_type, void* buf, const NewRefCodec* refs) {
  const hsize_t n = space_elements(rec.space.get());
  if (n == 0) return;
  if (H5Tequal(mem_type, rec.type.get()) > 0) {
    decode_value(rec.value, rec.encoding, rec.type.get(), rec.space.get(), buf);
    return;
  }
  if (contains_new_style_reference(mem_type)) {  // as in encode_from_memory
    decode_value(rec.value, rec.encoding, mem_type, rec.space.get(), buf, refs);
    return;
  }
  const size_t fsize = H5Tget_size(rec.type.get()), msize = H5Tget_size(mem_type);
  std::vector<unsigned char> tmp(n * std::max(fsize, msize)), bkg(tmp.size(), 0);
  // Members of a compound memory type that the attribute lacks keep the caller's values.
  if (H5Tget_class(mem_type) == H5T_COMPOUND) std::memcpy(bkg.data(), buf, n * msize);
  decode_value(rec.value, rec.encoding, rec.type.get(), rec.space.get(), tmp.data());
  // Conversion rewrites the buffer in place; keep the decoded pointers to free them afterwards
  // (HDF5 copies variable-length data, it does not take the source's).
  const bool pointers = analyze(rec.type.get()).pointers;
  std::vector<unsigned char> keep;
  if (pointers) keep.assign(tmp.begin(), tmp.begin() + static_cast<std::ptrdiff_t>(n * fsize));
  const herr_t rc = H5Tconvert(rec.type.get(), mem_type, n, tmp.data(), bkg.data(), H5P_DEFAULT);
  if (pointers) H5Treclaim(rec.type.get(), rec.space.get(), H5P_DEFAULT, keep.data());
  if (rc < 0) throw Error(invalid_argument("cannot convert the attribute's datatype to the requested memory datatype"));
  std::memcpy(buf, tmp.data(), n * msize);
}


}  // namespace arraymorph::vol
