"""Groups through unchanged h5py: create, nested paths, keys, in, len, iteration, del."""

import h5py
import numpy as np
import pytest


def test_create_nested_and_navigate(backend):
    url = backend.url("groups.h5")
    with h5py.File(url, "w") as f:
        g = f.create_group("a")
        g.create_group("b/c")  # intermediate groups made on the way
        f.create_group("/z")
        assert g.name == "/a"
        assert f["a/b/c"].name == "/a/b/c"
        assert f["a"]["b"]["c"].parent.name == "/a/b"
    with h5py.File(url, "r") as f:
        assert isinstance(f["a/b"], h5py.Group)
        assert f["/a/b/c"].name == "/a/b/c"
    for key in ("groups.h5/a/zarr.json", "groups.h5/a/b/zarr.json", "groups.h5/a/b/c/zarr.json"):
        assert key in backend.list_keys("groups.h5/")


def test_keys_in_len_iteration(backend):
    url = backend.url("members.h5")
    with h5py.File(url, "w") as f:
        for name in ["zeta", "alpha", "mid"]:
            f.create_group(name)
        f["alpha"].create_dataset("data", data=np.arange(3))
    with h5py.File(url, "r") as f:
        assert len(f) == 3
        assert list(f) == ["alpha", "mid", "zeta"]  # HDF5's name order
        assert list(f.keys()) == ["alpha", "mid", "zeta"]
        assert list(reversed(f)) == ["zeta", "mid", "alpha"]
        assert "mid" in f and "alpha/data" in f and "/alpha/data" in f
        assert "nope" not in f and "alpha/nope" not in f and "nope/deeper" not in f
        assert len(f["alpha"]) == 1
        assert [name for name, _ in f.items()] == ["alpha", "mid", "zeta"]
        assert isinstance(dict(f.items())["alpha"], h5py.Group)
        seen = []
        f.visit(seen.append)
        assert seen == ["alpha", "alpha/data", "mid", "zeta"]
        kinds = {}
        f.visititems(lambda n, o: kinds.__setitem__(n, type(o).__name__))
        assert kinds == {"alpha": "Group", "alpha/data": "Dataset", "mid": "Group", "zeta": "Group"}


def test_del_removes_objects_from_store(backend):
    url = backend.url("delete.h5")
    with h5py.File(url, "w") as f:
        f.create_group("keep")
        g = f.create_group("gone")
        g.create_dataset("d", data=np.arange(20), chunks=(5,))
        f.create_dataset("dset", data=np.arange(8), chunks=(4,))
    assert len(backend.list_keys("delete.h5/gone/d/c/")) == 4
    with h5py.File(url, "r+") as f:
        del f["gone"]
        del f["dset"]
        assert list(f) == ["keep"]
        with pytest.raises(KeyError):
            del f["never"]
    assert backend.list_keys("delete.h5/gone/") == []
    assert backend.list_keys("delete.h5/dset/") == []
    with h5py.File(url, "r") as f:
        assert list(f) == ["keep"]


def test_existing_name_and_missing_parent(backend):
    with h5py.File(backend.url("dup.h5"), "w") as f:
        f.create_group("g")
        with pytest.raises(ValueError) as e:
            f.create_group("g")
        assert "g" in str(e.value)
        f["d"] = np.arange(3)
        with pytest.raises(Exception):
            f.create_group("d/inside")  # a dataset cannot hold children


def test_require_group_and_get(backend):
    with h5py.File(backend.url("req.h5"), "w") as f:
        g1 = f.require_group("r")
        g2 = f.require_group("r")
        assert g1 == g2 and g1.name == "/r"
        assert f.get("missing") is None
        assert f.get("missing", 5) == 5
        assert f.get("r", getclass=True) is h5py.Group
        assert isinstance(f.get("r", getlink=True), h5py.HardLink)
        f["x"] = np.arange(2)
        assert f.get("x", getclass=True) is h5py.Dataset
        with pytest.raises(TypeError):
            f.require_group("x")
