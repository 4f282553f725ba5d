// attribute_value.hpp -- HDF5 attribute values <-> the JSON stored in a node's zarr.json (the
// encoder/decoder; attribute_store.hpp keeps them in a node).
//
// Format (docs/format.md, "Attributes"): the value of attribute <name> is the plain JSON value
// `attributes.<name>` that any Zarr reader sees:
//   - integers -> JSON integers, floats -> JSON numbers ("NaN", "Infinity", "-Infinity" for the
//     non-finite values, as Zarr fill values), complex -> [re, im], h5py booleans -> true/false,
//     other enums -> their integer value, strings (fixed or variable length) -> JSON strings,
//     compound -> JSON object keyed by member name, array members / vlen sequences -> lists;
//   - an attribute with a dataspace of rank k is a k-deep nested list; scalars are the element
//     itself; an empty (H5S_NULL) dataspace is JSON null.
// When that JSON alone would not give back the same HDF5 type and shape ("natural" mapping
// below), `_hdf5.attributes.<name> = {"datatype": base64(H5Tencode), "shape": [...] | null}` is
// stored too, with "encoding": "base64" when the value is the base64 of the raw bytes (types JSON
// cannot express, e.g. opaque, bitfield, long double) or "base64-strings" when strings are not
// valid UTF-8 (each string is then base64 of its bytes).
//
// Natural mapping (attributes written by Zarr tools, without `_hdf5` entry): bool -> h5py bool
// enum, integer -> int64 (uint64 above INT64_MAX), float -> float64, string -> variable-length
// UTF-8 string, rectangular (nested) lists of one kind -> N-d arrays of that kind (numbers mixing
// ints and floats -> float64), null -> empty dataspace (float64), anything else (objects, mixed or
// ragged lists) -> variable-length UTF-8 string holding the JSON text.
//
// Memory layout: buffers follow HDF5's in-memory layout of the given type: variable-length
// strings are `char*`, sequences `hvl_t`; what decoding allocates comes from H5allocate_memory,
// so the application frees it with H5Treclaim / H5free_memory as for native HDF5.
//
// Thread-safety: calls H5T/H5S functions: HDF5 calling thread only.
#pragma once

#include <hdf5.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/hid.hpp"
#include "model/zarr_metadata.hpp"

namespace arraymorph::vol {

using model::json;

// How a value is kept in JSON (the "encoding" of the _hdf5 entry).
enum class ValueEncoding { kJson, kRaw, kStringsBase64 };

struct EncodedValue {
  json value;
  ValueEncoding encoding = ValueEncoding::kJson;
};

// One attribute as stored in a node: its HDF5 type, dataspace and JSON value.
struct AttrRecord {
  Hid type;
  Hid space;
  json value;
  ValueEncoding encoding = ValueEncoding::kJson;
};

// New-style references (H5R_ref_t) in caller buffers (vol/reference_values.hpp): HDF5 makes and
// opens them through the connector's tokens, so only the owner of the file can translate them.
// `encode` gives the stored JSON of the reference at `ref` (an id string, null for the null
// reference); `decode` makes the reference to the stored JSON at `ref` (the caller's buffer
// then owns it: H5Treclaim / H5Rdestroy releases it). Without a codec such buffers are refused.
struct NewRefCodec {
  std::function<json(const unsigned char* ref)> encode;
  std::function<void(const json& stored, unsigned char* ref)> decode;
};

// Elements of a dataspace (0 for H5S_NULL).
hsize_t space_elements(hid_t space);

// Throws Unsupported (naming the type) when attributes of `type` cannot be stored (references,
// variable-length data of types JSON cannot express).
void check_attribute_type(hid_t type);

// Buffer of `space`'s elements in `type`'s layout -> JSON.
EncodedValue encode_value(hid_t type, hid_t space, const void* buf, const NewRefCodec* refs = nullptr);
// JSON -> zeroed-then-filled buffer of `space`'s elements in `type`'s layout. Throws
// InvalidArgument when the JSON does not fit the type or shape.
void decode_value(const json& value, ValueEncoding encoding, hid_t type, hid_t space, void* buf,
                  const NewRefCodec* refs = nullptr);

// Decodes `value` into a scratch buffer (and frees it): throws InvalidArgument when it does not
// fit (type, space).
void validate(const json& value, ValueEncoding enc, hid_t type, hid_t space);

// H5Awrite: `buf` in `mem_type` -> the value of an attribute of (file_type, space).
// `background`: the attribute's current value in the file type, so members of a compound that
// the memory type lacks keep their values (H5Awrite of a member subset); null for zeros.
// A memory type holding new-style references is encoded through `refs` (its JSON is the same
// as the stored type's: references are id strings in both).
EncodedValue encode_from_memory(hid_t file_type, hid_t space, hid_t mem_type, const void* buf,
                                const void* background = nullptr, const NewRefCodec* refs = nullptr);
// H5Aread: the stored record -> `buf` in `mem_type` (converted like native HDF5 when the types
// differ).
// A memory type holding new-style references is filled through `refs`.
void read_into_memory(const AttrRecord& rec, hid_t mem_type, void* buf, const NewRefCodec* refs = nullptr);

// ---- dataspaces of attributes
struct AttrShape {
  bool null = false;          // H5S_NULL
  std::vector<hsize_t> dims;  // empty: scalar
};
// Throws InvalidArgument for anything but a null, scalar or simple dataspace.
AttrShape shape_of(hid_t space);
hid_t make_space(const AttrShape& s);  // caller owns the id
bool same_shape(hid_t a, hid_t b);

// ---- natural mapping (header comment): the type and dataspace plain JSON `v` reads as.
struct Natural {
  Hid type;
  Hid space;
  json value;
  bool text = false;  // value is the JSON text of a structure
};
Natural natural_of(const json& v);

}  // namespace arraymorph::vol
