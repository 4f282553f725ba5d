// dimension_names.hpp -- Zarr `dimension_names` of an array from its HDF5 dimension scales
// (docs/format.md, "Dimension scales and dimension_names").
//
// netCDF-4 names a variable's dimensions after the dimension-scale datasets attached to them
// (HDF5 Dimension Scales: the `DIMENSION_LIST` attribute, one list of object references per
// dimension). For dimension i the name is, in order of preference:
//   1. the link name of the first scale attached to it (DIMENSION_LIST[i][0]);
//   2. for a rank-1 dimension scale itself (CLASS = "DIMENSION_SCALE"), its own link name (a
//      netCDF coordinate variable is its own dimension);
//   3. its dimension label (DIMENSION_LABELS[i], h5py `dims[i].label`) when not empty;
//   4. null.
// The references are the stored JSON strings (vol/reference_values.hpp); `name_of` maps an
// object id to its current link name, or nullopt when no object has it.
//
// Pure function. Thread-safety: as Node.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/zarr_metadata.hpp"

namespace arraymorph::model {

std::vector<json> dimension_names(const Node& dataset, const std::string& own_name,
                                  const std::function<std::optional<std::string>(uint64_t)>& name_of);

}  // namespace arraymorph::model
