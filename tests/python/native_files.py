"""Native HDF5 files for side-by-side comparisons, in a session where arraymorph is the default.

``HDF5_VOL_CONNECTOR=arraymorph`` (conftest.py) makes every file access property list select
arraymorph; ``native_file`` builds one that selects HDF5's native connector instead.
"""

from __future__ import annotations

import h5py

import arraymorph


def native_file(path, mode: str = "r") -> h5py.File:
    """Open or create a native HDF5 file at ``path`` (modes "w", "r", "r+")."""
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    arraymorph._core.set_native_vol(fapl.id)
    name = str(path).encode()
    if mode == "w":
        fid = h5py.h5f.create(name, h5py.h5f.ACC_TRUNC, fapl=fapl)
    else:
        fid = h5py.h5f.open(name, h5py.h5f.ACC_RDWR if mode == "r+" else h5py.h5f.ACC_RDONLY, fapl=fapl)
    return h5py.File(fid)
