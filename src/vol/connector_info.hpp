// connector_info.hpp -- the connector "info" HDF5 stores in a file access property list.
//
// It is the settings string given to H5Pset_fapl_arraymorph (or after the connector name in
// HDF5_VOL_CONNECTOR="arraymorph <settings>"): empty, a store root URL ("s3://bucket",
// "az://container", "file:///dir") or "key=value;key=value" pairs as accepted by
// arraymorph_configure(). Parsed into settings layered over the environment at file open.
//
// Thread-safety: value type.
#pragma once

#include <hdf5.h>

#include <map>
#include <string>

#include "common/status.hpp"

namespace arraymorph::vol {

struct ConnectorInfo {
  std::string settings;
};

Result<std::map<std::string, std::string>> parse_settings(const std::string& text);
// Settings from a file access property list's connector info (empty when none).
std::map<std::string, std::string> settings_from_fapl(hid_t fapl);

}  // namespace arraymorph::vol
