"""HDF5 attributes through arraymorph, with plain h5py (issue 4, item 1; docs/design.md §2).

Attributes live in each node's ``zarr.json`` as plain JSON (``attributes.<name>``), with the exact
HDF5 type and shape in ``attributes._hdf5.attributes.<name>`` when JSON alone loses them, and the
creation order in ``attributes._hdf5.attribute_order``. The environment (HDF5_VOL_CONNECTOR,
HDF5_PLUGIN_PATH) and the ``backend`` fixture come from conftest.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

INT_TYPES = ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"]
FLOAT_TYPES = ["f2", "f4", "f8"]
COMPLEX_TYPES = ["c8", "c16"]


@pytest.fixture
def url(backend):
    return backend.url("attrs.h5")


def _owner(f: h5py.File, where: str):
    """The object whose attributes a test uses: root group, a group or a dataset."""
    if where == "root":
        return f
    if where == "group":
        return f.require_group("g")
    if "d" not in f:
        f.create_dataset("d", data=np.arange(6, dtype="i4"), chunks=(3,))
    return f["d"]


# Tests that read or write the stored objects directly run on the local store only.
LOCAL_ONLY = pytest.mark.parametrize("backend", ["local"], indirect=True)


def _zarr_json(backend, *parts):
    """The parsed zarr.json of a node of file attrs.h5 (local backend only)."""
    assert backend.name == "local"
    path = os.path.join(str(backend.root), "attrs.h5", *parts, "zarr.json")
    with open(path) as fh:
        return json.load(fh)


def _sample(dtype: str, shape=()):
    dt = np.dtype(dtype)
    n = int(np.prod(shape)) if shape else 1
    if dt.kind == "b":
        flat = np.array([True, False, True, True, False, False][:n] * (n // 6 + 1), dtype=dt)[:n]
    elif dt.kind == "c":
        flat = (np.arange(n) + 1.5 - 2j * np.arange(n)).astype(dt)
    elif dt.kind == "f":
        flat = (np.arange(n) + 0.1).astype(dt)
    elif dt.kind == "u":
        flat = np.array([np.iinfo(dt).max - i for i in range(n)], dtype=dt)
    else:
        flat = np.array([np.iinfo(dt).min + i for i in range(n)], dtype=dt)
    return flat[0] if not shape else flat.reshape(shape)


# ------------------------------------------------------------------------------ numeric types
@pytest.mark.parametrize("where", ["root", "group", "dataset"])
@pytest.mark.parametrize("dtype", INT_TYPES + FLOAT_TYPES + COMPLEX_TYPES + ["?"])
def test_scalar_roundtrip_every_numeric_dtype(url, where, dtype):
    value = _sample(dtype)
    with h5py.File(url, "w") as f:
        _owner(f, where).attrs["x"] = value
        got = _owner(f, where).attrs["x"]  # same session
        assert got == value and got.dtype == np.dtype(dtype)
    with h5py.File(url, "r") as f:
        got = _owner(f, where).attrs["x"]
        assert got.dtype == np.dtype(dtype)
        assert got == value
        assert np.isscalar(got) or getattr(got, "shape", None) == ()


@pytest.mark.parametrize("dtype", INT_TYPES + FLOAT_TYPES + COMPLEX_TYPES + ["?"])
def test_array_roundtrip_every_numeric_dtype(url, dtype):
    value = _sample(dtype, (2, 3))
    with h5py.File(url, "w") as f:
        f.create_group("g").attrs["a"] = value
        f["g"].attrs["one"] = value[:1, :1]
    with h5py.File(url, "r") as f:
        got = f["g"].attrs["a"]
        assert got.dtype == np.dtype(dtype) and got.shape == (2, 3)
        np.testing.assert_array_equal(got, value)
        one = f["g"].attrs["one"]
        assert one.shape == (1, 1) and one[0, 0] == value[0, 0]


@LOCAL_ONLY
def test_extreme_integers_and_special_floats(url, backend):
    with h5py.File(url, "w") as f:
        f.attrs["u64"] = np.uint64(2**64 - 1)
        f.attrs["i64"] = np.int64(-(2**63))
        f.attrs["special"] = np.array([np.nan, np.inf, -np.inf, -0.0, 1e-300], dtype="f8")
        f.attrs["f32"] = np.float32(0.1)
        f.attrs["f16"] = np.float16(0.333)
        f.attrs["big_endian"] = np.array([1, 2, 3], dtype=">i4")
        f.attrs["big_float"] = np.array([1.5], dtype=">f8")
    with h5py.File(url, "r") as f:
        assert f.attrs["u64"] == 2**64 - 1 and f.attrs["u64"].dtype == np.uint64
        assert f.attrs["i64"] == -(2**63)
        s = f.attrs["special"]
        assert np.isnan(s[0]) and s[1] == np.inf and s[2] == -np.inf and s[4] == 1e-300
        assert np.signbit(s[3])
        assert f.attrs["f32"] == np.float32(0.1) and f.attrs["f32"].dtype == np.float32
        assert f.attrs["f16"] == np.float16(0.333) and f.attrs["f16"].dtype == np.float16
        assert f.attrs["big_endian"].dtype == np.dtype(">i4")
        np.testing.assert_array_equal(f.attrs["big_endian"], [1, 2, 3])
        assert f.attrs["big_float"].dtype == np.dtype(">f8") and f.attrs["big_float"][0] == 1.5
    attrs = _zarr_json(backend)["attributes"]
    # Zarr readers see plain JSON: non-finite floats as Zarr spells them, short float32 decimals.
    assert attrs["special"][:3] == ["NaN", "Infinity", "-Infinity"]
    assert attrs["f32"] == 0.1
    assert attrs["u64"] == 2**64 - 1


# ------------------------------------------------------------------------------ strings
def test_strings(url):
    with h5py.File(url, "w") as f:
        f.attrs["vlen"] = "hello"
        f.attrs["unicode"] = "héllo wörld ✓"
        f.attrs["empty"] = ""
        f.attrs["fixed_bytes"] = np.bytes_(b"abc")
        f.attrs["S10"] = np.array([b"one", b"two", b"three"], dtype="S10")
        f.attrs["str_list"] = ["a", "bcd", "é"]
        f.attrs.create("fixed_utf8", "ünï".encode(), dtype=h5py.string_dtype("utf-8", 8))
        f.attrs.create("vlen_ascii", b"raw bytes", dtype=h5py.string_dtype("ascii"))
        f.attrs["binary"] = np.bytes_(b"\xff\x00\x01")  # not UTF-8
    with h5py.File(url, "r") as f:
        assert f.attrs["vlen"] == "hello" and isinstance(f.attrs["vlen"], str)
        assert f.attrs["unicode"] == "héllo wörld ✓"
        assert f.attrs["empty"] == ""
        fb = f.attrs["fixed_bytes"]
        assert fb == b"abc" and isinstance(fb, np.bytes_)
        s10 = f.attrs["S10"]
        assert s10.dtype == np.dtype("S10") and list(s10) == [b"one", b"two", b"three"]
        sl = f.attrs["str_list"]
        assert list(sl) == ["a", "bcd", "é"] and h5py.check_string_dtype(sl.dtype).length is None
        fu = f.attrs["fixed_utf8"]
        info = h5py.check_string_dtype(f.attrs.get_id("fixed_utf8").dtype)
        assert info.encoding == "utf-8" and info.length == 8 and fu.decode("utf-8") == "ünï"
        va = f.attrs["vlen_ascii"]
        assert h5py.check_string_dtype(f.attrs.get_id("vlen_ascii").dtype).encoding == "ascii"
        assert va in (b"raw bytes", "raw bytes")
        assert f.attrs["binary"] == b"\xff\x00\x01"


@LOCAL_ONLY
def test_string_json_is_plain(url, backend):
    with h5py.File(url, "w") as f:
        f.attrs["s"] = "text"
        f.attrs["S"] = np.bytes_(b"abc")
        f.attrs["binary"] = np.bytes_(b"\xff")
    attrs = _zarr_json(backend)["attributes"]
    assert attrs["s"] == "text" and attrs["S"] == "abc"
    meta = attrs["_hdf5"]["attributes"]
    assert "s" not in meta  # a str is exactly what a JSON string maps to
    assert meta["S"]["shape"] == []  # fixed length kept for HDF5
    assert meta["binary"]["encoding"] == "base64-strings" and attrs["binary"] == "/w=="


# ------------------------------------------------------------------------------ compound, enum, others
@LOCAL_ONLY
def test_compound_enum_vlen_opaque_and_empty(url, backend):
    cdt = np.dtype([("a", "i4"), ("b", "f8"), ("s", "S5")])
    nested = np.dtype([("id", "u2"), ("pos", [("x", "f4"), ("y", "f4")]), ("v", "i2", (3,))])
    vstr = np.dtype([("n", "i4"), ("name", h5py.string_dtype())])
    enum = h5py.enum_dtype({"RED": 0, "GREEN": 1, "BLUE": 7}, basetype="i1")
    with h5py.File(url, "w") as f:
        f.attrs["rec"] = np.array((1, 2.5, b"xy"), dtype=cdt)
        f.attrs["recs"] = np.array([(1, 2.5, b"a"), (-3, np.nan, b"bcdef")], dtype=cdt)
        f.attrs["nested"] = np.array((7, (1.5, -2.0), [1, 2, 3]), dtype=nested)
        f.attrs["vstr"] = np.array([(1, "one"), (2, "twö")], dtype=vstr)
        f.attrs.create("color", 7, dtype=enum)
        f.attrs.create("colors", [0, 1, 7], dtype=enum)
        f.attrs.create("ragged", np.array([np.array([1, 2, 3], "i4"), np.array([4], "i4")], dtype=object),
                       dtype=h5py.vlen_dtype("i4"))
        f.attrs["opaque"] = np.void(b"\x01\x02\x03")
        f.attrs["empty"] = h5py.Empty("f4")
    with h5py.File(url, "r") as f:
        rec = f.attrs["rec"]
        assert rec.dtype == cdt and rec["a"] == 1 and rec["b"] == 2.5 and rec["s"] == b"xy"
        recs = f.attrs["recs"]
        assert recs.dtype == cdt and list(recs["a"]) == [1, -3] and np.isnan(recs["b"][1])
        assert list(recs["s"]) == [b"a", b"bcdef"]
        n = f.attrs["nested"]
        assert n.dtype == nested and n["pos"]["y"] == -2.0 and list(n["v"]) == [1, 2, 3]
        vs = f.attrs["vstr"]
        assert list(vs["n"]) == [1, 2] and [x.decode() if isinstance(x, bytes) else x for x in vs["name"]] == ["one", "twö"]
        assert f.attrs["color"] == 7
        assert h5py.check_enum_dtype(f.attrs.get_id("color").dtype) == {"RED": 0, "GREEN": 1, "BLUE": 7}
        assert list(f.attrs["colors"]) == [0, 1, 7]
        ragged = f.attrs["ragged"]
        assert [list(x) for x in ragged] == [[1, 2, 3], [4]]
        assert f.attrs["opaque"].tobytes() == b"\x01\x02\x03"
        e = f.attrs["empty"]
        assert isinstance(e, h5py.Empty) and e.dtype == np.dtype("f4")
    attrs = _zarr_json(backend)["attributes"]
    assert attrs["rec"] == {"a": 1, "b": 2.5, "s": "xy"}
    assert attrs["recs"][1]["b"] == "NaN"
    assert attrs["color"] == 7 and attrs["colors"] == [0, 1, 7]
    assert attrs["ragged"] == [[1, 2, 3], [4]]
    assert attrs["empty"] is None
    assert attrs["_hdf5"]["attributes"]["opaque"]["encoding"] == "base64"


@LOCAL_ONLY
def test_complex_and_bool_json(url, backend):
    with h5py.File(url, "w") as f:
        f.attrs["z"] = np.complex128(1.5 - 2j)
        f.attrs["flags"] = np.array([True, False])
        f.attrs["i"] = 3
        f.attrs["small"] = np.int8(3)
    attrs = _zarr_json(backend)["attributes"]
    assert attrs["z"] == [1.5, -2.0] and attrs["flags"] == [True, False]
    assert attrs["i"] == 3 and attrs["small"] == 3
    meta = attrs["_hdf5"]["attributes"]
    assert "i" not in meta and "flags" not in meta  # int64 / bool arrays: JSON is exact
    assert "small" in meta and "z" in meta


# ------------------------------------------------------------------------------ dict-like behaviour
@pytest.mark.parametrize("where", ["root", "group", "dataset"])
def test_create_modify_delete_contains_len_iterate(url, where):
    with h5py.File(url, "w") as f:
        a = _owner(f, where).attrs
        assert len(a) == 0 and list(a) == [] and "b" not in a
        a["b"] = 1
        a["a"] = "two"
        a["c"] = [1.0, 2.0]
        assert len(a) == 3 and "a" in a and "zz" not in a
        assert list(a) == ["a", "b", "c"]  # name order without track_order
        a["b"] = "now a string"  # overwrite with another type
        a.modify("c", [5, 6])  # same shape: keeps float64
        assert a["c"].dtype == np.float64 and list(a["c"]) == [5.0, 6.0]
        a.modify("a", "three")
        del a["a"]
        assert "a" not in a and len(a) == 2
        with pytest.raises(KeyError):
            del a["a"]
    with h5py.File(url, "r") as f:
        a = _owner(f, where).attrs
        assert len(a) == 2 and sorted(a.keys()) == ["b", "c"]
        assert dict(a.items())["b"] == "now a string"
        assert list(a["c"]) == [5.0, 6.0]
        assert a.get("missing", 42) == 42


def test_many_attributes_name_order(url):
    names = [f"attr{i:03d}" for i in range(60)][::-1]
    with h5py.File(url, "w") as f:
        for i, n in enumerate(names):
            f.attrs[n] = i
    with h5py.File(url, "r") as f:
        assert list(f.attrs) == sorted(names)
        assert f.attrs["attr000"] == 59 and len(f.attrs) == 60


def test_creation_order_low_level(url):
    order = ["zeta", "alpha", "mid", "beta"]
    with h5py.File(url, "w") as f:
        g = f.create_group("g")
        for i, n in enumerate(order):
            g.attrs[n] = i
        seen = []
        h5py.h5a.iterate(g.id, lambda name, *args: seen.append(name.decode()), index_type=h5py.h5.INDEX_CRT_ORDER)
        assert seen == order
        seen = []
        h5py.h5a.iterate(g.id, lambda name, *args: seen.append(name.decode()), index_type=h5py.h5.INDEX_NAME,
                         order=h5py.h5.ITER_DEC)
        assert seen == sorted(order, reverse=True)
        info = h5py.h5a.get_info(g.id, name=b"mid")
        assert info.corder == 2 and info.data_size == 8
        assert h5py.h5a.open(g.id, index=0, index_type=h5py.h5.INDEX_CRT_ORDER).name == b"zeta"
        assert h5py.h5a.open(g.id, index=0).name == b"alpha"
        del g.attrs["alpha"]
        seen = []
        h5py.h5a.iterate(g.id, lambda name, *args: seen.append(name.decode()), index_type=h5py.h5.INDEX_CRT_ORDER)
        assert seen == ["zeta", "mid", "beta"]


def test_creation_order_with_track_order(url):
    order = ["zeta", "alpha", "mid", "beta"]
    with h5py.File(url, "w", track_order=True) as f:
        g = f.create_group("g", track_order=True)
        d = f.create_dataset("d", data=[1, 2], track_order=True)
        for obj in (f, g, d):
            for i, n in enumerate(order):
                obj.attrs[n] = i
        assert list(f.attrs) == order
        assert list(g.attrs) == order and list(d.attrs) == order
    with h5py.File(url, "r") as f:
        assert list(f["g"].attrs) == order
        assert list(f["d"].attrs) == order
        assert list(f.attrs) == order


def test_rename_and_low_level_queries(url):
    with h5py.File(url, "w") as f:
        f.attrs["old"] = np.arange(4, dtype="i2")
        h5py.h5a.rename(f.id, b"old", b"new")
        assert "old" not in f.attrs and list(f.attrs["new"]) == [0, 1, 2, 3]
        attr = h5py.h5a.open(f.id, b"new")
        assert attr.name == b"new" and attr.shape == (4,) and attr.dtype == np.dtype("i2")
        assert attr.get_storage_size() == 8
        assert h5py.h5a.get_num_attrs(f.id) == 1
    with h5py.File(url, "r") as f:
        assert list(f.attrs["new"]) == [0, 1, 2, 3]


def test_read_into_other_memory_type(url):
    with h5py.File(url, "w") as f:
        f.attrs["small"] = np.array([1, -2, 3], dtype="i1")
        f.attrs["f"] = np.float32(2.5)
        f.attrs["rec"] = np.array((1, 2.5), dtype=[("a", "i4"), ("b", "f8")])
    with h5py.File(url, "r") as f:
        out = np.zeros(3, dtype="f8")
        h5py.h5a.open(f.id, b"small").read(out)
        np.testing.assert_array_equal(out, [1.0, -2.0, 3.0])
        out64 = np.zeros(3, dtype="i8")
        h5py.h5a.open(f.id, b"small").read(out64)
        np.testing.assert_array_equal(out64, [1, -2, 3])
        outf = np.zeros((), dtype="f8")
        h5py.h5a.open(f.id, b"f").read(outf)
        assert outf[()] == 2.5
        sub = np.zeros((), dtype=[("b", "f8")])  # compound subset
        h5py.h5a.open(f.id, b"rec").read(sub)
        assert sub["b"] == 2.5


def test_write_from_other_memory_type(url):
    with h5py.File(url, "w") as f:
        f.attrs.create("x", data=[1.0, 2.0, 3.0], dtype="i2")  # float data into an int16 attribute
        assert f.attrs["x"].dtype == np.dtype("i2") and list(f.attrs["x"]) == [1, 2, 3]
        f.attrs.modify("x", np.array([7, 8, 9], dtype="u1"))
    with h5py.File(url, "r") as f:
        assert f.attrs["x"].dtype == np.dtype("i2") and list(f.attrs["x"]) == [7, 8, 9]


# ------------------------------------------------------------------------------ persistence
def test_persistence_in_a_new_process(url):
    with h5py.File(url, "w") as f:
        f.attrs["title"] = "run 7"
        f.attrs["count"] = np.uint16(12)
        g = f.create_group("g")
        g.attrs["weights"] = np.linspace(0, 1, 5, dtype="f4")
        f.create_dataset("d", data=np.arange(3)).attrs["units"] = "m/s"
    script = textwrap.dedent(
        f"""
        import h5py, numpy as np
        with h5py.File({url!r}, "r") as f:
            assert f.attrs["title"] == "run 7"
            assert f.attrs["count"] == 12 and f.attrs["count"].dtype == np.uint16
            w = f["g"].attrs["weights"]
            assert w.dtype == np.float32 and np.allclose(w, np.linspace(0, 1, 5))
            assert f["d"].attrs["units"] == "m/s"
            print("OK", len(f.attrs))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=dict(os.environ), timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "OK 2"


