"""Native HDF5 files for side-by-side comparisons, in a session where arraymorph is the default.

``HDF5_VOL_CONNECTOR=arraymorph`` (conftest.py) makes every file access property list select
arraymorph; ``native_file`` builds one that selects HDF5's native connector instead.
"""

from __future__ import annotations

import h5py

import arraymorph


def native_file(path, mode: str = "r", track_order: bool = False) -> h5py.File:
    """Open or create a native HDF5 file at ``path`` (modes "w", "r", "r+"); ``track_order``
    creates it with link and attribute creation order tracked (h5py's ``track_order=True``)."""
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    arraymorph._core.set_native_vol(fapl.id)
    name = str(path).encode()
    if mode == "w":
        fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
        if track_order:
            flags = h5py.h5p.CRT_ORDER_TRACKED | h5py.h5p.CRT_ORDER_INDEXED
            fcpl.set_link_creation_order(flags)
            fcpl.set_attr_creation_order(flags)
        fid = h5py.h5f.create(name, h5py.h5f.ACC_TRUNC, fapl=fapl, fcpl=fcpl)
    else:
        fid = h5py.h5f.open(name, h5py.h5f.ACC_RDWR if mode == "r+" else h5py.h5f.ACC_RDONLY, fapl=fapl)
    return h5py.File(fid)
