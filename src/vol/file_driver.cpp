// file_driver.cpp -- see file_driver.hpp.
#include "vol/file_driver.hpp"

#include "common/status.hpp"

namespace arraymorph::vol {
namespace {

// A name for the driver in error messages; HDF5 1.14 has no public "driver id -> name" call.
std::string driver_name(hid_t driver) {
  struct Known {
    hid_t id;
    const char* name;
  };
  const Known known[] = {{H5FD_CORE, "core (in-memory file)"}, {H5FD_STDIO, "stdio"},     {H5FD_FAMILY, "family"},
                         {H5FD_LOG, "log"},                     {H5FD_MULTI, "multi/split"}, {H5FD_SPLITTER, "splitter"},
                         {H5FD_ONION, "onion"}};
  for (const auto& k : known)
    if (k.id == driver) return std::string("'") + k.name + "'";
  return "registered by the application (h5py registers one for Python file-like objects such as io.BytesIO)";
}

}  // namespace

void require_supported_driver(hid_t fapl, const std::string& name) {
  if (fapl < 0 || fapl == H5P_DEFAULT) return;
  hid_t driver = H5Pget_driver(fapl);
  if (driver < 0) return;  // not a FAPL we can ask; HDF5 checked the id already
  if (driver == H5FD_SEC2) return;
#ifdef H5_HAVE_PARALLEL
  if (driver == H5FD_MPIO) return;
#endif
  throw Error(unsupported("the HDF5 file driver " + driver_name(driver) + " for '" + name +
                          "': a file driver places the bytes of a native HDF5 file, and arraymorph writes none. "
                          "Use the native connector for it (after `import arraymorph`, h5py does this for "
                          "file-like objects and every driver= other than None/'sec2'/'mpio')"));
}

}  // namespace arraymorph::vol
