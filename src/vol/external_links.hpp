// external_links.hpp -- external links (H5Lcreate_external, h5py.ExternalLink): HDF5's packed link
// value, where the target file is, and opening the object an external link names
// (docs/format.md, "External links"). The record itself is kept by model/links.hpp.
//
// Traversal opens the target file like H5Fopen would (sharing its state when it is open in this
// process, vol/open_files.hpp), opens the object there and lets go of the file id again: the
// object keeps the file open until it is closed, as native HDF5 does. A target that is a native
// HDF5 file (a regular file on a local disk) cannot be opened through the link: a VOL callback can
// only hand HDF5 objects of its own connector. That case fails with "not supported by arraymorph"
// naming the file; creating, listing, H5Lget_val and deleting such links work.
//
// Thread-safety: HDF5 calling thread only.
#pragma once

#include <hdf5.h>

#include <memory>
#include <optional>
#include <string>

#include "model/links.hpp"
#include "vol/object_model.hpp"

namespace arraymorph::vol {

// HDF5's external link value (what H5Lget_val returns and H5Lunpack_elink_val reads): a version/
// flags byte (0), the file name and the object path, each NUL-terminated.
std::string pack_external_value(const std::string& file, const std::string& path);
// Parses that value (H5Lcreate_external hands it to the connector); throws naming what is wrong.
void unpack_external_value(const void* buf, size_t size, std::string* file, std::string* path);

// The name to open for an external link's `file`, seen from the file `parent` (as given to
// H5Fopen): URLs and absolute paths as they are; a relative name next to the parent file (same
// store, same directory), as HDF5 looks for it beside the parent first.
std::string external_file_name(const std::string& parent, const std::string& file);

// Opens the object the external link `link` (found at `loc`) names: a new group, dataset or
// committed-datatype object of the target file. `lapl` may set H5Pset_elink_acc_flags; otherwise
// the target is opened with the parent file's intent. `type` receives the HDF5 id type.
// A target that is itself an external link is followed in turn; `hops` counts the external links
// followed so far (at most 16, HDF5's default H5Pset_nlinks).
void* open_external(const Object& via, const std::string& loc, const model::LinkInfo& link, hid_t lapl,
                    H5I_type_t* type, int hops = 0);

// When `path` continues below an external link (f["ext/a/b"], external links in the target file
// followed in turn): the group the link names, opened, and the rest as an absolute path in that
// group's file. nullopt when no external link is on the way.
struct ThroughExternal {
  std::unique_ptr<Object> group;
  std::string path;
};
std::optional<ThroughExternal> through_external(const Object& o, const std::string& path, hid_t lapl, int hops = 0);

// When the link at `path` (relative names resolved from `o`) is an external link, the object it
// names (as open_external), else null. Used by H5Oopen/H5Gopen/H5Dopen/H5Topen.
void* open_if_external(const Object& o, const std::string& path, hid_t lapl, H5I_type_t* type, int hops = 0);

// open_if_external for H5Gopen/H5Dopen/H5Topen: the object must be of HDF5 id type `want`, else
// InvalidArgument naming the link and what it is.
void* open_external_as(const Object& o, const std::string& path, H5I_type_t want);

// The LAPL HDF5 passed in a by-name location, or H5P_DEFAULT.
hid_t lapl_of(const H5VL_loc_params_t* loc);

}  // namespace arraymorph::vol
