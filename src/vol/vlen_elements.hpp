// vlen_elements.hpp -- datasets whose elements hold variable-length data anywhere other than as
// the whole element: compounds and arrays with variable-length strings or sequences among their
// members (h5py: a structured dtype with an `h5py.string_dtype()` or `vlen_dtype(...)` field),
// and sequences of variable-length data (a vlen of vlen strings).
//
// Stored form (docs/format.md, "Variable-length data"): Zarr's `variable_length_bytes` with the
// `vlen-bytes` codec, like plain sequences, one item per element holding the element *serialized*
// by walking its file datatype (`_hdf5.datatype`):
//   fixed-size part (number, fixed string, enum, opaque, ...): its bytes in the file type's layout
//   variable-length string:  u64 byte length (all ones for a null pointer), then the bytes
//   variable-length sequence: u64 element count, then each element serialized
//   compound: each member in member order; array: each element in order
// (integers little-endian). A never-written element (empty item) reads as all zero: empty
// sequences and null strings, as HDF5's default fill.
//
// Conversion between the memory and file datatypes is HDF5's own (H5Tconvert, which also
// converts the variable-length parts and matches compound members by name); the intermediate
// buffer in the file layout is released with H5Treclaim. HDF5 calling thread only.
#pragma once

#include <hdf5.h>

#include <string>
#include <vector>

namespace arraymorph::vol {

// True for a dataset file type stored in the serialized form above (false for variable-length
// strings and for sequences of fixed-size elements, which have their own forms).
bool serialized_elements(hid_t file_type);

// `count` dense memory elements of `mem_type` -> one serialized item each (file type layout).
std::vector<std::string> elements_to_items(hid_t file_type, hid_t mem_type, const void* elems, uint64_t count,
                                           const std::string& what);
// Items -> `items.size()` dense elements of `mem_type` at `out` (variable-length parts allocated
// with the dxpl's vlen memory manager, else malloc, as HDF5 does).
void items_to_elements(hid_t file_type, hid_t mem_type, const std::vector<std::string>& items, void* out,
                       hid_t dxpl, const std::string& what);

}  // namespace arraymorph::vol
