"""Native HDF5 files in a session whose default VOL connector is arraymorph.

conftest.py sets HDF5_VOL_CONNECTOR=arraymorph before h5py loads, so every plain ``h5py.File``
goes through arraymorph. Comparisons against native HDF5 need the native connector explicitly:
``native_file(path, mode)`` opens a real HDF5 file with a file access property list whose VOL is
HDF5's native one (``H5Pset_vol(fapl, H5VL_NATIVE)``, called through ctypes on the libhdf5 h5py
loaded, since h5py has no binding for it).
"""

from __future__ import annotations

import ctypes
import os
import re

import h5py


def _libhdf5():
    """The core libhdf5 h5py loaded (not the high-level or C++ libraries)."""
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "libhdf5" in line})
    for p in paths:
        if re.fullmatch(r"libhdf5(_[a-z]+)?\.so(\.[0-9.]+)?", os.path.basename(p)):
            lib = ctypes.CDLL(p)
            if hasattr(lib, "H5VL_native_register"):
                return lib
    raise RuntimeError(f"no libhdf5 with H5VL_native_register is mapped in this process: {paths}")


_LIB = None


def libhdf5():
    """ctypes handle of the libhdf5 h5py uses (for calls h5py does not bind)."""
    global _LIB
    if _LIB is None:
        _LIB = _libhdf5()
        _LIB.H5VL_native_register.restype = ctypes.c_int64
        _LIB.H5Pset_vol.argtypes = [ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
    return _LIB


def native_fapl():
    """A new h5py file access property list using HDF5's native VOL connector."""
    libhdf5()
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_fclose_degree(h5py.h5f.CLOSE_STRONG)  # as h5py's own make_fapl
    fapl.set_libver_bounds(h5py.h5f.LIBVER_EARLIEST, h5py.h5f.LIBVER_LATEST)
    if _LIB.H5Pset_vol(fapl.id, _LIB.H5VL_native_register(), None) < 0:
        raise RuntimeError("H5Pset_vol(native) failed")
    return fapl


def native_file(path, mode: str = "r", track_order: bool = False) -> h5py.File:
    """h5py.File over a native HDF5 file at the filesystem path ``path``."""
    path = os.fspath(path).encode()
    fapl = native_fapl()
    if mode == "w":
        fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
        if track_order:
            flags = h5py.h5p.CRT_ORDER_TRACKED | h5py.h5p.CRT_ORDER_INDEXED
            fcpl.set_link_creation_order(flags)
            fcpl.set_attr_creation_order(flags)
        fid = h5py.h5f.create(path, h5py.h5f.ACC_TRUNC, fapl=fapl, fcpl=fcpl)
    else:
        fid = h5py.h5f.open(path, h5py.h5f.ACC_RDWR if mode in ("r+", "a") else h5py.h5f.ACC_RDONLY, fapl=fapl)
    return h5py.File(fid)
