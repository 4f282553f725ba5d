// vlen_sequences.hpp -- datasets of HDF5 variable-length sequences (h5py.vlen_dtype(...)):
// memory `hvl_t` elements <-> the stored items of io/vlen_strings.hpp (Zarr
// "variable_length_bytes", one item = the sequence's elements in the file base type's bytes).
//
// Memory sequences are malloc'ed (HDF5's default vlen memory manager, which H5Treclaim and h5py
// free with free()) unless the transfer property list names another allocator. Base types are converted with H5Tconvert (HDF5 calling thread only); a base
// type holding variable-length data itself is refused when the dataset is created
// (type_map.cpp).
#pragma once

#include <hdf5.h>

#include <string>
#include <vector>

namespace arraymorph::vol {

// True when `type` is or contains variable-length data (a vlen sequence or a variable-length
// string, at any depth of compounds and arrays).
bool contains_variable_length(hid_t type);

// `count` memory elements of `mem_type` (hvl_t, dense) -> items in the base of `file_type`.
// `what` names the dataset in errors.
std::vector<std::string> sequences_to_items(hid_t file_type, hid_t mem_type, const void* elems, uint64_t count,
                                            const std::string& what);
// Items in the base of `file_type` -> `items.size()` hvl_t of `mem_type` at `out`, allocated with
// the dxpl's vlen memory manager (H5Pset_vlen_mem_manager), else malloc.
void items_to_sequences(hid_t file_type, hid_t mem_type, const std::vector<std::string>& items, void* out,
                        hid_t dxpl, const std::string& what);
// Bytes H5Dread would allocate for `items` read as `mem_type` (H5Dvlen_get_buf_size).
uint64_t sequences_buf_size(hid_t file_type, hid_t mem_type, const std::vector<std::string>& items);

// Refuses a memory type that is not a vlen sequence (there is no conversion path).
void require_sequence_memory_type(hid_t mem_type, const std::string& what);

}  // namespace arraymorph::vol