@LOCAL_ONLY
def test_attributes_are_durable_before_close(url, backend):
    f = h5py.File(url, "w")
    try:
        f.create_group("g").attrs["x"] = 41
        f["g"].attrs["x"] = 42
        # The owner's zarr.json is written at once, not only at close.
        assert _zarr_json(backend, "g")["attributes"]["x"] == 42
    finally:
        f.close()


# ------------------------------------------------------------------------------ Zarr interop
def _zarr_path(backend):
    assert backend.name == "local"
    return os.path.join(str(backend.root), "attrs.h5")


@LOCAL_ONLY
def test_zarr_reads_arraymorph_attributes(url, backend):
    import zarr
    with h5py.File(url, "w") as f:
        f.attrs["title"] = "experiment"
        f.attrs["n"] = 3
        f.attrs["ratio"] = np.float32(0.25)
        f.attrs["shape"] = np.array([[1, 2], [3, 4]], dtype="i4")
        f.attrs["ok"] = True
        f.attrs["rec"] = np.array((1, b"x"), dtype=[("a", "i2"), ("s", "S3")])
        g = f.create_group("g")
        g.attrs["names"] = ["a", "b"]
        f.create_dataset("g/d", data=np.arange(4, dtype="f8"), chunks=(2,)).attrs["units"] = "K"
    root = zarr.open_group(_zarr_path(backend), mode="r")
    a = dict(root.attrs)
    assert a["title"] == "experiment" and a["n"] == 3 and a["ratio"] == 0.25
    assert a["shape"] == [[1, 2], [3, 4]] and a["ok"] is True
    assert a["rec"] == {"a": 1, "s": "x"}
    assert root["g"].attrs["names"] == ["a", "b"]
    assert root["g/d"].attrs["units"] == "K"
    np.testing.assert_array_equal(root["g/d"][:], np.arange(4.0))


