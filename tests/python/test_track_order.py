"""Link creation order (h5py ``track_order=True``, H5Pset_link_creation_order) on every backend,
compared with the same code on a native HDF5 file (docs/format.md, "Creation order")."""

from __future__ import annotations

import ctypes
import json
import os
import re

import arraymorph
import h5py
import numpy as np
import pytest

from native_files import native_file

NAMES = ["zeta", "alpha", "mid", "beta", "omega"]


def _fill(f):
    g = f.create_group("tracked", track_order=True)
    for i, n in enumerate(NAMES):
        if i % 2:
            g.create_dataset(n, data=np.arange(i))
        else:
            g.create_group(n)
    g["soft"] = h5py.SoftLink("/tracked/zeta")  # soft links take their place in the order too
    for n in NAMES:
        f.create_dataset(n, data=[1])             # the root tracks order through the fcpl
    u = f.create_group("untracked")
    for n in NAMES:
        u.create_group(n)
    del g["mid"]
    g.create_group("mid")                         # re-created: now the newest
    g.move("beta", "beta2")                       # a moved link is a new link, at the end


def _listing(f):
    out = {"root": list(f), "tracked": list(f["tracked"]), "untracked": list(f["untracked"]),
           "reversed": list(reversed(f["tracked"])), "keys": list(f["tracked"].keys())}
    seen = []
    f["tracked"].visit(seen.append)
    out["visit"] = seen
    return out


def test_track_order_matches_native(backend, tmp_path):
    with native_file(tmp_path / "native.h5", "w", track_order=True) as f:
        _fill(f)
        want = _listing(f)
    with native_file(tmp_path / "native.h5") as f:
        assert _listing(f) == want
    assert want["tracked"] == ["zeta", "alpha", "omega", "soft", "mid", "beta2"]

    url = backend.url("order.h5")
    with h5py.File(url, "w", track_order=True) as f:
        _fill(f)
        assert _listing(f) == want
    with h5py.File(url, "r") as f:  # across reopen (from consolidated metadata)
        assert _listing(f) == want
        assert f.id.get_create_plist().get_link_creation_order() & h5py.h5p.CRT_ORDER_TRACKED
        assert f["tracked"].id.get_create_plist().get_link_creation_order() & h5py.h5p.CRT_ORDER_TRACKED
        assert not f["untracked"].id.get_create_plist().get_link_creation_order()
    # Without consolidated metadata: per-node zarr.json
    root = json.loads(backend.read_key("order.h5/zarr.json"))
    root.pop("consolidated_metadata", None)
    backend.write_key("order.h5/zarr.json", json.dumps(root).encode())
    with h5py.File(url, "r") as f:
        assert _listing(f) == want
    stored = json.loads(backend.read_key("order.h5/tracked/zarr.json"))["attributes"]["_hdf5"]
    assert stored["link_order"] == want["tracked"]


def _libhdf5():
    """ctypes handle of the core libhdf5 h5py loaded (for H5Literate2, which h5py does not bind);
    also a wheel's hashed libhdf5-<hash>.so."""
    return ctypes.CDLL(arraymorph._loaded_libhdf5()[0])


_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int64, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p)


def _literate(gid, index, order):
    """H5Literate2 (h5py only binds H5Literate1, which refuses non-native objects): the names,
    or None when HDF5 refuses the index."""
    lib = _libhdf5()
    lib.H5Literate2.argtypes = [ctypes.c_int64, ctypes.c_int, ctypes.c_int, ctypes.c_void_p, _CB, ctypes.c_void_p]
    names = []

    def op(_g, name, _info, _data):
        names.append(name.decode())
        return 0

    rc = lib.H5Literate2(gid, index, order, None, _CB(op), None)
    return names if rc >= 0 else None


def test_h5literate_by_creation_order(backend, tmp_path):
    """H5Literate2 with the creation-order index (HDF5's H5_INDEX_CRT_ORDER = 1), both
    directions, and its refusal on a group that does not track the order: as native."""
    def run(f):
        g = f.create_group("g", track_order=True)
        for n in NAMES:
            g.create_group(n)
        u = f.create_group("u")
        u.create_group("x")
        return (_literate(g.id.id, 1, 0), _literate(g.id.id, 1, 1), _literate(g.id.id, 0, 0),
                _literate(u.id.id, 1, 0))

    with native_file(tmp_path / "n.h5", "w") as f:
        want = run(f)
    with h5py.File(backend.url("it.h5"), "w") as f:
        got = run(f)
    assert got == want
    assert got[0] == NAMES and got[1] == NAMES[::-1] and got[2] == sorted(NAMES) and got[3] is None
