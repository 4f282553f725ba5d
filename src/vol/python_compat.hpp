// python_compat.hpp -- makes arraymorph's h5py compatibility layer active whenever the connector
// is selected in a Python process, not only after `import arraymorph`.
//
// h5py (3.16 and earlier) is compiled against HDF5's 1.10 API; its iteration, `in`, visit and
// object hashing call H5Literate1/H5Ovisit1/H5Oget_info1, which HDF5 1.14 refuses for every
// non-native connector, and its file-like objects/drivers must bypass the connector. The Python
// package fixes both when imported (python/arraymorph/_h5py_compat.py, _drivers.py). With only
// HDF5_VOL_CONNECTOR=arraymorph set, HDF5 loads this plugin while h5py is being imported; the
// connector's initialize callback then arranges (through CPython's C API, found with dlsym, so C
// programs without Python are unaffected) for `import arraymorph` to run at the first use of the
// h5py module after its import has finished. ARRAYMORPH_PYTHON_COMPAT=0 turns this off.
//
// Thread-safety: called from HDF5's initialisation of the connector (one thread).
#pragma once

namespace arraymorph::vol {

// No effect outside Python, when the GIL is not held, or when h5py is not imported.
void schedule_python_compat();

}  // namespace arraymorph::vol