@LOCAL_ONLY
def test_arraymorph_reads_zarr_attributes(backend):
    import zarr
    assert backend.name == "local"
    path = os.path.join(str(backend.root), "z.h5")
    root = zarr.open_group(path, mode="w")
    root.attrs.update({
        "i": 5, "big": 2**64 - 1, "f": 1.5, "s": "hi", "b": False, "ints": [1, 2, 3],
        "grid": [[1.0, 2.5], [3.0, 4.0]], "mixed": [1, "a"], "cfg": {"k": [1, 2], "on": True},
        "none": None, "strs": ["x", "yz"], "bools": [True, False], "empty": [],
    })
    arr = root.create_array("arr", shape=(4,), chunks=(2,), dtype="i4")
    arr[:] = np.arange(4)
    arr.attrs["units"] = "cm"
    with h5py.File(backend.url("z.h5"), "r") as f:
        a = f.attrs
        assert a["i"] == 5 and a["i"].dtype == np.int64
        assert a["big"] == 2**64 - 1 and a["big"].dtype == np.uint64
        assert a["f"] == 1.5 and a["f"].dtype == np.float64
        assert a["s"] == "hi"
        assert a["b"] == False and a["b"].dtype == np.bool_  # noqa: E712
        assert list(a["ints"]) == [1, 2, 3] and a["ints"].dtype == np.int64
        np.testing.assert_array_equal(a["grid"], [[1.0, 2.5], [3.0, 4.0]])
        assert json.loads(a["mixed"]) == [1, "a"]
        assert json.loads(a["cfg"]) == {"k": [1, 2], "on": True}
        assert isinstance(a["none"], h5py.Empty)
        assert list(a["strs"]) == ["x", "yz"]
        assert list(a["bools"]) == [True, False]
        assert a["empty"].shape == (0,)
        assert len(a) == 13 and "cfg" in a
        assert f["arr"].attrs["units"] == "cm"
        np.testing.assert_array_equal(f["arr"][:], np.arange(4))


