// zarr_metadata.hpp -- in-memory form of one Zarr v3 node (group or array) plus the `_hdf5` extras,
// and its (de)serialization to `zarr.json` (docs/format.md, format version kFormatVersion).
//
// Pure data: no HDF5 ids, no I/O. The VOL layer converts HDF5 types/property lists to and from
// these structs (src/vol/type_map.cpp); the I/O layer reads ArrayMeta to plan chunk access.
//
// Thread-safety: value types; a Node shared between threads must not be mutated.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.hpp"
#include "model/shard_index.hpp"

namespace arraymorph::model {

using json = nlohmann::json;

// Version of the arraymorph layout written into `attributes._hdf5.format` (docs/format.md).
inline constexpr int kFormatVersion = 2;
// Reserved attribute holding what Zarr cannot express.
inline constexpr const char* kHdf5Key = "_hdf5";

// kDatatype: an HDF5 committed (named) datatype. Stored as a Zarr group node (Zarr has no such
// node) whose `_hdf5.committed_datatype` holds the base64 H5Tencode of the type (docs/format.md);
// it has no children.
enum class NodeKind { kGroup, kArray, kDatatype };
// The `_hdf5` key of a committed datatype node, and of datasets/attributes created with one (the
// committed type's object id, 16 hex digits).
inline constexpr const char* kCommittedDatatypeKey = "committed_datatype";
inline constexpr const char* kCommittedTypeRefKey = "committed_type";

// One codec of the chain, e.g. {"name":"bytes","configuration":{"endian":"little"}}.
struct Codec {
  std::string name;
  json configuration = json::object();
};

struct ArrayMeta {
  std::vector<uint64_t> shape;        // current extent, elements
  std::vector<uint64_t> chunk_shape;  // elements; same rank as shape
  std::string data_type;              // Zarr v3 name: "int32", "float64", "bool", "structured", ...
  json data_type_config;              // configuration of extension types (null for core types)
  size_t element_size = 0;            // bytes of one stored element
  bool big_endian = false;            // bytes codec endian
  json fill_value;                    // Zarr JSON form
  std::vector<unsigned char> fill_bytes;  // fill value as one stored element (file byte order)
  std::vector<Codec> codecs;          // full chain incl. "bytes"
  // _hdf5 extras
  std::optional<std::vector<int64_t>> max_shape;  // -1 = unlimited; nullopt = same as shape
  bool contiguous = false;            // created without chunks= (HDF5 contiguous layout)
  // HDF5 null dataspace (H5S_NULL, h5py.Empty): stored as shape [0] with _hdf5.dataspace = "null".
  bool null_space = false;
  std::string hdf5_type;              // base64 of H5Tencode of the file type ("" = derive)
  bool fill_defined = true;           // user set / default (HDF5's H5D_FILL_VALUE_*)
  // HDF5's fill time (H5D_fill_time_t: 0 alloc, 1 never, 2 ifset), `_hdf5.fill_time` unless
  // "ifset". With "never" unwritten elements are undefined in HDF5; arraymorph stores and reads
  // them as zero bytes (fill_value/fill_bytes), and keeps the fill value HDF5 reports
  // (H5Pget_fill_value) in `_hdf5.fill_value` (Zarr JSON form; null when none was set).
  int fill_time = 2;
  json reported_fill;
  // Optional HDF5 filters that were not available at creation (io/hdf5_filter.hpp kSkippedFilter):
  // [{"index": position in the HDF5 pipeline, "id", "name", "flags", "cd_values"}], `_hdf5.skipped_filters`.
  json skipped_filters = json::array();
  // Zarr `dimension_names`: one string or null per dimension (src/model/dimension_names.hpp);
  // empty = all null. Always written, so Zarr readers (xarray) find the key.
  std::vector<json> dimension_names;
  // Zarr `sharding_indexed` (model/shard_index.hpp): set when chunks are stored as inner chunks
  // of shards. chunk_shape and codecs above are then the inner chunks' (what HDF5 sees).
  std::optional<ShardLayout> shard;

  uint64_t chunk_elements() const;    // product of chunk_shape (1 for rank 0)
  uint64_t chunk_bytes() const { return chunk_elements() * element_size; }
  size_t rank() const { return shape.size(); }
  // Variable-length elements: "string" (vlen-utf8) or "variable_length_bytes" (vlen-bytes, HDF5
  // vlen sequences); chunks hold items, not element_size-byte elements (io/vlen_strings.hpp).
  bool variable_length() const { return data_type == "string" || data_type == "variable_length_bytes"; }
  // True when only the bytes codec is present (chunks are raw, byte ranges map to elements).
  bool uncompressed() const;
};

struct Node {
  NodeKind kind = NodeKind::kGroup;
  json attributes = json::object();  // user attributes (without _hdf5)
  json hdf5 = json::object();        // the _hdf5 extras other than array fields
  std::optional<ArrayMeta> array;    // set iff kind == kArray
  // Consolidated metadata of the subtree ("a", "a/b" -> node JSON), root only, when present.
  std::optional<json> consolidated;
};

// Reads a codec list (strings or {"name", "configuration"} objects) into a.codecs, taking the
// bytes codec's endian into a.big_endian.
Status read_codecs(const json& list, ArrayMeta& a);
json codecs_to_json(const std::vector<Codec>& codecs);

// Serializes to the zarr.json document. Consolidated metadata is emitted when node.consolidated.
json to_zarr_json(const Node& node);
// Parses a zarr.json document; `where` names the key in error messages.
Result<Node> from_zarr_json(const json& doc, const std::string& where);
// Refuses documents nested deeper than kMaxJsonDepth (an error naming `where`) before parsing.
Result<Node> parse_zarr_json(const std::string& text, const std::string& where);
// Deepest nesting of arrays/objects in JSON text (strings skipped); iterative, O(size).
size_t max_json_depth(const std::string& text);
// Deepest nesting any arraymorph document needs (attributes of rank <= 32 arrays of compounds
// with headroom); deeper documents are refused.
inline constexpr size_t kMaxJsonDepth = 256;

// Fill value <-> bytes for a Zarr core data type (little/big endian per meta.big_endian).
Result<std::vector<unsigned char>> fill_json_to_bytes(const json& fill, const std::string& data_type,
                                                      size_t element_size, bool big_endian);
Result<json> fill_bytes_to_json(const unsigned char* bytes, const std::string& data_type,
                                size_t element_size, bool big_endian);
// Size in bytes of a Zarr data type ("int16" -> 2, "r24" -> 3, raw_bytes/null_terminated_bytes ->
// configuration.length_bytes, structured -> sum of its fields); 0 when unknown.
size_t zarr_type_size(const std::string& data_type, const json& config = json());
// JSON form of a data type: the name, or {"name", "configuration"} for extension types.
json data_type_json(const std::string& name, const json& config);
// True for types whose bytes codec needs an "endian" (multi-byte numbers).
bool has_endianness(const std::string& data_type, size_t element_size);

std::string base64_encode(const unsigned char* data, size_t size);
Result<std::vector<unsigned char>> base64_decode(const std::string& text);

}  // namespace arraymorph::model
