"""External links (H5Lcreate_external, h5py.ExternalLink) on every store, compared with the same
operations on native HDF5 files: creation, traversal (`f["ext"]` opens the object in the other
file), `get(getlink=True)`, `H5Lget_val` + `H5Lunpack_elink_val` (h5py `links.get_val`),
listing, moving and deleting the link, broken links. Targets are other arraymorph files (a
relative name: the same store and directory; a URL). A link into a native HDF5 file is stored and
listed, but following it fails clearly: a VOL connector can only hand HDF5 its own objects.
Before this, creating any external link failed with "not supported by arraymorph"."""

import ctypes
import inspect

import h5py
import numpy as np
import pytest

import arraymorph
from native_files import native_file

H5L_TYPE_EXTERNAL = 64


class _LinkValue(ctypes.Union):
    _fields_ = [("token", ctypes.c_ubyte * 16), ("val_size", ctypes.c_size_t)]


class _LinkInfo2(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("corder_valid", ctypes.c_bool), ("corder", ctypes.c_int64),
                ("cset", ctypes.c_int), ("u", _LinkValue)]


def _c_elink(f, name):
    """(link type, file, path) through H5Lget_info2 + H5Lget_val + H5Lunpack_elink_val, the C calls
    (h5py's links.get_val uses H5Lget_info1, which HDF5 refuses for non-native connectors)."""
    lib = ctypes.CDLL(arraymorph._loaded_libhdf5()[0])  # the copy h5py already loaded
    lib.H5Lget_info2.argtypes = [ctypes.c_int64, ctypes.c_char_p, ctypes.POINTER(_LinkInfo2), ctypes.c_int64]
    lib.H5Lget_val.argtypes = [ctypes.c_int64, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int64]
    lib.H5Lunpack_elink_val.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_uint),
                                        ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p)]
    info = _LinkInfo2()
    assert lib.H5Lget_info2(f.id.id, name, ctypes.byref(info), 0) >= 0
    size = info.u.val_size
    buf = ctypes.create_string_buffer(size)
    assert lib.H5Lget_val(f.id.id, name, buf, size, 0) >= 0
    flags, file, path = ctypes.c_uint(), ctypes.c_char_p(), ctypes.c_char_p()
    assert lib.H5Lunpack_elink_val(buf, size, ctypes.byref(flags), ctypes.byref(file), ctypes.byref(path)) >= 0
    return info.type, flags.value, file.value.decode(), path.value.decode()


def _make_target(f):
    g = f.create_group("external")
    g.attrs["k"] = 7
    g["data"] = np.arange(5)
    return f


def _links(f, target_name):
    f["ext"] = h5py.ExternalLink(target_name, "/external")
    f["ext_data"] = h5py.ExternalLink(target_name, "/external/data")
    f["sub/ext"] = h5py.ExternalLink(target_name, "/external")
    f["broken"] = h5py.ExternalLink(target_name, "/missing")
    f["nofile"] = h5py.ExternalLink("mongoose.h5", "/foo")
    f.move("sub/ext", "moved")
    f["gone"] = h5py.ExternalLink(target_name, "/")
    del f["gone"]


def _observe(f, target_name):
    grp = f["ext"]
    link = f.get("ext", getlink=True)
    seen = dict(
        members=sorted(f),
        name=grp.name,
        attrs=dict(grp.attrs),
        other_file=grp.file != f,
        data=f["ext_data"][()].tolist(),
        data_via_group=grp["data"][()].tolist(),
        moved=f["moved"].name,
        link=(type(link).__name__, link.filename == target_name, link.path),
        link_class=f.get("ext", getlink=True, getclass=True).__name__,
        c_elink=_c_elink(f, b"ext") == (H5L_TYPE_EXTERNAL, 0, target_name, "/external"),
        contains=("ext" in f, "broken" in f, "gone" in f),
    )
    with pytest.raises(KeyError):
        f["broken"]
    with pytest.raises(KeyError):
        f["nofile"]
    return seen


