// zarr_metadata.cpp -- zarr.json (de)serialization; see zarr_metadata.hpp and docs/format.md.
#include "model/zarr_metadata.hpp"
#include "net/encoding.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace arraymorph::model {
namespace {

bool is_float_type(const std::string& t) { return t == "float16" || t == "float32" || t == "float64"; }
bool is_complex_type(const std::string& t) { return t == "complex64" || t == "complex128"; }
bool is_signed_type(const std::string& t) { return t.rfind("int", 0) == 0; }
bool is_unsigned_type(const std::string& t) { return t.rfind("uint", 0) == 0; }

// Copies `n` bytes of a little-endian value into the element's byte order.
void store_ordered(unsigned char* dst, const unsigned char* le, size_t n, bool big_endian) {
  for (size_t i = 0; i < n; ++i) dst[i] = big_endian ? le[n - 1 - i] : le[i];
}
void load_ordered(unsigned char* le, const unsigned char* src, size_t n, bool big_endian) {
  for (size_t i = 0; i < n; ++i) le[i] = big_endian ? src[n - 1 - i] : src[i];
}

// IEEE half <-> double, enough for fill values.
double half_to_double(uint16_t h) {
  int sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  double v;
  if (exp == 0) v = std::ldexp(mant, -24);
  else if (exp == 31) v = mant ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  else v = std::ldexp(mant + 1024, exp - 25);
  return sign ? -v : v;
}
uint16_t double_to_half(double d) {
  uint16_t sign = std::signbit(d) ? 0x8000 : 0;
  if (std::isnan(d)) return 0x7e00;
  d = std::fabs(d);
  if (std::isinf(d) || d >= 65520.0) return sign | 0x7c00;
  if (d < std::ldexp(1.0, -24)) return sign;
  int e;
  double m = std::frexp(d, &e);  // d = m * 2^e, m in [0.5, 1)
  int exp = e + 14;
  if (exp <= 0) return sign | static_cast<uint16_t>(std::lround(std::ldexp(d, 24)));
  uint16_t mant = static_cast<uint16_t>(std::lround((m * 2 - 1) * 1024));
  if (mant == 1024) { mant = 0; ++exp; }
  if (exp >= 31) return sign | 0x7c00;
  return sign | static_cast<uint16_t>(exp << 10) | mant;
}

Result<double> json_to_double(const json& j, const std::string& what) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const auto s = j.get<std::string>();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  return invalid_argument("fill_value " + j.dump() + " is not a valid " + what);
}
json double_to_json(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

Status encode_float(unsigned char* out, double v, size_t size, bool big_endian) {
  unsigned char le[8];
  if (size == 2) {
    uint16_t h = double_to_half(v);
    std::memcpy(le, &h, 2);
  } else if (size == 4) {
    float f = static_cast<float>(v);
    std::memcpy(le, &f, 4);
  } else if (size == 8) {
    std::memcpy(le, &v, 8);
  } else {
    return invalid_argument("unsupported float size " + std::to_string(size));
  }
  store_ordered(out, le, size, big_endian);
  return ok_status();
}
double decode_float(const unsigned char* in, size_t size, bool big_endian) {
  unsigned char le[8] = {0};
  load_ordered(le, in, size, big_endian);
  if (size == 2) {
    uint16_t h;
    std::memcpy(&h, le, 2);
    return half_to_double(h);
  }
  if (size == 4) {
    float f;
    std::memcpy(&f, le, 4);
    return f;
  }
  double d;
  std::memcpy(&d, le, 8);
  return d;
}

}  // namespace

json codecs_to_json(const std::vector<Codec>& codecs) {
  json out = json::array();
  for (const auto& c : codecs) {
    json e = {{"name", c.name}};
    if (!c.configuration.empty()) e["configuration"] = c.configuration;
    out.push_back(e);
  }
  return out;
}

Status read_codecs(const json& list, ArrayMeta& a) {
  if (!list.is_array()) return invalid_argument("codecs is not a list");
  for (const auto& c : list) {
    Codec codec;
    codec.name = c.is_string() ? c.get<std::string>() : c.at("name").get<std::string>();
    if (c.is_object() && c.contains("configuration")) codec.configuration = c["configuration"];
    if (codec.name == "bytes") a.big_endian = codec.configuration.value("endian", "little") == "big";
    a.codecs.push_back(std::move(codec));
  }
  return ok_status();
}

