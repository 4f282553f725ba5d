// type_map.hpp -- HDF5 datatypes <-> Zarr v3 data types, and HDF5 creation properties <->
// arraymorph array metadata.
//
// Zarr core types cover bool, (u)int8-64, float16/32/64 and complex64/128; every other HDF5 type
// is stored as raw bytes ("r<bits>") with its exact HDF5 description (H5Tencode, base64) in
// `_hdf5.datatype`, so HDF5 round trips are exact. Byte order goes to the bytes codec.
//
// Thread-safety: calls H5T/H5P functions: HDF5 calling thread only.
#pragma once

#include <hdf5.h>

#include "model/zarr_metadata.hpp"

namespace arraymorph::vol {

// Fills data_type, element_size, big_endian, hdf5_type from an HDF5 file type. Throws for types
// arraymorph cannot store (variable-length data, references) with a message naming the type.
void describe_type(hid_t type, model::ArrayMeta& meta);
// The HDF5 file datatype for stored metadata (from _hdf5.datatype, else from data_type).
hid_t type_from_meta(const model::ArrayMeta& meta);

// H5Tencode of a type (throws naming the failure), and its base64 form (`_hdf5.datatype`).
std::vector<unsigned char> encode_type_bytes(hid_t type);
std::string encode_type(hid_t type);

// H5Tdecode of an H5Tencode'd description, for every supported HDF5 series: HDF5 2.x's
// H5Tdecode2 also takes the buffer size (and refuses to read past it), 1.14's H5Tdecode does not.
// The caller owns the returned id; negative on failure (HDF5 error stack set).
hid_t decode_type(const std::vector<unsigned char>& encoded);

// True for an IEEE binary16/32/64 float layout of `size` bytes (either byte order).
bool float_layout_is_ieee(hid_t type, size_t size);

// Dataset creation: chunk shape, fill value and filters -> meta (shape already set).
void apply_dcpl(hid_t dcpl, hid_t type, model::ArrayMeta& meta);
// A DCPL describing meta (layout, chunks, fill value, filters) for H5Dget_create_plist.
hid_t dcpl_from_meta(const model::ArrayMeta& meta, hid_t type);

// Default chunk shape for datasets created without chunks= (docs/format.md "contiguous").
std::vector<uint64_t> default_chunk_shape(const std::vector<uint64_t>& shape, size_t element_size);

}  // namespace arraymorph::vol