@LOCAL_ONLY
def test_zarr_overwrite_of_typed_attribute(url, backend):
    import zarr
    with h5py.File(url, "w") as f:
        f.attrs["x"] = np.int8(5)
    root = zarr.open_group(_zarr_path(backend), mode="r+")
    root.attrs["x"] = [1000, 2000]  # no longer fits the recorded int8 scalar
    with h5py.File(url, "r") as f:
        x = f.attrs["x"]
        assert list(x) == [1000, 2000] and x.dtype == np.int64


# ------------------------------------------------------------------------------ errors
def test_missing_attribute_raises_keyerror_naming_it(url):
    with h5py.File(url, "w") as f:
        f.attrs["present"] = 1
        with pytest.raises(KeyError, match="nonexistent"):
            f.attrs["nonexistent"]
        with pytest.raises(KeyError, match="nonexistent"):
            f.create_group("g").attrs["nonexistent"]


def test_read_only_file_refuses_attribute_changes(url):
    with h5py.File(url, "w") as f:
        f.attrs["x"] = 1
    with h5py.File(url, "r") as f:
        with pytest.raises(OSError, match="read-only"):
            f.attrs["y"] = 2
        with pytest.raises((OSError, KeyError), match="read-only"):
            del f.attrs["x"]
        with pytest.raises(OSError, match="read-only"):
            f.attrs.modify("x", 5)
        assert f.attrs["x"] == 1 and "y" not in f.attrs


def test_unsupported_values_raise_clear_errors(url):
    # (Reference-typed attributes work: test_references.py.)
    with h5py.File(url, "w") as f:
        with pytest.raises(Exception, match="reserved"):
            f.attrs["_hdf5"] = 1
        assert "_hdf5" not in f.attrs and len(f.attrs) == 0


def test_writing_some_compound_members_keeps_the_others(url):
    """H5Awrite with a member subset used to zero the members left out (silent wrong data)."""
    full = np.dtype([("a", "<i4"), ("b", "<f8")])
    with h5py.File(url, "w") as f:
        f.attrs["rec"] = np.array((7, 2.5), dtype=full)
        aid = h5py.h5a.open(f.id, b"rec")
        only_b = h5py.h5t.create(h5py.h5t.COMPOUND, 8)
        only_b.insert(b"b", 0, h5py.h5t.NATIVE_DOUBLE)
        aid.write(np.array([9.5], dtype=[("b", "<f8")]), mtype=only_b)
        got = f.attrs["rec"]
    assert got["a"] == 7 and got["b"] == 9.5