uint64_t ArrayMeta::chunk_elements() const {
  uint64_t n = 1;
  for (auto c : chunk_shape) n *= c;
  return n;
}

bool ArrayMeta::uncompressed() const {
  for (const auto& c : codecs)
    if (c.name != "bytes") return false;
  return true;
}

json data_type_json(const std::string& name, const json& config) {
  if (config.is_null()) return name;
  return {{"name", name}, {"configuration", config}};
}

bool has_endianness(const std::string& t, size_t element_size) {
  return element_size > 1 && (is_float_type(t) || is_complex_type(t) || is_signed_type(t) || is_unsigned_type(t));
}

namespace {
bool is_byte_blob_type(const std::string& t) {
  return t == "null_terminated_bytes" || t == "raw_bytes" || t == "structured" || t == "fixed_length_utf32";
}
}  // namespace

size_t zarr_type_size(const std::string& t, const json& config) {
  if (t == "string") return sizeof(char*);  // in memory: one pointer per element (io/vlen_strings.hpp)
  if (t == "variable_length_bytes") return sizeof(size_t) + sizeof(void*);  // in memory: one hvl_t
  if (t == "null_terminated_bytes" || t == "raw_bytes" || t == "fixed_length_utf32")
    return config.is_object() ? config.value("length_bytes", size_t(0)) : 0;
  if (t == "structured") {
    if (!config.is_object() || !config.contains("fields") || !config["fields"].is_array()) return 0;
    size_t total = 0;
    for (const auto& f : config["fields"]) {
      if (!f.is_array() || f.size() != 2) return 0;
      const json& ft = f[1];
      size_t n = ft.is_string() ? zarr_type_size(ft.get<std::string>())
                                : zarr_type_size(ft.value("name", ""), ft.value("configuration", json()));
      if (n == 0) return 0;
      total += n;
    }
    return total;
  }
  if (t == "bool" || t == "int8" || t == "uint8") return 1;
  if (t == "int16" || t == "uint16" || t == "float16") return 2;
  if (t == "int32" || t == "uint32" || t == "float32") return 4;
  if (t == "int64" || t == "uint64" || t == "float64" || t == "complex64") return 8;
  if (t == "complex128") return 16;
  if (t.size() > 1 && t[0] == 'r') {
    try {
      size_t bits = std::stoul(t.substr(1));
      if (bits % 8 == 0 && bits > 0) return bits / 8;
    } catch (...) {
    }
  }
  return 0;
}

