// attribute_value.hpp -- HDF5 attribute values <-> the JSON stored in a node's zarr.json.
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

#include "model/zarr_metadata.hpp"

namespace arraymorph::vol {

using model::json;

// An owned HDF5 id (datatype or dataspace), closed on destruction.
class Hid {
 public:
  Hid() = default;
  explicit Hid(hid_t id) : id_(id) {}
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  Hid(Hid&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)) {}
  Hid& operator=(Hid&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  ~Hid() { reset(); }
  hid_t get() const { return id_; }
  hid_t release() { return std::exchange(id_, H5I_INVALID_HID); }
  void reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
};

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

// ---- a node's attributes (node.attributes / node.hdf5["attributes"|"attribute_order"])
bool has_attribute(const model::Node& node, const std::string& name);
// The stored record of attribute `name`; NotFound naming it when absent.
AttrRecord load_attribute(const model::Node& node, const std::string& name);
// Sets value (+ `_hdf5` entry when JSON alone is not exact); appends new names to the creation
// order.
void store_attribute(model::Node& node, const std::string& name, hid_t type, hid_t space, const EncodedValue& v);
void erase_attribute(model::Node& node, const std::string& name);
void rename_attribute(model::Node& node, const std::string& from, const std::string& to);
// Attribute names in HDF5 index order: H5_INDEX_NAME (byte order) or H5_INDEX_CRT_ORDER.
std::vector<std::string> attribute_names(const model::Node& node, H5_index_t index, H5_iter_order_t order);
// Creation-order index of `name` (position in the creation order).
uint32_t attribute_creation_index(const model::Node& node, const std::string& name);

// Attribute creation-order flags (H5Pset_attr_creation_order: H5P_CRT_ORDER_TRACKED |
// H5P_CRT_ORDER_INDEXED) of an object creation property list (gcpl, dcpl or fcpl), kept in
// node.hdf5["attr_creation_order"]. h5py's `track_order=True` sets them and h5py iterates
// attributes by creation order only when the object's create plist reports them, so:
// group/dataset/file create call record_..., H5Gget_create_plist/H5Dget_create_plist/
// H5Fget_create_plist call apply_... (arraymorph tracks creation order for every attribute
// anyway; the flags only choose h5py's default iteration order).
void record_attr_creation_order(hid_t ocpl, model::Node& node);
void apply_attr_creation_order(const model::Node& node, hid_t ocpl);

}  // namespace arraymorph::vol
