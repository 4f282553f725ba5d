"""Anonymous groups (H5Gcreate_anon, named later by H5Olink) and H5Freopen on every store,
compared with the same operations on a native HDF5 file. Before this both failed with
"not supported by arraymorph"."""

import h5py
import numpy as np
import pytest

from native_files import native_file


def _anonymous_group(f):
    g = f.create_group(None)  # H5Gcreate_anon
    seen = dict(name=g.name, len=len(g))
    with pytest.raises(ValueError):
        g.parent
    f["linked"] = g  # H5Olink
    g.create_group("child")
    g.attrs["k"] = 5
    g["data"] = np.arange(4)
    seen.update(after=g.name, members=sorted(g), root=sorted(f), attrs=dict(g.attrs))
    f.create_group(None)  # never linked: leaves nothing behind
    return seen


def _contents(f):
    return sorted(f), sorted(f["linked"]), dict(f["linked"].attrs), f["linked/data"][()].tolist()


def test_anonymous_group_matches_native(backend, tmp_path):
    with native_file(tmp_path / "n.h5", "w") as f:
        expected = _anonymous_group(f)
    with native_file(tmp_path / "n.h5") as f:
        expected_stored = _contents(f)
    with h5py.File(backend.url("a.h5"), "w") as f:
        got = _anonymous_group(f)
    with h5py.File(backend.url("a.h5"), "r") as f:
        got_stored = _contents(f)
    assert expected["name"] is None and expected["after"] == "/linked"
    assert got == expected
    assert got_stored == expected_stored


def test_members_of_an_unlinked_anonymous_group_are_refused(backend):
    """Native HDF5 can fill an anonymous group before linking it; arraymorph refuses clearly,
    and above all never creates the member somewhere else (a relative name from an object with
    no path once resolved from the root)."""
    with h5py.File(backend.url("r.h5"), "w") as f:
        g = f.create_group(None)
        with pytest.raises(ValueError, match="not supported by arraymorph: the relative name 'x' from an anonymous"):
            g.create_group("x")
        with pytest.raises(Exception, match="not supported by arraymorph: .*anonymous object"):
            g.attrs["a"] = 1
        assert sorted(f) == []
    with h5py.File(backend.url("r.h5"), "r") as f:
        assert sorted(f) == [] and dict(f.attrs) == {}


def _reopen(f):
    f["x"] = np.arange(3)
    fid2 = f.id.reopen()  # H5Freopen
    f2 = h5py.File(fid2)
    f2["y"] = np.arange(2)  # visible through both ids at once
    seen = dict(first=sorted(f), second=sorted(f2), x=f2["x"][()].tolist(),
                name=f2.filename == f.filename, mode=f2.mode)
    f2.close()  # closes the objects opened through the second id only (H5F_OBJ_LOCAL)
    seen["still_open"] = bool(f.id.valid) and f["y"][()].tolist() == [0, 1]
    return seen


def test_h5freopen_matches_native(backend, tmp_path):
    with native_file(tmp_path / "n.h5", "w") as f:
        expected = _reopen(f)
    with h5py.File(backend.url("re.h5"), "w") as f:
        got = _reopen(f)
    with h5py.File(backend.url("re.h5"), "r") as f:
        assert sorted(f) == ["x", "y"]
    assert expected["still_open"]
    assert got == expected
