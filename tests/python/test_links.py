"""Links and objects through unchanged h5py: soft links, move/rename, copy, require_dataset.

Soft links are records in the parent group's ``_hdf5.links``; move copies every object of the
moved subtree to the new key prefix and deletes the old one; copy duplicates metadata,
attributes and chunk objects (docs/format.md, "Links").
"""

import json

import h5py
import numpy as np
import pytest

import arraymorph


def _meta(backend, key):
    raw = backend.read_key(key)
    assert raw is not None, key
    return json.loads(raw)


# ------------------------------------------------------------------------------ soft links
def test_soft_link_create_follow_iterate(backend):
    url = backend.url("soft.h5")
    data = np.arange(12, dtype="i4").reshape(3, 4)
    with h5py.File(url, "w") as f:
        g = f.create_group("grp")
        g.create_dataset("d", data=data, chunks=(2, 2))
        f["abs"] = h5py.SoftLink("/grp/d")
        g["rel"] = h5py.SoftLink("d")            # relative to the group holding the link
        f["to_group"] = h5py.SoftLink("/grp")
        f["chain"] = h5py.SoftLink("/abs")       # a link to a link
        np.testing.assert_array_equal(f["abs"][...], data)
        np.testing.assert_array_equal(g["rel"][1:, 2:], data[1:, 2:])
        np.testing.assert_array_equal(f["to_group/d"][...], data)  # through an intermediate link
        np.testing.assert_array_equal(f["chain"][...], data)
    # Recorded in the parent group's _hdf5, not as nodes.
    root = _meta(backend, "soft.h5/zarr.json")
    assert root["attributes"]["_hdf5"]["links"]["abs"] == {"type": "soft", "target": "/grp/d"}
    assert _meta(backend, "soft.h5/grp/zarr.json")["attributes"]["_hdf5"]["links"]["rel"]["target"] == "d"
    assert not [k for k in backend.list_keys("soft.h5/") if k.startswith("soft.h5/abs")]
    with h5py.File(url, "r") as f:
        assert list(f) == ["abs", "chain", "grp", "to_group"]   # merged, in name order
        assert len(f) == 4 and len(f["grp"]) == 2
        assert list(f["grp"]) == ["d", "rel"]
        assert list(f["to_group"]) == ["d", "rel"]
        assert "abs" in f and "to_group/d" in f and "to_group/rel" in f
        np.testing.assert_array_equal(f["grp/rel"][...], data)
        np.testing.assert_array_equal(f["to_group"]["d"][0], data[0])
        assert isinstance(f["to_group"], h5py.Group)
        assert f["abs"].shape == (3, 4) and f["abs"].dtype == np.dtype("i4")
        # getlink / getclass
        link = f.get("abs", getlink=True)
        assert isinstance(link, h5py.SoftLink) and link.path == "/grp/d"
        assert f["grp"].get("rel", getlink=True).path == "d"
        assert f.get("abs", getclass=True, getlink=True) is h5py.SoftLink
        assert f.get("grp", getclass=True, getlink=True) is h5py.HardLink
        assert isinstance(f.get("grp", getlink=True), h5py.HardLink)
        assert f.get("abs", getclass=True) is h5py.Dataset
        assert f.get("to_group", getclass=True) is h5py.Group
        # visit never follows soft links; visit_links reports them
        seen = []
        f.visit(seen.append)
        assert seen == ["grp", "grp/d"]
        items = {}
        f.visititems(lambda n, o: items.__setitem__(n, o.shape if isinstance(o, h5py.Dataset) else None))
        assert items == {"grp": None, "grp/d": (3, 4)}
        if hasattr(f, "visit_links"):
            links = []
            f.visit_links(links.append)
            assert links == ["abs", "chain", "grp", "grp/d", "grp/rel", "to_group"]
            kinds = {}
            f.visititems_links(lambda n, l: kinds.__setitem__(n, getattr(l, "path", "hard")))
            assert kinds == {"abs": "/grp/d", "chain": "/abs", "grp": "hard", "grp/d": "hard",
                             "grp/rel": "d", "to_group": "/grp"}


