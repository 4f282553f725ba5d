// file_driver.hpp -- which HDF5 file drivers an arraymorph file may be opened with.
//
// A file driver (H5Pset_fapl_core, h5py's file-object driver for io.BytesIO, stdio, family, ...)
// says where the bytes of a *native* HDF5 file go. arraymorph writes no native file, so honouring
// the FAPL's VOL while ignoring its driver would put the data somewhere the caller did not ask for
// (the published connector wrote a BytesIO's data to an object named "<_io.BytesIO object at
// 0x...>"). Only the default driver (sec2) and MPI-IO (parallel HDF5, issue 8) are accepted;
// every other driver is refused with an error naming it. The Python package sends such files to
// the native connector instead (python/arraymorph/_drivers.py).
//
// Thread-safety: HDF5 calling thread only.
#pragma once

#include <hdf5.h>

#include <string>

namespace arraymorph::vol {

// Throws Error(unsupported) when `fapl` selects a file driver arraymorph cannot honour. `name` is
// the file name given to H5Fcreate/H5Fopen (for the message).
void require_supported_driver(hid_t fapl, const std::string& name);

}  // namespace arraymorph::vol