Result<std::vector<unsigned char>> fill_json_to_bytes(const json& fill, const std::string& t,
                                                      size_t size, bool big_endian) {
  std::vector<unsigned char> out(size, 0);
  if (fill.is_null() || t == "string" || t == "variable_length_bytes") return out;  // "" / empty sequences
  if (t == "bool") {
    if (!fill.is_boolean()) return invalid_argument("fill_value " + fill.dump() + " is not a bool");
    out[0] = fill.get<bool>() ? 1 : 0;
    return out;
  }
  if (is_signed_type(t) || is_unsigned_type(t)) {
    if (!fill.is_number_integer()) {
      // zarr-python writes integer fill values as numbers; tolerate 0.0-style floats.
      // (Within int64's range: converting a larger double is undefined behaviour.)
      if (fill.is_number_float() && std::floor(fill.get<double>()) == fill.get<double>() &&
          std::fabs(fill.get<double>()) < 9.2e18) {
        return fill_json_to_bytes(json(static_cast<int64_t>(fill.get<double>())), t, size, big_endian);
      }
      return invalid_argument("fill_value " + fill.dump() + " is not an integer for " + t);
    }
    unsigned char le[8] = {0};
    if (is_unsigned_type(t)) {
      uint64_t v = fill.get<uint64_t>();
      std::memcpy(le, &v, 8);
    } else {
      int64_t v = fill.get<int64_t>();
      std::memcpy(le, &v, 8);
    }
    store_ordered(out.data(), le, size, big_endian);
    return out;
  }
  if (is_float_type(t)) {
    if (fill.is_string() && fill.get<std::string>().rfind("0x", 0) == 0) {
      uint64_t bits = std::stoull(fill.get<std::string>().substr(2), nullptr, 16);
      unsigned char le[8];
      std::memcpy(le, &bits, 8);
      store_ordered(out.data(), le, size, big_endian);
      return out;
    }
    auto d = json_to_double(fill, t);
    if (!d.ok()) return d.status();
    check(encode_float(out.data(), *d, size, big_endian));
    return out;
  }
  if (is_complex_type(t)) {
    if (!fill.is_array() || fill.size() != 2) return invalid_argument("fill_value " + fill.dump() + " is not [re, im]");
    size_t half = size / 2;
    for (size_t k = 0; k < 2; ++k) {
      auto d = json_to_double(fill[k], t);
      if (!d.ok()) return d.status();
      check(encode_float(out.data() + k * half, *d, half, big_endian));
    }
    return out;
  }
  // Byte-blob types (zarr-python writes base64 text) and raw "rN": base64 or a list of bytes.
  if (fill.is_string() && is_byte_blob_type(t)) {
    auto b = base64_decode(fill.get<std::string>());
    if (!b.ok()) return invalid_argument("fill_value " + fill.dump() + " is not base64 for " + t);
    if (b.value().size() > size) return invalid_argument("fill_value " + fill.dump() + " is longer than the data type");
    std::copy(b.value().begin(), b.value().end(), out.begin());
    return out;
  }
  if (fill.is_array() && fill.size() == size) {
    for (size_t i = 0; i < size; ++i) {
      if (!fill[i].is_number_unsigned() || fill[i].get<uint64_t>() > 255)
        return invalid_argument("fill_value " + fill.dump() + " is not a list of bytes (0-255) for " + t);
      out[i] = static_cast<unsigned char>(fill[i].get<uint64_t>());
    }
    return out;
  }
  if (fill.is_number_integer() && fill.get<int64_t>() == 0) return out;
  return invalid_argument("cannot interpret fill_value " + fill.dump() + " for data type " + t);
}

Result<json> fill_bytes_to_json(const unsigned char* bytes, const std::string& t, size_t size,
                                bool big_endian) {
  if (t == "string" || t == "variable_length_bytes") return json("");  // "" is also base64 of no bytes
  if (t == "bool") return json(bytes[0] != 0);
  if (is_signed_type(t) || is_unsigned_type(t)) {
    unsigned char le[8] = {0};
    load_ordered(le, bytes, size, big_endian);
    if (is_unsigned_type(t)) {
      uint64_t v = 0;
      std::memcpy(&v, le, 8);
      return json(v);
    }
    int64_t v = 0;
    std::memcpy(&v, le, 8);
    // sign-extend
    if (size < 8 && (le[size - 1] & 0x80)) v |= ~((int64_t(1) << (8 * size)) - 1);
    return json(v);
  }
  if (is_float_type(t)) return double_to_json(decode_float(bytes, size, big_endian));
  if (is_complex_type(t)) {
    size_t half = size / 2;
    return json::array({double_to_json(decode_float(bytes, half, big_endian)),
                        double_to_json(decode_float(bytes + half, half, big_endian))});
  }
  if (is_byte_blob_type(t)) {
    size_t n = size;
    if (t == "null_terminated_bytes")  // zarr-python stores the text without trailing NULs
      while (n > 0 && bytes[n - 1] == 0) --n;
    return json(base64_encode(bytes, n));
  }
  json arr = json::array();
  for (size_t i = 0; i < size; ++i) arr.push_back(static_cast<int>(bytes[i]));
  return arr;
}

