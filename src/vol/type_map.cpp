// type_map.cpp -- see type_map.hpp.
#include "vol/type_map.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "io/codec_pipeline.hpp"
#include "io/hdf5_filter.hpp"
#include "vol/reference_values.hpp"
#include "vol/utf8.hpp"
#include "vol/vlen_sequences.hpp"

namespace arraymorph::vol {
namespace {

constexpr H5Z_filter_t kZstdFilter = 32015;   // registered HDF5 filter id of zstd (hdf5plugin)
constexpr H5Z_filter_t kBloscFilter = 32001;  // registered HDF5 filter id of blosc (hdf5plugin)
// The blosc HDF5 filter's compressor codes (cd_values[6]) and Zarr's cname for each.
const char* const kBloscNames[] = {"blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd"};


// h5py's bool: an enum on a 1-byte integer with FALSE=0, TRUE=1.
bool is_h5py_bool(hid_t type) {
  if (H5Tget_class(type) != H5T_ENUM || H5Tget_size(type) != 1 || H5Tget_nmembers(type) != 2) return false;
  bool ok = true;
  for (unsigned i = 0; i < 2 && ok; ++i) {
    char* name = H5Tget_member_name(type, i);
    signed char v = -1;
    H5Tget_member_value(type, i, &v);
    ok = name && ((std::strcmp(name, "FALSE") == 0 && v == 0) || (std::strcmp(name, "TRUE") == 0 && v == 1));
    H5free_memory(name);
  }
  return ok;
}

// h5py's complex: a compound {r, i} of two equal IEEE floats.
bool is_h5py_complex(hid_t type, size_t size) {
  if (H5Tget_class(type) != H5T_COMPOUND || H5Tget_nmembers(type) != 2 || (size != 8 && size != 16)) return false;
  bool ok = true;
  for (unsigned i = 0; i < 2 && ok; ++i) {
    char* name = H5Tget_member_name(type, i);
    hid_t mt = H5Tget_member_type(type, i);
    ok = name && std::strcmp(name, i == 0 ? "r" : "i") == 0 && H5Tget_class(mt) == H5T_FLOAT &&
         float_layout_is_ieee(mt, size / 2) && H5Tget_member_offset(type, i) == i * size / 2 &&
         H5Tget_order(mt) == H5Tget_order(H5Tget_member_type(type, 0));
    H5Tclose(mt);
    H5free_memory(name);
  }
  return ok;
}


hid_t copy_order(hid_t base, bool big_endian) {
  hid_t t = H5Tcopy(base);
  H5Tset_order(t, big_endian ? H5T_ORDER_BE : H5T_ORDER_LE);
  return t;
}

// IEEE 754 binary16, little-endian, built from binary32 (as h5py builds its float16). Not
// H5T_IEEE_F16LE: its symbol H5T_IEEE_F16LE_g is new in HDF5 1.14.4, and the wheel's 1.14
// implementation must load into h5py 3.11's HDF5 1.14.2 (docs/compatibility.md, section 0).
// Fields are set before the size shrinks (H5Tset_size refuses fields beyond the new size).
hid_t ieee_f16le() {
  hid_t t = H5Tcopy(H5T_IEEE_F32LE);
  H5Tset_fields(t, 15, 10, 5, 0, 10);
  H5Tset_size(t, 2);
  H5Tset_ebias(t, 15);
  return t;
}

// Zarr name of an HDF5 integer or IEEE float type ("" when it is neither); sets *big_endian.
std::string core_number_name(hid_t type, bool* big_endian) {
  const H5T_class_t cls = H5Tget_class(type);
  const size_t size = H5Tget_size(type);
  std::string name;
  if (cls == H5T_INTEGER && (size == 1 || size == 2 || size == 4 || size == 8) && H5Tget_precision(type) == 8 * size &&
      H5Tget_offset(type) == 0) {
    name = (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(8 * size);
  } else if (cls == H5T_FLOAT && float_layout_is_ieee(type, size)) {
    name = "float" + std::to_string(8 * size);
  } else {
    return "";
  }
  if (big_endian) *big_endian = size > 1 && H5Tget_order(type) == H5T_ORDER_BE;
  return name;
}

// zarr-python's "structured" description of a compound, when its layout is one numpy (and so
// Zarr) can express: packed little-endian numeric, bool or nested-structured fields in order.
// Null JSON otherwise (the caller falls back to raw_bytes).
model::json structured_fields(hid_t type) {
  const int n = H5Tget_nmembers(type);
  model::json fields = model::json::array();
  size_t offset = 0;
  for (int i = 0; i < n; ++i) {
    char* name = H5Tget_member_name(type, static_cast<unsigned>(i));
    std::string field = name ? name : "";
    H5free_memory(name);
    if (H5Tget_member_offset(type, static_cast<unsigned>(i)) != offset) return model::json();
    hid_t mt = H5Tget_member_type(type, static_cast<unsigned>(i));
    const size_t msize = H5Tget_size(mt);
    bool be = false;
    model::json ft;
    std::string core = core_number_name(mt, &be);
    if (!core.empty() && !be) ft = core;
    else if (is_h5py_bool(mt)) ft = "bool";
    else if (H5Tget_class(mt) == H5T_COMPOUND && !is_h5py_complex(mt, msize)) {
      model::json sub = structured_fields(mt);
      if (!sub.is_null()) ft = model::data_type_json("structured", {{"fields", sub}});
    }
    H5Tclose(mt);
    if (ft.is_null()) return model::json();
    fields.push_back(model::json::array({field, ft}));
    offset += msize;
  }
  if (offset != H5Tget_size(type)) return model::json();
  return fields;
}

}  // namespace

bool float_layout_is_ieee(hid_t type, size_t size) {
  size_t spos, epos, esize, mpos, msize;
  if (H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0) return false;
  if (H5Tget_offset(type) != 0 || H5Tget_precision(type) != 8 * size) return false;
  switch (size) {
    case 2: return spos == 15 && epos == 10 && esize == 5 && mpos == 0 && msize == 10;
    case 4: return spos == 31 && epos == 23 && esize == 8 && mpos == 0 && msize == 23;
    case 8: return spos == 63 && epos == 52 && esize == 11 && mpos == 0 && msize == 52;
    default: return false;
  }
}

void describe_type(hid_t type, model::ArrayMeta& meta) {
  const H5T_class_t cls = H5Tget_class(type);
  const size_t size = H5Tget_size(type);
  if (cls == H5T_NO_CLASS || size == 0) throw Error(invalid_argument("invalid datatype"));
  if (cls == H5T_STRING && H5Tis_variable_str(type) > 0) {  // io/vlen_strings.hpp
    meta.element_size = sizeof(char*);
    meta.big_endian = false;
    meta.data_type = "string";
    meta.data_type_config = model::json();
    meta.hdf5_type = encode_type(type);
    return;
  }
  if (cls == H5T_VLEN) {  // a sequence: items of vol/vlen_sequences.hpp
    hid_t base = H5Tget_super(type);
    const bool ref = H5Tdetect_class(base, H5T_REFERENCE) > 0;
    H5Tclose(base);
    if (ref) throw Error(unsupported("variable-length sequences of references in datasets"));
    // A base with variable-length data of its own is stored serialized (vol/vlen_elements.hpp).
    meta.element_size = sizeof(hvl_t);
    meta.big_endian = false;
    meta.data_type = "variable_length_bytes";
    meta.data_type_config = model::json();
    meta.hdf5_type = encode_type(type);
    return;
  }
  if (contains_variable_length(type)) {  // members with variable-length data: vol/vlen_elements.hpp
    if (H5Tdetect_class(type, H5T_REFERENCE) > 0)
      throw Error(unsupported("references together with variable-length data inside compound or array types, in datasets"));
    meta.element_size = size;
    meta.big_endian = false;
    meta.data_type = "variable_length_bytes";
    meta.data_type_config = model::json();
    meta.hdf5_type = encode_type(type);
    return;
  }
  // Old-style references are stored as their bytes (vol/reference_values.hpp): raw_bytes below.
  if (contains_new_style_reference(type))
    throw Error(unsupported("datasets of new-style references (H5T_STD_REF / H5R_ref_t); use object references "
                            "(H5T_STD_REF_OBJ, h5py.ref_dtype) or region references (H5T_STD_REF_DSETREG)"));
  meta.element_size = size;
  meta.big_endian = false;
  meta.data_type_config = model::json();
  std::string name = core_number_name(type, &meta.big_endian);
  if (!name.empty()) {
    // a core Zarr number
  } else if (is_h5py_bool(type)) {
    name = "bool";
  } else if (is_h5py_complex(type, size)) {
    name = "complex" + std::to_string(8 * size);
    hid_t mt = H5Tget_member_type(type, 0);
    meta.big_endian = H5Tget_order(mt) == H5T_ORDER_BE;
    H5Tclose(mt);
  } else if (cls == H5T_ENUM) {
    // Zarr readers see the integer values; HDF5 gets the names back from _hdf5.datatype.
    hid_t base = H5Tget_super(type);
    name = core_number_name(base, &meta.big_endian);
    H5Tclose(base);
  } else if (cls == H5T_STRING) {
    name = "null_terminated_bytes";
    meta.data_type_config = {{"length_bytes", size}};
  } else if (cls == H5T_COMPOUND) {
    model::json fields = structured_fields(type);
    if (!fields.is_null()) {
      name = "structured";
      meta.data_type_config = {{"fields", fields}};
    }
  }
  if (name.empty()) {  // anything else: opaque bytes, exact type in _hdf5.datatype
    name = "raw_bytes";
    meta.data_type_config = {{"length_bytes", size}};
  }
  meta.data_type = name;
  meta.hdf5_type = encode_type(type);
}

namespace {

hid_t structured_to_hdf5(const model::json& fields);

hid_t field_type(const model::json& ft) {
  model::ArrayMeta m;
  m.data_type = ft.is_string() ? ft.get<std::string>() : ft.value("name", "");
  if (m.data_type == "structured") return structured_to_hdf5(ft.at("configuration").at("fields"));
  m.element_size = model::zarr_type_size(m.data_type);
  return type_from_meta(m);
}

hid_t structured_to_hdf5(const model::json& fields) {
  std::vector<hid_t> types;
  size_t total = 0;
  for (const auto& f : fields) {
    types.push_back(field_type(f.at(1)));
    total += H5Tget_size(types.back());
  }
  hid_t t = H5Tcreate(H5T_COMPOUND, total);
  size_t off = 0;
  for (size_t i = 0; i < types.size(); ++i) {
    H5Tinsert(t, fields[i].at(0).get<std::string>().c_str(), off, types[i]);
    off += H5Tget_size(types[i]);
    H5Tclose(types[i]);
  }
  return t;
}

}  // namespace

hid_t decode_type(const std::vector<unsigned char>& encoded) {
#if H5_VERSION_GE(2, 0, 0)
  return H5Tdecode2(encoded.data(), encoded.size());
#else
  return H5Tdecode(encoded.data());
#endif
}

hid_t type_from_meta(const model::ArrayMeta& meta) {
  if (!meta.hdf5_type.empty()) {
    auto bytes = model::base64_decode(meta.hdf5_type);
    if (bytes.ok()) {
      hid_t t = decode_type(bytes.value());
      if (t >= 0) return t;
    }
    throw Error(io_error("the stored HDF5 datatype (_hdf5.datatype) is corrupt"));
  }
  const std::string& n = meta.data_type;
  const bool be = meta.big_endian;
  if (n == "int8") return copy_order(H5T_STD_I8LE, be);
  if (n == "int16") return copy_order(H5T_STD_I16LE, be);
  if (n == "int32") return copy_order(H5T_STD_I32LE, be);
  if (n == "int64") return copy_order(H5T_STD_I64LE, be);
  if (n == "uint8") return copy_order(H5T_STD_U8LE, be);
  if (n == "uint16") return copy_order(H5T_STD_U16LE, be);
  if (n == "uint32") return copy_order(H5T_STD_U32LE, be);
  if (n == "uint64") return copy_order(H5T_STD_U64LE, be);
  if (n == "float16") {
    hid_t f16 = ieee_f16le();
    hid_t t = copy_order(f16, be);
    H5Tclose(f16);
    return t;
  }
  if (n == "float32") return copy_order(H5T_IEEE_F32LE, be);
  if (n == "float64") return copy_order(H5T_IEEE_F64LE, be);
  if (n == "bool") {
    hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
    signed char f = 0, tr = 1;
    H5Tenum_insert(t, "FALSE", &f);
    H5Tenum_insert(t, "TRUE", &tr);
    return t;
  }
  if (n == "complex64" || n == "complex128") {
    const size_t half = n == "complex64" ? 4 : 8;
    hid_t ft = copy_order(half == 4 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE, be);
    hid_t t = H5Tcreate(H5T_COMPOUND, 2 * half);
    H5Tinsert(t, "r", 0, ft);
    H5Tinsert(t, "i", half, ft);
    H5Tclose(ft);
    return t;
  }
  if (n == "string") {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
  }
  if (n == "variable_length_bytes") return H5Tvlen_create(H5T_STD_U8LE);  // Zarr-written bytes
  if (n == "null_terminated_bytes") {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, meta.element_size);
    H5Tset_strpad(t, H5T_STR_NULLPAD);  // numpy's "S" layout
    return t;
  }
  if (n == "structured" && meta.data_type_config.is_object()) return structured_to_hdf5(meta.data_type_config.at("fields"));
  if (meta.element_size > 0 && (n == "raw_bytes" || (n.size() > 1 && n[0] == 'r')))
    return H5Tcreate(H5T_OPAQUE, meta.element_size);
  throw Error(unsupported("Zarr data type '" + n + "'"));
}

std::vector<uint64_t> default_chunk_shape(const std::vector<uint64_t>& shape, size_t element_size) {
  // Objects of at most ~4 MiB: large enough to amortise request latency, small enough that a
  // partial read or a read-modify-write stays cheap. Halve dimensions round-robin (as h5py does
  // for auto-chunking) until the chunk fits.
  constexpr uint64_t kTarget = 4ull << 20;
  std::vector<uint64_t> c(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) c[d] = std::max<uint64_t>(shape[d], 1);
  if (c.empty()) return c;
  size_t d = 0;
  for (;;) {
    uint64_t bytes = element_size;
    for (auto v : c) bytes *= v;
    if (bytes <= kTarget) break;
    bool any = false;
    for (size_t k = 0; k < c.size() && !any; ++k) any = c[k] > 1;
    if (!any) break;
    while (c[d % c.size()] <= 1) ++d;
    c[d % c.size()] = (c[d % c.size()] + 1) / 2;
    ++d;
  }
  return c;
}

namespace {

// The fill value of a variable-length string dataset's dcpl (Zarr's "string" fill_value).
std::string variable_string_fill(hid_t dcpl, hid_t type) {
  char* p = nullptr;
  if (H5Pget_fill_value(dcpl, type, &p) < 0) throw Error(invalid_argument("cannot read the string fill value"));
  std::string s = p ? p : "";
  if (p) H5free_memory(p);
  if (!valid_utf8(s.data(), s.size()))
    throw Error(unsupported("a variable-length string fill value that is not valid UTF-8 (Zarr stores it as JSON text)"));
  return s;
}

}  // namespace

void apply_dcpl(hid_t dcpl, hid_t type, model::ArrayMeta& meta) {
  const size_t rank = meta.shape.size();
  H5D_layout_t layout = dcpl >= 0 && dcpl != H5P_DEFAULT ? H5Pget_layout(dcpl) : H5D_CONTIGUOUS;
  if (layout == H5D_VIRTUAL) throw Error(unsupported("virtual datasets (H5D_VIRTUAL layout)"));
  // Raw data in files outside the store: refused rather than silently stored in the store.
  if (dcpl >= 0 && dcpl != H5P_DEFAULT && H5Pget_external_count(dcpl) > 0)
    throw Error(unsupported("external raw-data files (H5Pset_external, h5py create_dataset(external=...))"));
  if (layout == H5D_CHUNKED && rank > 0) {
    std::vector<hsize_t> dims(rank);
    if (H5Pget_chunk(dcpl, static_cast<int>(rank), dims.data()) != static_cast<int>(rank))
      throw Error(invalid_argument("chunk dimensions do not match the dataset's rank"));
    meta.chunk_shape.assign(dims.begin(), dims.end());
    meta.contiguous = false;
  } else {
    meta.chunk_shape = default_chunk_shape(meta.shape, meta.element_size);
    meta.contiguous = true;
  }

  // Fill value, in the file type's representation.
  meta.fill_bytes.assign(meta.element_size, 0);
  meta.fill_defined = true;
  std::string string_fill;  // of a variable-length string dataset
  if (dcpl >= 0 && dcpl != H5P_DEFAULT) {
    H5D_fill_value_t st = H5D_FILL_VALUE_DEFAULT;
    H5Pfill_value_defined(dcpl, &st);
    if (st == H5D_FILL_VALUE_USER_DEFINED && meta.data_type == "string") {
      string_fill = variable_string_fill(dcpl, type);
    } else if (st == H5D_FILL_VALUE_USER_DEFINED && meta.variable_length()) {
      // sequences and serialized elements: HDF5's default fill (empty) is what reads return
    } else if (st == H5D_FILL_VALUE_USER_DEFINED) {
      std::vector<unsigned char> buf(std::max<size_t>(meta.element_size, H5Tget_size(type)));
      if (H5Pget_fill_value(dcpl, type, buf.data()) < 0)
        throw Error(invalid_argument("cannot convert the fill value to the dataset's datatype"));
      std::memcpy(meta.fill_bytes.data(), buf.data(), meta.element_size);
    } else if (st == H5D_FILL_VALUE_UNDEFINED) {
      meta.fill_defined = false;
    }
  }
  auto fj = model::fill_bytes_to_json(meta.fill_bytes.data(), meta.data_type, meta.element_size, meta.big_endian);
  meta.fill_value = fj.ok() ? fj.value() : model::json(0);
  if (!string_fill.empty()) meta.fill_value = string_fill;
  H5D_fill_time_t fill_time = H5D_FILL_TIME_IFSET;
  if (dcpl >= 0 && dcpl != H5P_DEFAULT) H5Pget_fill_time(dcpl, &fill_time);
  meta.fill_time = fill_time;
  if (fill_time == H5D_FILL_TIME_NEVER && !meta.variable_length()) {
    // Unwritten elements are undefined in HDF5: stored and read as zeros, the set value reported.
    if (meta.fill_defined && std::any_of(meta.fill_bytes.begin(), meta.fill_bytes.end(), [](unsigned char b) { return b; }))
      meta.reported_fill = meta.fill_value;
    std::fill(meta.fill_bytes.begin(), meta.fill_bytes.end(), 0);
    auto zero = model::fill_bytes_to_json(meta.fill_bytes.data(), meta.data_type, meta.element_size, meta.big_endian);
    meta.fill_value = zero.ok() ? zero.value() : model::json(0);
  } else if (fill_time == H5D_FILL_TIME_NEVER) {
    meta.fill_time = H5D_FILL_TIME_IFSET;  // variable-length data is always initialised (as in HDF5)
  }

  // Filters -> codecs (after the bytes codec, in HDF5's pipeline order).
  meta.codecs.clear();
  meta.skipped_filters = model::json::array();
  model::Codec bytes{meta.data_type == "string"                  ? "vlen-utf8"
                     : meta.data_type == "variable_length_bytes" ? "vlen-bytes"
                                                                 : "bytes",
                     model::json::object()};
  if (model::has_endianness(meta.data_type, meta.element_size))
    bytes.configuration = {{"endian", meta.big_endian ? "big" : "little"}};
  meta.codecs.push_back(bytes);
  int nfilters = dcpl >= 0 && dcpl != H5P_DEFAULT ? H5Pget_nfilters(dcpl) : 0;
  for (int i = 0; i < nfilters; ++i) {
    unsigned flags = 0, cd[16] = {0}, filter_config = 0;
    size_t ncd = 16;
    char fname[128] = {0};
    H5Z_filter_t id = H5Pget_filter2(dcpl, static_cast<unsigned>(i), &flags, &ncd, cd, sizeof fname, fname, &filter_config);
    if (id == H5Z_FILTER_DEFLATE) {
      meta.codecs.push_back({"gzip", {{"level", ncd > 0 ? cd[0] : 6}}});
    } else if (id == H5Z_FILTER_SHUFFLE) {
      meta.codecs.push_back({"numcodecs.shuffle", {{"elementsize", meta.element_size}}});
    } else if (id == kZstdFilter) {
      meta.codecs.push_back({"zstd", {{"level", ncd > 0 ? static_cast<int>(cd[0]) : 3}, {"checksum", false}}});
    } else if (id == kBloscFilter) {
      // cd_values: [filter rev, blosc format, typesize, chunk bytes, clevel, shuffle, compressor]
      const unsigned clevel = ncd > 4 ? cd[4] : 5, shuffle = ncd > 5 ? cd[5] : 1, code = ncd > 6 ? cd[6] : 0;
      if (code >= sizeof kBloscNames / sizeof kBloscNames[0])
        throw Error(unsupported("blosc compressor code " + std::to_string(code)));
      meta.codecs.push_back({"blosc",
                             {{"cname", kBloscNames[code]},
                              {"clevel", clevel},
                              {"shuffle", shuffle == 0 ? "noshuffle" : shuffle == 2 ? "bitshuffle" : "shuffle"},
                              {"typesize", meta.element_size},
                              {"blocksize", 0}}});
    } else {
      // Any other filter runs through its own code (io/hdf5_filter.hpp).
      auto codec = check(io::prepare_filter(dcpl, static_cast<unsigned>(i), type, meta.chunk_shape));
      if (codec.name == io::kSkippedFilter) {
        codec.configuration["index"] = i;
        meta.skipped_filters.push_back(std::move(codec.configuration));
      } else if (!codec.name.empty()) {
        meta.codecs.push_back(std::move(codec));
      }
    }
  }
  check(io::check_codecs(meta.codecs));
}

hid_t dcpl_from_meta(const model::ArrayMeta& meta, hid_t type) {
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (!meta.contiguous && !meta.shape.empty()) {
    std::vector<hsize_t> dims(meta.chunk_shape.begin(), meta.chunk_shape.end());
    H5Pset_chunk(dcpl, static_cast<int>(dims.size()), dims.data());
    // Skipped optional filters go back to their places in the pipeline.
    size_t pos = 0, skipped = 0;
    auto put_skipped = [&](bool all) {
      const auto& sf = meta.skipped_filters;
      while (skipped < sf.size() && (all || sf[skipped].value("index", 0u) <= pos)) {
        io::set_filter(dcpl, model::Codec{io::kSkippedFilter, sf[skipped]});
        ++skipped;
        ++pos;
      }
    };
    for (const auto& c : meta.codecs) {
      if (c.name == "bytes" || c.name == "vlen-utf8" || c.name == "vlen-bytes") continue;
      put_skipped(false);
      ++pos;
      if (c.name == "gzip") H5Pset_deflate(dcpl, c.configuration.value("level", 6u));
      else if (c.name == "numcodecs.shuffle") H5Pset_shuffle(dcpl);
      else if (c.name == "zstd") {
        unsigned level = static_cast<unsigned>(c.configuration.value("level", 3));
        H5Pset_filter(dcpl, kZstdFilter, H5Z_FLAG_OPTIONAL, 1, &level);
      } else if (c.name == "blosc") {
        const std::string cname = c.configuration.value("cname", "lz4");
        const std::string sh = c.configuration.value("shuffle", "noshuffle");
        unsigned code = 0;
        while (code < 6 && cname != kBloscNames[code]) ++code;
        unsigned cd[7] = {2, 2, static_cast<unsigned>(meta.element_size), static_cast<unsigned>(meta.chunk_bytes()),
                          c.configuration.value("clevel", 5u), sh == "shuffle" ? 1u : sh == "bitshuffle" ? 2u : 0u, code};
        H5Pset_filter(dcpl, kBloscFilter, H5Z_FLAG_OPTIONAL, 7, cd);
      } else if (c.name == io::kHdf5FilterCodec) {
        io::set_filter(dcpl, c);
      }
    }
    put_skipped(true);
  }
  if (meta.fill_time != H5D_FILL_TIME_IFSET) H5Pset_fill_time(dcpl, static_cast<H5D_fill_time_t>(meta.fill_time));
  if (meta.fill_time == H5D_FILL_TIME_NEVER) {
    if (!meta.reported_fill.is_null()) {
      auto bytes = model::fill_json_to_bytes(meta.reported_fill, meta.data_type, meta.element_size, meta.big_endian);
      if (bytes.ok() && bytes.value().size() == H5Tget_size(type)) H5Pset_fill_value(dcpl, type, bytes.value().data());
    }
  } else if (meta.fill_defined && meta.fill_bytes.size() == H5Tget_size(type) && !meta.variable_length()) {
    H5Pset_fill_value(dcpl, type, meta.fill_bytes.data());
  } else if (meta.data_type == "string" && meta.fill_value.is_string() && !meta.fill_value.get<std::string>().empty()) {
    const std::string& fill = meta.fill_value.get_ref<const std::string&>();
    const char* p = fill.c_str();
    H5Pset_fill_value(dcpl, type, &p);
  }
  return dcpl;
}

std::vector<unsigned char> encode_type_bytes(hid_t type) {
  size_t n = 0;
  if (H5Tencode(type, nullptr, &n) < 0) throw Error(io_error("cannot serialise the HDF5 datatype"));
  std::vector<unsigned char> buf(n);
  if (H5Tencode(type, buf.data(), &n) < 0) throw Error(io_error("cannot serialise the HDF5 datatype"));
  buf.resize(n);
  return buf;
}

std::string encode_type(hid_t type) {
  const auto buf = encode_type_bytes(type);
  return model::base64_encode(buf.data(), buf.size());
}

}  // namespace arraymorph::vol
