// type_walker.hpp -- an HDF5 datatype parsed once into a tree (TNode), so that encoding and
// decoding attribute elements does not call H5T* per element (attribute_value.cpp).
//
// Thread-safety: analyze() calls H5T functions: HDF5 calling thread only. TNode is a value.
#pragma once

#include <hdf5.h>

#include <string>
#include <vector>

#include "vol/reference_values.hpp"

namespace arraymorph::vol {

// A parsed HDF5 type, so encoding/decoding elements does not call H5T* per element.
struct TNode {
  enum K { kInt, kFloat, kBool, kEnum, kComplex, kCompound, kArray, kFixedStr, kVlenStr, kVlenSeq, kRef, kRaw };
  K k = kRaw;
  size_t size = 0;
  bool big_endian = false;
  bool is_signed = false;
  H5T_str_t pad = H5T_STR_NULLTERM;
  std::vector<std::string> names;  // compound members
  std::vector<size_t> offsets;     // compound members
  std::vector<TNode> kids;         // members; base of enum/array/vlen/complex
  std::vector<hsize_t> dims;       // array type dims
  bool raw_inside = false;         // some part cannot be expressed in JSON
  bool pointers = false;           // some part is variable-length (pointers in memory)
  RefKind ref = RefKind::kNone;    // kRef: object, region or new-style reference (vol/reference_values.hpp)
};

// The name of member `i` of a compound or enum type.
std::string member_name(hid_t type, unsigned i);

// Walks `type` (recursively through members, bases and array/vlen elements).
TNode analyze(hid_t type);

}  // namespace arraymorph::vol