json to_zarr_json(const Node& node) {
  json doc = {{"zarr_format", 3}, {"node_type", node.kind == NodeKind::kArray ? "array" : "group"}};
  json attrs = node.attributes.is_object() ? node.attributes : json::object();
  json h5 = node.hdf5.is_object() ? node.hdf5 : json::object();
  h5["format"] = kFormatVersion;
  if (node.array) {
    const ArrayMeta& a = *node.array;
    doc["shape"] = a.shape;
    doc["data_type"] = data_type_json(a.data_type, a.data_type_config);
    doc["chunk_grid"] = {{"name", "regular"},
                         {"configuration", {{"chunk_shape", a.shard ? a.shard->shard_shape : a.chunk_shape}}}};
    doc["chunk_key_encoding"] = {{"name", "default"}, {"configuration", {{"separator", "/"}}}};
    doc["fill_value"] = a.fill_value;
    doc["codecs"] = a.shard ? sharding_codecs_json(a, codecs_to_json(a.codecs)) : codecs_to_json(a.codecs);
    json names = json::array();
    for (size_t i = 0; i < a.shape.size(); ++i)
      names.push_back(i < a.dimension_names.size() && a.dimension_names[i].is_string() ? a.dimension_names[i] : json());
    doc["dimension_names"] = names;
    if (a.max_shape) h5["maxshape"] = *a.max_shape;
    if (a.contiguous) h5["layout"] = "contiguous";
    if (a.null_space) h5["dataspace"] = "null";
    if (!a.hdf5_type.empty()) h5["datatype"] = a.hdf5_type;
    if (!a.fill_defined) h5["fill_defined"] = false;
    if (a.fill_time == 0) h5["fill_time"] = "alloc";
    if (a.fill_time == 1) h5["fill_time"] = "never";
    if (a.fill_time == 1 && !a.reported_fill.is_null()) h5["fill_value"] = a.reported_fill;
    if (!a.skipped_filters.empty()) h5["skipped_filters"] = a.skipped_filters;
  }
  attrs[kHdf5Key] = h5;
  doc["attributes"] = attrs;
  if (node.consolidated) {
    doc["consolidated_metadata"] = {
        {"kind", "inline"}, {"must_understand", false}, {"metadata", *node.consolidated}};
  }
  return doc;
}

namespace {

// Largest chunk, in bytes, a document may declare: a chunk is held in memory whole, so anything
// near 2^64 (a wrapped negative, an overflowing product) must fail here, by name, rather than in
// an allocation. HDF5 itself caps chunks at 4 GiB; Zarr writers may go higher.
constexpr uint64_t kMaxChunkBytes = uint64_t(1) << 36;
// HDF5's H5S_MAX_RANK.
constexpr size_t kMaxRank = 32;

// A list of extents ("shape", "chunk_shape"): non-negative integers that fit int64 (what Zarr and
// HDF5 can both represent); `min_value` 1 for chunk extents. Errors name the key and the index.
Result<std::vector<uint64_t>> read_extents(const json& j, const std::string& key, uint64_t min_value) {
  if (!j.is_array()) return invalid_argument(key + " is not a list of integers");
  if (j.size() > kMaxRank)
    return invalid_argument(key + " has " + std::to_string(j.size()) + " dimensions (at most " +
                            std::to_string(kMaxRank) + ")");
  std::vector<uint64_t> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const json& e = j[i];
    const std::string item = key + "[" + std::to_string(i) + "]";
    if (e.is_number_integer() && !e.is_number_unsigned())
      return invalid_argument(item + " = " + e.dump() + " is negative");
    if (!e.is_number_unsigned()) return invalid_argument(item + " = " + e.dump() + " is not an integer");
    const uint64_t v = e.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return invalid_argument(item + " = " + e.dump() + " is larger than 2^63-1");
    if (v < min_value) return invalid_argument(item + " = " + e.dump() + " must be at least " + std::to_string(min_value));
    out.push_back(v);
  }
  return out;
}

// The product of `dims` times `factor`, or nullopt when it overflows 64 bits.
std::optional<uint64_t> checked_product(const std::vector<uint64_t>& dims, uint64_t factor) {
  uint64_t n = factor;
  for (uint64_t d : dims)
    if (__builtin_mul_overflow(n, d, &n)) return std::nullopt;
  return n;
}

}  // namespace

size_t max_json_depth(const std::string& text) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char ch : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (ch == '\\') escaped = true;
      else if (ch == '"') in_string = false;
      continue;
    }
    if (ch == '"') in_string = true;
    else if (ch == '[' || ch == '{') deepest = std::max(deepest, ++depth);
    else if ((ch == ']' || ch == '}') && depth > 0) --depth;
  }
  return deepest;
}