def test_soft_link_dangling_and_delete(backend):
    url = backend.url("dangling.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset("d", data=np.arange(5.0))
        f["dang"] = h5py.SoftLink("/missing/thing")
        f["ok"] = h5py.SoftLink("/d")
        # Like native h5py: the link itself exists, but it cannot be opened.
        assert "dang" in f
        assert f.get("dang") is None
        assert f.get("dang", "fallback") == "fallback"
        assert f.get("dang", getlink=True).path == "/missing/thing"
        with pytest.raises(KeyError):
            f["dang"]
        with pytest.raises(KeyError):
            f["dang/deeper"]
    with h5py.File(url, "r+") as f:
        assert list(f) == ["d", "dang", "ok"]
        del f["ok"]                       # removes the link only
        assert "ok" not in f
        np.testing.assert_array_equal(f["d"][...], np.arange(5.0))
        del f["dang"]
        assert list(f) == ["d"]
        with pytest.raises(KeyError):
            del f["dang"]
        # The target appears later: a new link to it now resolves.
        f["later"] = h5py.SoftLink("/g2/x")
        with pytest.raises(KeyError):
            f["later"]
        f.create_group("g2").create_dataset("x", data=[7, 8])
        np.testing.assert_array_equal(f["later"][...], [7, 8])
    assert "links" not in _meta(backend, "dangling.h5/zarr.json")["attributes"]["_hdf5"] or \
        set(_meta(backend, "dangling.h5/zarr.json")["attributes"]["_hdf5"]["links"]) == {"later"}
    with h5py.File(url, "r") as f:
        assert list(f) == ["d", "g2", "later"]
        np.testing.assert_array_equal(f["d"][...], np.arange(5.0))
        np.testing.assert_array_equal(f["later"][...], [7, 8])


def test_soft_link_name_collisions_and_second_hard_links(backend):
    url = backend.url("collide.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset("d", data=np.arange(3))
        f["s"] = h5py.SoftLink("/d")
        with pytest.raises((ValueError, RuntimeError, OSError)):
            f["s"] = h5py.SoftLink("/other")          # name taken by a soft link
        with pytest.raises((ValueError, RuntimeError, OSError)):
            f["d"] = h5py.SoftLink("/other")          # name taken by a dataset
        with pytest.raises((ValueError, RuntimeError, OSError)):
            f["s"] = np.arange(4)                     # dataset over a soft link name
        with pytest.raises((ValueError, RuntimeError, OSError, NotImplementedError), match="not supported"):
            f["hard"] = f["d"]                        # a second hard link: Zarr has none
        assert list(f) == ["d", "s"]
        np.testing.assert_array_equal(f["s"][...], np.arange(3))


# ------------------------------------------------------------------------------ move
def test_move_dataset_and_rename(backend):
    url = backend.url("move.h5")
    data = np.arange(100, dtype="f8").reshape(10, 10)
    with h5py.File(url, "w") as f:
        d = f.create_dataset("a", data=data, chunks=(5, 5))
        d.attrs["units"] = "m"
        f.create_group("dst")
    assert len(backend.list_keys("move.h5/a/c/")) == 4
    with h5py.File(url, "r+") as f:
        f.move("a", "b")                                    # rename
        assert list(f) == ["b", "dst"]
        np.testing.assert_array_equal(f["b"][...], data)
        f.move("b", "dst/inner/c")                          # into another (new) group
        assert "b" not in f and list(f["dst/inner"]) == ["c"]
        np.testing.assert_array_equal(f["dst/inner/c"][2:7, 3], data[2:7, 3])
        assert f["dst/inner/c"].attrs["units"] == "m"
    keys = backend.list_keys("move.h5/")
    assert not [k for k in keys if k.startswith(("move.h5/a/", "move.h5/b/"))]
    assert len(backend.list_keys("move.h5/dst/inner/c/c/")) == 4
    with h5py.File(url, "r") as f:
        np.testing.assert_array_equal(f["dst/inner/c"][...], data)
        assert f["dst/inner/c"].chunks == (5, 5)
        assert f["dst/inner/c"].attrs["units"] == "m"
        assert list(f) == ["dst"]


def test_move_group_with_children(backend):
    url = backend.url("movegrp.h5")
    x = np.arange(30, dtype="i2")
    with h5py.File(url, "w") as f:
        g = f.create_group("g")
        g.attrs["level"] = 1
        g.create_dataset("x", data=x, chunks=(7,))
        g.create_group("sub").create_dataset("y", data=np.ones((4, 4), "u1"), chunks=(2, 2))
        g["sub"]["link"] = h5py.SoftLink("y")               # relative soft link moves along
        g.create_dataset("empty", shape=(5,), dtype="f4", fillvalue=2.5)
        f.create_group("other")
    with h5py.File(url, "r+") as f:
        f.move("g", "other/g2")
        assert list(f) == ["other"] and list(f["other"]) == ["g2"]
        assert list(f["other/g2"]) == ["empty", "sub", "x"]
        np.testing.assert_array_equal(f["other/g2/x"][...], x)
        np.testing.assert_array_equal(f["other/g2/sub/link"][...], np.ones((4, 4)))
        np.testing.assert_array_equal(f["other/g2/empty"][...], np.full(5, 2.5, "f4"))
        seen = []
        f.visit(seen.append)
        assert seen == ["other", "other/g2", "other/g2/empty", "other/g2/sub", "other/g2/sub/y",
                        "other/g2/x"]
        shapes = {}
        f.visititems(lambda n, o: shapes.__setitem__(n, getattr(o, "shape", None)))
        assert shapes["other/g2/x"] == (30,) and shapes["other/g2/sub/y"] == (4, 4)
    keys = backend.list_keys("movegrp.h5/")
    assert not [k for k in keys if k.startswith("movegrp.h5/g/")]
    assert len(backend.list_keys("movegrp.h5/other/g2/x/c/")) == 5
    assert len(backend.list_keys("movegrp.h5/other/g2/sub/y/c/")) == 4
    with h5py.File(url, "r") as f:
        assert f["other/g2"].attrs["level"] == 1
        np.testing.assert_array_equal(f["other/g2/sub/y"][...], np.ones((4, 4)))
        assert f["other/g2/sub"].get("link", getlink=True).path == "y"
        seen = []
        f.visit(seen.append)
        assert seen == ["other", "other/g2", "other/g2/empty", "other/g2/sub", "other/g2/sub/y",
                        "other/g2/x"]


def test_move_errors_and_soft_link_move(backend):
    url = backend.url("moveerr.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset("a", data=[1, 2, 3])
        f.create_dataset("b", data=[4, 5])
        f.create_group("g")
        f["s"] = h5py.SoftLink("/a")
        with pytest.raises((ValueError, RuntimeError, OSError)):
            f.move("a", "b")                     # onto an existing name
        with pytest.raises((ValueError, RuntimeError, OSError)):
            f.move("a", "s")                     # onto an existing soft link
        with pytest.raises((ValueError, RuntimeError, OSError)):
            f.move("g", "g/inside")              # into itself
        with pytest.raises((KeyError, ValueError, RuntimeError, OSError)):
            f.move("nope", "c")
        np.testing.assert_array_equal(f["a"][...], [1, 2, 3])
        np.testing.assert_array_equal(f["b"][...], [4, 5])
        f.move("s", "g/s2")                      # moves the link record; the target stays
        assert list(f) == ["a", "b", "g"] and list(f["g"]) == ["s2"]
        assert f["g"].get("s2", getlink=True).path == "/a"
        np.testing.assert_array_equal(f["g/s2"][...], [1, 2, 3])
        f.move("a", "a")                          # a no-op, like h5py
    with h5py.File(url, "r") as f:
        np.testing.assert_array_equal(f["g/s2"][...], [1, 2, 3])
        assert "s" not in f


def test_open_dataset_follows_move(backend):
    url = backend.url("openmove.h5")
    with h5py.File(url, "w") as f:
        d = f.create_dataset("a", data=np.zeros(6, "i4"), chunks=(3,))
        f.move("a", "b")
        d[0:2] = [9, 9]                           # the open id follows its object
        assert d.name == "/b"
        np.testing.assert_array_equal(f["b"][...], [9, 9, 0, 0, 0, 0])
    with h5py.File(url, "r") as f:
        np.testing.assert_array_equal(f["b"][...], [9, 9, 0, 0, 0, 0])
        assert list(f) == ["b"]


# ------------------------------------------------------------------------------ copy
def test_copy_dataset_values_and_chunks(backend):
    url = backend.url("copy.h5")
    data = np.random.default_rng(0).integers(0, 1000, size=(20, 8)).astype("i8")
    with h5py.File(url, "w") as f:
        d = f.create_dataset("src", data=data, chunks=(5, 4), compression="gzip")
        d.attrs["note"] = "original"
        f.copy("src", "dup")
        f.copy(f["src"], f, name="dup2")                      # h5py's object + destination group form
        f.create_group("g")
        f.copy("src", f["g"])                                  # into a group, keeping the name
        np.testing.assert_array_equal(f["dup"][...], data)
        f["dup"][0, 0] = -1                                    # independent copies
        assert f["src"][0, 0] == data[0, 0]
    src_chunks = [k.split("/c/", 1)[1] for k in backend.list_keys("copy.h5/src/c/")]
    assert len(src_chunks) == 8
    for name in ("dup2", "g/src"):
        assert [k.split("/c/", 1)[1] for k in backend.list_keys(f"copy.h5/{name}/c/")] == src_chunks
        for c in src_chunks:
            assert backend.read_key(f"copy.h5/{name}/c/{c}") == backend.read_key(f"copy.h5/src/c/{c}")
    with h5py.File(url, "r") as f:
        assert list(f) == ["dup", "dup2", "g", "src"]
        for name in ("dup2", "g/src"):
            np.testing.assert_array_equal(f[name][...], data)
            assert f[name].compression == "gzip" and f[name].chunks == (5, 4)
            assert f[name].attrs["note"] == "original"
        assert f["dup"][0, 0] == -1
        np.testing.assert_array_equal(f["dup"][1:], data[1:])


def test_copy_group_deep_and_flags(backend):
    url = backend.url("copygrp.h5")
    with h5py.File(url, "w") as f:
        g = f.create_group("g")
        g.attrs["a"] = 5
        g.create_dataset("x", data=np.arange(10), chunks=(4,))
        g.create_group("sub/deeper").create_dataset("z", data=np.eye(3))
        g["sx"] = h5py.SoftLink("/g/x")
        f.copy("g", "c1")
        f.copy("g", "c2", shallow=True)
        f.copy("g", "c3", expand_soft=True, without_attrs=True)
        f.copy("g", "g/inside")                                   # into its own subtree
        with pytest.raises((ValueError, RuntimeError, OSError)):
            f.copy("g", "c1")                                     # onto an existing name
        with pytest.raises((ValueError, RuntimeError, OSError)):
            f.copy("g/x", "g/sx")                                 # onto an existing soft link
    with h5py.File(url, "r") as f:
        assert list(f) == ["c1", "c2", "c3", "g"]
        assert list(f["c1"]) == ["sub", "sx", "x"]
        assert f["c1"].attrs["a"] == 5
        np.testing.assert_array_equal(f["c1/x"][...], np.arange(10))
        np.testing.assert_array_equal(f["c1/sub/deeper/z"][...], np.eye(3))
        assert f["c1"].get("sx", getlink=True).path == "/g/x"       # soft links stay links
        # shallow: direct members only
        assert list(f["c2"]) == ["sub", "sx", "x"] and list(f["c2/sub"]) == []
        np.testing.assert_array_equal(f["c2/x"][...], np.arange(10))
        # expand_soft + without_attrs
        assert isinstance(f["c3"].get("sx", getlink=True), h5py.HardLink)
        np.testing.assert_array_equal(f["c3/sx"][...], np.arange(10))
        assert len(f["c3"].attrs) == 0
        assert list(f["g/inside"]) == ["sub", "sx", "x"]
        np.testing.assert_array_equal(f["g/inside/sub/deeper/z"][...], np.eye(3))
    assert len(backend.list_keys("copygrp.h5/c1/x/c/")) == 3
    assert len(backend.list_keys("copygrp.h5/c3/sx/c/")) == 3


def test_copy_between_files(backend):
    a, b = backend.url("copy_a.h5"), backend.url("copy_b.h5")
    with h5py.File(a, "w") as fa:
        fa.create_group("g").create_dataset("d", data=np.arange(16.0).reshape(4, 4), chunks=(2, 2))
    with h5py.File(a, "r") as fa, h5py.File(b, "w") as fb:
        fa.copy("g", fb, name="copied")
    with h5py.File(b, "r") as fb:
        np.testing.assert_array_equal(fb["copied/d"][...], np.arange(16.0).reshape(4, 4))
    assert len(backend.list_keys("copy_b.h5/copied/d/c/")) == 4


# ------------------------------------------------------------------------------ require_dataset
def test_require_dataset(backend):
    url = backend.url("require.h5")
    with h5py.File(url, "w") as f:
        d = f.require_dataset("d", shape=(4,), dtype="i8", data=np.arange(4))   # missing -> created
        np.testing.assert_array_equal(d[...], np.arange(4))
        again = f.require_dataset("d", shape=(4,), dtype="i8")                  # existing, same
        np.testing.assert_array_equal(again[...], np.arange(4))
        assert again == d
        wider = f.require_dataset("d", shape=(4,), dtype="i4")                  # castable, not exact
        np.testing.assert_array_equal(wider[...], np.arange(4))
        with pytest.raises(TypeError):
            f.require_dataset("d", shape=(4,), dtype="i4", exact=True)
        with pytest.raises(TypeError):
            f.require_dataset("d", shape=(5,), dtype="i8")                      # shape mismatch
        with pytest.raises(TypeError):
            f.require_dataset("d", shape=(4,), dtype="f4")                      # unsafe cast
        f.create_group("grp")
        with pytest.raises(TypeError):
            f.require_dataset("grp", shape=(4,), dtype="i8")                    # a group is there
        n = f.require_dataset("deep/new", shape=(2, 3), dtype="f4", fillvalue=1.5)
        np.testing.assert_array_equal(n[...], np.full((2, 3), 1.5, "f4"))
        g = f.require_group("grp")
        assert g.name == "/grp"
    with h5py.File(url, "r") as f:
        np.testing.assert_array_equal(f["d"][...], np.arange(4))
        np.testing.assert_array_equal(f["deep/new"][...], np.full((2, 3), 1.5, "f4"))
        assert list(f) == ["d", "deep", "grp"]


# ------------------------------------------------------------------------------ C link calls
def test_c_link_info_val_and_copy(backend):
    """H5Lget_info2 / H5Lget_val / H5Lcopy / H5Lexists on the connector (h5py's 1.10 API cannot)."""
    import ctypes

    class LinkValue(ctypes.Union):
        _fields_ = [("token", ctypes.c_ubyte * 16), ("val_size", ctypes.c_size_t)]

    class LinkInfo2(ctypes.Structure):
        _fields_ = [("type", ctypes.c_int), ("corder_valid", ctypes.c_bool), ("corder", ctypes.c_int64),
                    ("cset", ctypes.c_int), ("u", LinkValue)]

    libhdf5 = arraymorph._loaded_libhdf5()[0]  # h5py's (also a wheel's libhdf5-<hash>.so)
    lib = ctypes.CDLL(libhdf5)  # the copy h5py already loaded
    lib.H5Lget_info2.argtypes = [ctypes.c_int64, ctypes.c_char_p, ctypes.POINTER(LinkInfo2), ctypes.c_int64]
    lib.H5Lget_val.argtypes = [ctypes.c_int64, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int64]
    lib.H5Lcopy.argtypes = [ctypes.c_int64, ctypes.c_char_p, ctypes.c_int64, ctypes.c_char_p,
                            ctypes.c_int64, ctypes.c_int64]
    lib.H5Lexists.argtypes = [ctypes.c_int64, ctypes.c_char_p, ctypes.c_int64]
    H5L_TYPE_HARD, H5L_TYPE_SOFT = 0, 1
    url = backend.url("clinks.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset("d", data=np.arange(3))
        f["s"] = h5py.SoftLink("/d")
        fid = f.id.id
        info = LinkInfo2()
        assert lib.H5Lget_info2(fid, b"s", ctypes.byref(info), 0) >= 0
        assert info.type == H5L_TYPE_SOFT
        assert info.u.val_size == len("/d") + 1
        assert lib.H5Lget_info2(fid, b"d", ctypes.byref(info), 0) >= 0 and info.type == H5L_TYPE_HARD
        buf = ctypes.create_string_buffer(16)
        assert lib.H5Lget_val(fid, b"s", buf, 16, 0) >= 0 and buf.value == b"/d"
        assert lib.H5Lget_val(fid, b"d", buf, 16, 0) < 0                    # hard links have no value
        assert lib.H5Lcopy(fid, b"s", fid, b"s_copy", 0, 0) >= 0              # copies the soft link
        assert lib.H5Lcopy(fid, b"d", fid, b"d_copy", 0, 0) < 0               # a second hard link
        assert lib.H5Lexists(fid, b"s_copy", 0) > 0 and lib.H5Lexists(fid, b"d_copy", 0) == 0
    with h5py.File(url, "r") as f:
        assert list(f) == ["d", "s", "s_copy"]
        assert f.get("s_copy", getlink=True).path == "/d"
        np.testing.assert_array_equal(f["s_copy"][...], np.arange(3))


def test_create_through_and_over_soft_links(backend):
    """Names taken by soft links are refused; parents that are soft links are followed."""
    url = backend.url("softcreate.h5")
    with h5py.File(url, "w") as f:
        f.create_group("real")
        f["s"] = h5py.SoftLink("/real")
        with pytest.raises(ValueError):
            f.create_group("s")
        with pytest.raises(ValueError):
            f.create_dataset("s", data=[1, 2])
        f.create_group("s/x")
        f.create_dataset("s/d", data=np.arange(3))
    with h5py.File(url, "r") as f:
        assert sorted(f["real"]) == ["d", "x"]
        assert isinstance(f.get("s", getlink=True), h5py.SoftLink)
        np.testing.assert_array_equal(f["real/d"][...], np.arange(3))
        assert len(f) == 2
