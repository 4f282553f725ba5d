// reference_values.hpp -- old-style HDF5 references (hobj_ref_t, hdset_reg_ref_t) as arraymorph
// stores them (docs/format.md, "Object identity and references").
//
// In memory and in chunks an object reference is the referenced object's 8-byte id (little
// endian, model/object_ids.hpp), a region reference that id followed by a 4-byte index (little
// endian) into the dataset's `_hdf5.regions`; all zero is the null reference, as natively. In
// attribute JSON they are strings: "<16 hex digits>" and "<16 hex digits>/<index>" (null for the
// null reference).
//
// New-style references (H5T_STD_REF, H5R_ref_t) hold process-local pointers and are refused in
// datasets and attributes with a message saying so.
//
// Pure functions. Thread-safety: stateless.
#pragma once

#include <hdf5.h>

#include <cstddef>

#include "model/zarr_metadata.hpp"

namespace arraymorph::vol {

enum class RefKind { kNone, kObject, kRegion, kNewStyle };

// What kind of reference `type` is (kNone when it is not of the reference class).
RefKind reference_kind(hid_t type);
// True when `type` is, or contains (compound/array/vlen members), a new-style reference.
bool contains_new_style_reference(hid_t type);

model::json reference_json(RefKind kind, const unsigned char* p);
// Writes the reference; throws InvalidArgument naming the value when it is malformed.
void reference_from_json(RefKind kind, const model::json& j, unsigned char* p);

}  // namespace arraymorph::vol