namespace {
Result<Node> node_from_json(const json& doc, const std::string& where) {
  auto bad = [&](const std::string& why) { return io_error("invalid Zarr metadata in '" + where + "': " + why); };
  if (!doc.is_object()) return bad("not a JSON object");
  // Compared as JSON: value<int>() of a huge number (1e21) would be undefined behaviour.
  if (auto fmt = doc.find("zarr_format"); fmt == doc.end() || !fmt->is_number_integer() || *fmt != 3)
    return bad("zarr_format is not 3 (only Zarr v3 is supported)");
  Node node;
  const std::string type = doc.value("node_type", "");
  if (type == "group") node.kind = NodeKind::kGroup;
  else if (type == "array") node.kind = NodeKind::kArray;
  else return bad("node_type '" + type + "' is neither 'group' nor 'array'");
  if (doc.contains("attributes") && doc["attributes"].is_object()) {
    node.attributes = doc["attributes"];
    if (node.attributes.contains(kHdf5Key)) {
      node.hdf5 = node.attributes[kHdf5Key];
      node.attributes.erase(kHdf5Key);
      if (!node.hdf5.is_object()) node.hdf5 = json::object();
    }
  }
  if (doc.contains("consolidated_metadata") && doc["consolidated_metadata"].is_object() &&
      doc["consolidated_metadata"].contains("metadata")) {
    node.consolidated = doc["consolidated_metadata"]["metadata"];
  }
  if (node.kind == NodeKind::kGroup) {
    if (auto t = node.hdf5.find(kCommittedDatatypeKey); t != node.hdf5.end()) {
      if (!t->is_string() || t->get<std::string>().empty())
        return bad(std::string("_hdf5.") + kCommittedDatatypeKey + " is not a base64 string");
      node.kind = NodeKind::kDatatype;
    }
    return node;
  }

  try {
    ArrayMeta a;
    auto shape = read_extents(doc.at("shape"), "shape", 0);
    if (!shape.ok()) return bad(shape.status().message());
    a.shape = std::move(shape).value();
    if (!checked_product(a.shape, 1)) return bad("shape has more than 2^64 elements");
    const json& dt = doc.at("data_type");
    a.data_type = dt.is_string() ? dt.get<std::string>() : dt.value("name", "");
    if (dt.is_object() && dt.contains("configuration")) a.data_type_config = dt["configuration"];
    const json& grid = doc.at("chunk_grid");
    if (grid.value("name", "") != "regular") return bad("only the regular chunk grid is supported");
    auto chunks = read_extents(grid.at("configuration").at("chunk_shape"), "chunk_shape", 1);
    if (!chunks.ok()) return bad(chunks.status().message());
    a.chunk_shape = std::move(chunks).value();
    if (a.chunk_shape.size() != a.shape.size()) return bad("chunk_shape rank differs from shape rank");
    if (doc.contains("dimension_names") && doc["dimension_names"].is_array() &&
        doc["dimension_names"].size() == a.shape.size())
      for (const auto& n : doc["dimension_names"]) a.dimension_names.push_back(n.is_string() ? n : json());
    if (doc.contains("chunk_key_encoding")) {
      const json& enc = doc["chunk_key_encoding"];
      std::string sep = enc.contains("configuration") ? enc["configuration"].value("separator", "/") : "/";
      if (enc.value("name", "default") != "default" || sep != "/")
        return bad("only the default chunk key encoding with '/' separator is supported");
    }
    const json& codecs = doc.at("codecs");
    if (!codecs.is_array()) return bad("codecs is not a list");
    bool sharded = false;
    for (const auto& c : codecs)
      sharded = sharded || (c.is_string() ? c.get<std::string>() : c.value("name", "")) == "sharding_indexed";
    if (sharded) {  // chunk_shape becomes the inner chunk shape (model/shard_index.hpp)
      Status s = apply_sharding_codec(codecs, a, where);
      if (!s.ok()) return s;
    } else if (Status s = read_codecs(codecs, a); !s.ok()) {
      return bad(s.message());
    }
    a.element_size = zarr_type_size(a.data_type, a.data_type_config);
    if (a.element_size > 0) {
      auto bytes = checked_product(a.chunk_shape, a.element_size);
      if (!bytes || *bytes > kMaxChunkBytes)
        return bad("chunk_shape and data_type make chunks larger than " + std::to_string(kMaxChunkBytes >> 30) + " GiB");
    }
    if (node.hdf5.contains("maxshape")) {
      const json& ms = node.hdf5["maxshape"];
      if (!ms.is_array() || ms.size() != a.shape.size()) return bad("_hdf5.maxshape does not match the rank of shape");
      std::vector<int64_t> max_shape;
      for (size_t i = 0; i < ms.size(); ++i) {
        const std::string item = "_hdf5.maxshape[" + std::to_string(i) + "] = " + ms[i].dump();
        if (!ms[i].is_number_integer()) return bad(item + " is not an integer");
        if (ms[i].is_number_unsigned() && ms[i].get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
          return bad(item + " is larger than 2^63-1");
        const int64_t m = ms[i].get<int64_t>();
        if (m < -1) return bad(item + " is neither -1 (unlimited) nor an extent");
        if (m >= 0 && static_cast<uint64_t>(m) < a.shape[i]) return bad(item + " is smaller than shape[" + std::to_string(i) + "]");
        max_shape.push_back(m);
      }
      a.max_shape = std::move(max_shape);
    }
    a.contiguous = node.hdf5.value("layout", "") == "contiguous";
    if (node.hdf5.contains("dataspace")) {
      if (node.hdf5["dataspace"] != "null") return bad("_hdf5.dataspace = " + node.hdf5["dataspace"].dump() + " is not \"null\"");
      if (a.shape != std::vector<uint64_t>{0}) return bad("_hdf5.dataspace is \"null\" but shape is not [0]");
      a.null_space = true;
    }
    a.hdf5_type = node.hdf5.value("datatype", "");
    a.fill_defined = node.hdf5.value("fill_defined", true);
    if (node.hdf5.contains("fill_time")) {
      const json& ft = node.hdf5["fill_time"];
      if (ft == "alloc") a.fill_time = 0;
      else if (ft == "never") a.fill_time = 1;
      else return bad("_hdf5.fill_time = " + ft.dump() + " is neither \"alloc\" nor \"never\"");
    }
    if (a.fill_time == 1) a.reported_fill = node.hdf5.value("fill_value", json());
    node.hdf5.erase("fill_time");
    if (node.hdf5.contains("skipped_filters")) {
      if (!node.hdf5["skipped_filters"].is_array()) return bad("_hdf5.skipped_filters is not an array");
      a.skipped_filters = node.hdf5["skipped_filters"];
      node.hdf5.erase("skipped_filters");
    }
    node.hdf5.erase("fill_value");
    node.hdf5.erase("maxshape");
    node.hdf5.erase("layout");
    node.hdf5.erase("dataspace");
    node.hdf5.erase("datatype");
    node.hdf5.erase("fill_defined");
    a.fill_value = doc.value("fill_value", json());
    if (a.element_size) {
      auto fb = fill_json_to_bytes(a.fill_value, a.data_type, a.element_size, a.big_endian);
      if (!fb.ok()) return fb.status().with_context("'" + where + "'");
      a.fill_bytes = std::move(fb).value();
    }
    node.array = std::move(a);
  } catch (const json::exception& e) {
    return bad(e.what());
  }
  return node;
}
}  // namespace

Result<Node> from_zarr_json(const json& doc, const std::string& where) {
  // Any member of the wrong JSON type (e.g. "node_type": 7) throws from nlohmann's value()/get():
  // an invalid document, reported by name, never an exception out of the reader (libFuzzer found
  // this one).
  try {
    return node_from_json(doc, where);
  } catch (const json::exception& e) {
    return io_error("invalid Zarr metadata in '" + where + "': " + e.what());
  }
}

Result<Node> parse_zarr_json(const std::string& text, const std::string& where) {
  // Bound the nesting before anything walks the tree: nlohmann's parser is iterative, but copying,
  // dumping and comparing a json value recurse once per level (a hostile document 100,000 levels
  // deep would overflow the stack).
  const size_t depth = max_json_depth(text);
  if (depth > kMaxJsonDepth)
    return io_error("'" + where + "' nests JSON " + std::to_string(depth) + " levels deep (at most " +
                    std::to_string(kMaxJsonDepth) + ")");
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return io_error("'" + where + "' is not valid JSON");
  return from_zarr_json(doc, where);
}

std::string base64_encode(const unsigned char* data, size_t size) {
  return net::base64_encode(data, size);
}

Result<std::vector<unsigned char>> base64_decode(const std::string& text) {
  std::optional<std::string> raw = net::base64_decode(text);
  if (!raw) return invalid_argument("invalid base64 text");
  return std::vector<unsigned char>(raw->begin(), raw->end());
}

}  // namespace arraymorph::model
