"""ctypes access to HDF5's multi-dataset calls (H5Dread_multi / H5Dwrite_multi), which h5py does
not wrap, through the libhdf5 h5py already loaded (so there is one HDF5 in the process)."""

from __future__ import annotations

import ctypes

import h5py

import arraymorph


def hdf5_multi_functions():
    """The loaded libhdf5 with H5Dread_multi and H5Dwrite_multi typed."""
    path = arraymorph._loaded_libhdf5()[0]  # h5py's (also a wheel's libhdf5-<hash>.so)
    lib = ctypes.CDLL(path)
    for name in ("H5Dread_multi", "H5Dwrite_multi"):
        fn = getattr(lib, name)
        fn.argtypes = [ctypes.c_size_t] + [ctypes.POINTER(ctypes.c_int64)] * 4 + [ctypes.c_int64,
                                                                                 ctypes.POINTER(ctypes.c_void_p)]
        fn.restype = ctypes.c_int
    return lib


def multi_call(fn, datasets, arrays, file_spaces=None) -> int:
    """fn(count, datasets, memory types of `arrays`, memory spaces, file spaces, H5P_DEFAULT,
    buffers). Without `file_spaces` both spaces are H5S_ALL; with them (h5py SpaceIDs with a
    selection, one per dataset) each array fills a simple memory space of its own shape."""
    n = len(datasets)
    ids = (ctypes.c_int64 * n)(*[d.id.id for d in datasets])
    tids = [h5py.h5t.py_create(a.dtype) for a in arrays]  # keep them: their ids close with them
    types = (ctypes.c_int64 * n)(*[t.id for t in tids])
    if file_spaces is None:
        mems = files = (ctypes.c_int64 * n)(*([0] * n))  # H5S_ALL
    else:
        mspaces = [h5py.h5s.create_simple(a.shape) for a in arrays]  # kept alive like tids
        mems = (ctypes.c_int64 * n)(*[m.id for m in mspaces])
        files = (ctypes.c_int64 * n)(*[sp.id for sp in file_spaces])
    bufs = (ctypes.c_void_p * n)(*[a.ctypes.data for a in arrays])
    return fn(n, ids, types, mems, files, 0, bufs)  # H5P_DEFAULT