def test_external_links_match_native(backend, tmp_path):
    native_target = str(tmp_path / "native_target.h5")
    with native_file(native_target, "w") as t:
        _make_target(t)
    with native_file(tmp_path / "n.h5", "w") as f:
        _links(f, native_target)
        expected = _observe(f, native_target)
    with native_file(tmp_path / "n.h5") as f:
        expected_reopened = _observe(f, native_target)

    target = backend.url("target.h5")
    with h5py.File(target, "w") as t:
        _make_target(t)
    with h5py.File(backend.url("main.h5"), "w") as f:
        _links(f, "target.h5")  # relative: next to main.h5 in the same store
        got = _observe(f, "target.h5")
    with h5py.File(backend.url("main.h5"), "r") as f:
        got_reopened = _observe(f, "target.h5")
    assert expected["data"] == [0, 1, 2, 3, 4] and expected["link"][0] == "ExternalLink"
    assert got == expected
    assert got_reopened == expected_reopened
    with h5py.File(target, "r") as t:  # the target file is untouched
        assert sorted(t) == ["external"] and t["external/data"][()].tolist() == [0, 1, 2, 3, 4]


def test_external_link_by_url_and_writes_through_it(backend):
    with h5py.File(backend.url("t2.h5"), "w") as t:
        t.create_group("g")
    with h5py.File(backend.url("m2.h5"), "w") as f:
        f["ext"] = h5py.ExternalLink(backend.url("t2.h5"), "/g")
        f["ext"].create_dataset("new", data=[1, 2])  # the target opened with the parent's intent
        f["ext"].attrs["a"] = "x"
    with h5py.File(backend.url("t2.h5"), "r") as t:
        assert t["g/new"][()].tolist() == [1, 2] and t["g"].attrs["a"] == "x"
    with h5py.File(backend.url("m2.h5"), "r") as f:
        assert sorted(f["ext"]) == ["new"]
        if "elink_mode" in inspect.signature(h5py.Group.get).parameters:  # h5py >= 3.16
            g = f.get("ext", elink_mode="r")
            assert sorted(g) == ["new"] and g.file.mode == "r"


def test_external_link_into_a_native_file_is_refused_clearly(backend, tmp_path):
    native_target = str(tmp_path / "nt.h5")
    with native_file(native_target, "w") as t:
        _make_target(t)
    with h5py.File(backend.url("m3.h5"), "w") as f:
        f["ext"] = h5py.ExternalLink(native_target, "/external")
        assert f.get("ext", getlink=True).filename == native_target and "ext" in f
        with pytest.raises(Exception, match="not supported by arraymorph: opening the external link '/ext'.*native HDF5 file"):
            f["ext"]
        del f["ext"]
        assert sorted(f) == []


def test_external_link_record_in_zarr_json(local_root):
    """docs/format.md: the link is a record in the parent group's _hdf5.links."""
    import json

    with h5py.File("rec.h5", "w") as f:
        f.create_group("g")["e"] = h5py.ExternalLink("other.h5", "/x/y")
    doc = json.loads((local_root / "rec.h5" / "g" / "zarr.json").read_text())
    assert doc["attributes"]["_hdf5"]["links"] == {"e": {"type": "external", "file": "other.h5", "path": "/x/y"}}


def test_paths_through_an_external_link(backend, tmp_path):
    """Opening `ext/...` follows the link and looks the rest up in the other file, as natively;
    other operations on such a path fail naming the link."""
    native_target = str(tmp_path / "nt4.h5")
    with native_file(native_target, "w") as t:
        t.create_group("g/h").attrs["x"] = 1
    with native_file(tmp_path / "n4.h5", "w") as f:
        f["ext"] = h5py.ExternalLink(native_target, "/g")
        expected = (f["ext/h"].name, dict(f["ext/h"].attrs))
    with h5py.File(backend.url("t4.h5"), "w") as t:
        t.create_group("g/h").attrs["x"] = 1
    with h5py.File(backend.url("m4.h5"), "w") as f:
        f["ext"] = h5py.ExternalLink("t4.h5", "/g")
        assert (f["ext/h"].name, dict(f["ext/h"].attrs)) == expected
        with pytest.raises(KeyError):
            f["ext/missing"]
        assert "ext/h" in f and "ext/missing" not in f  # H5Lexists follows the link, as natively
        assert f.get("ext/h", getclass=True) is h5py.Group
        f.copy("ext/h", "copied")  # H5Ocopy from the linked file
        assert dict(f["copied"].attrs) == {"x": 1}
        with pytest.raises(Exception, match="continues below the external link '/ext'"):
            f.create_group("ext/new")
