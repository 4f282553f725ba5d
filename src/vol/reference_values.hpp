// reference_values.hpp -- old-style HDF5 references (hobj_ref_t, hdset_reg_ref_t) as arraymorph
// stores them (docs/format.md, "Object identity and references").
//
// In memory and in chunks an object reference is the referenced object's 8-byte id (little
// endian, model/object_ids.hpp), a region reference that id followed by a 4-byte index (little
// endian) into the dataset's `_hdf5.regions`; all zero is the null reference, as natively. In
// attribute JSON they are strings: "<16 hex digits>" and "<16 hex digits>/<index>" (null for the
// null reference).
//
// New-style references (H5T_STD_REF, H5R_ref_t) hold process-local pointers. Datasets refuse
// them. Attributes store them as the old-style object references above (what HDF5_HL's H5DS
// writes through a non-native connector, docs/format.md "Dimension scales"): `with_reference_style`
// translates a type between the two forms (compound members re-laid out as a C compiler would),
// and which form H5Aget_type reports is the process-wide attribute reference view below.
//
// Pure functions except the view. Thread-safety: the view is an atomic; the rest is stateless.
#pragma once

#include <hdf5.h>

#include <cstddef>

#include "model/zarr_metadata.hpp"

namespace arraymorph::vol {

enum class RefKind { kNone, kObject, kRegion, kNewStyle };

// What kind of reference `type` is (kNone when it is not of the reference class).
RefKind reference_kind(hid_t type);
// True when `type` is, or contains (compound/array/vlen members), a reference of `kind`.
bool contains_reference(hid_t type, RefKind kind);
inline bool contains_new_style_reference(hid_t type) { return contains_reference(type, RefKind::kNewStyle); }

// A new type id (the caller closes it): `type` with every old-style object reference replaced by
// H5T_STD_REF (`to_new_style`) or every new-style reference by H5T_STD_REF_OBJ; compounds that
// contain one are re-laid out with natural alignment (H5DS's ds_list_t {hobj_ref_t; unsigned} of
// 16 bytes <-> nds_list_t {H5R_ref_t; unsigned} of 72). A copy when nothing needs replacing.
hid_t with_reference_style(hid_t type, bool to_new_style);

// The attribute reference view: which references H5Aget_type reports for stored object
// references. New-style (the default) is what C programs can use with a non-native connector
// (H5Ropen_object; HDF5_HL's H5DS* functions require it); old-style is what h5py reads (the
// Python package selects it while h5py opens or creates an attribute; each attribute id keeps the
// view it was opened in). Reads and writes accept both.
bool attribute_references_new_style();
void set_attribute_references_new_style(bool on);

model::json reference_json(RefKind kind, const unsigned char* p);
// Writes the reference; throws InvalidArgument naming the value when it is malformed.
void reference_from_json(RefKind kind, const model::json& j, unsigned char* p);

}  // namespace arraymorph::vol
