"""Dataset datatypes beyond plain numbers: exact HDF5 round trips, and what Zarr readers see."""

import json

import h5py
import numpy as np
import pytest
import zarr

CASES = {
    "bool": np.array([True, False, True, True]),
    "float16": (np.arange(6, dtype="f2") / 3),
    "complex64": (np.arange(4) * (1 + 2j)).astype("c8"),
    "complex128": (np.arange(4) * (1 - 2j)).astype("c16"),
    "big_endian": np.arange(6, dtype=">i4") * -3,
    "big_float": np.arange(6, dtype=">f8") / 7,
    "bytes10": np.array([b"abc", b"defghij", b""], dtype="S10"),
    "compound": np.array([(1, 2.5), (3, 4.5)], dtype=[("a", "<i4"), ("b", "<f8")]),
    "nested": np.array([((1, 2), 3.0), ((4, 5), 6.0)], dtype=[("p", [("x", "<i2"), ("y", "<i2")]), ("v", "<f4")]),
    "array_in_compound": np.array([([1, 2, 3], 1.0), ([4, 5, 6], 2.0)], dtype=[("arr", "<i4", (3,)), ("v", "<f4")]),
    "padded_compound": np.zeros(3, dtype=np.dtype({"names": ["a", "b"], "formats": ["u1", "<i4"],
                                                   "offsets": [0, 4], "itemsize": 8})),
}


def _equal(a, b):
    if a.dtype.names:
        return a.dtype == b.dtype and a.tobytes() == b.tobytes()
    return a.dtype == b.dtype and np.array_equal(a, b)


@pytest.mark.parametrize("name", list(CASES))
def test_round_trip_exact(backend, name):
    data = CASES[name]
    url = backend.url("types.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset(name, data=data, chunks=(2,))
    with h5py.File(url, "r") as f:
        out = f[name][...]
        assert _equal(out, data), (out, data)
        assert f[name].dtype == data.dtype


def test_enum_keeps_names(backend):
    dt = h5py.enum_dtype({"RED": 0, "GREEN": 1, "BLUE": 7}, basetype="u1")
    url = backend.url("enum.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset("e", data=np.array([0, 7, 1], "u1"), dtype=dt, chunks=(2,))
    with h5py.File(url, "r") as f:
        assert h5py.check_enum_dtype(f["e"].dtype) == {"RED": 0, "GREEN": 1, "BLUE": 7}
        np.testing.assert_array_equal(f["e"][...], [0, 7, 1])


def test_fixed_utf8_strings(backend):
    dt = h5py.string_dtype("utf-8", 12)
    url = backend.url("utf8.h5")
    values = ["héllo".encode(), "wörld".encode()]
    with h5py.File(url, "w") as f:
        f.create_dataset("s", data=np.array(values, dtype=dt))
    with h5py.File(url, "r") as f:
        assert h5py.check_string_dtype(f["s"].dtype).encoding == "utf-8"
        assert [v.decode() for v in f["s"][...]] == ["héllo", "wörld"]


def test_variable_length_strings(backend):
    url = backend.url("vlen.h5")
    words = ["", "a", "héllo wörld", "x" * 1000, "日本語"]
    with h5py.File(url, "w") as f:
        d = f.create_dataset("s", data=np.array(words * 4, dtype=object), dtype=h5py.string_dtype(), chunks=(6,))
        f.create_dataset("empty", shape=(10,), dtype=h5py.string_dtype(), chunks=(4,))
        f.create_dataset("gz", data=words, dtype=h5py.string_dtype(), chunks=(2,), compression="gzip")
        d[3] = "changed"  # read-modify-write keeps the chunk's other strings
    expect = words * 4
    expect[3] = "changed"
    with h5py.File(url, "r") as f:
        assert h5py.check_string_dtype(f["s"].dtype).encoding == "utf-8"
        assert list(f["s"].asstr()[...]) == expect
        assert list(f["s"].asstr()[2:9:3]) == expect[2:9:3]
        assert list(f["empty"].asstr()[...]) == [""] * 10
        assert list(f["gz"].asstr()[...]) == words


def test_zarr_and_arraymorph_share_strings(tmp_path):
    root = tmp_path / "store"
    root.mkdir()
    with h5py.File(f"file://{root}/s.h5", "w") as f:
        f.create_dataset("s", data=["alpha", "beta", "γ"], dtype=h5py.string_dtype(), chunks=(2,))
    g = zarr.open_group(str(root / "s.h5"), mode="r+")
    assert list(g["s"][...]) == ["alpha", "beta", "γ"]
    z = g.create_array("fromzarr", shape=(3,), chunks=(2,), dtype=str)
    z[...] = np.array(["x", "yy", "zzz"], dtype=object)
    with h5py.File(f"file://{root}/s.h5", "r") as f:
        assert list(f["fromzarr"].asstr()[...]) == ["x", "yy", "zzz"]


def test_compound_field_read_and_conversion(backend):
    data = CASES["compound"]
    url = backend.url("fields.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset("c", data=data, chunks=(1,))
        f.create_dataset("i", data=np.arange(5, dtype="i8"), chunks=(2,))
    with h5py.File(url, "r") as f:
        np.testing.assert_array_equal(f["c"]["b"], data["b"])
        np.testing.assert_array_equal(f["i"].astype("f4")[...], np.arange(5, dtype="f4"))
        np.testing.assert_array_equal(f["i"].astype("i2")[1:4], [1, 2, 3])


def test_zarr_sees_every_type(tmp_path):
    root = tmp_path / "store"
    root.mkdir()
    with h5py.File(f"file://{root}/z.h5", "w") as f:
        for name, data in CASES.items():
            f.create_dataset(name, data=data, chunks=(2,))
    meta = json.loads((root / "z.h5/compound/zarr.json").read_text())
    assert meta["data_type"] == {"name": "structured", "configuration": {"fields": [["a", "int32"], ["b", "float64"]]}}
    assert json.loads((root / "z.h5/bytes10/zarr.json").read_text())["data_type"]["name"] == "null_terminated_bytes"
    assert json.loads((root / "z.h5/padded_compound/zarr.json").read_text())["data_type"]["name"] == "raw_bytes"
    g = zarr.open_group(str(root / "z.h5"), mode="r")
    for name in ["bool", "float16", "complex64", "complex128", "bytes10", "compound", "nested"]:
        got = g[name][...]
        want = CASES[name]
        assert got.tobytes() == want.astype(want.dtype.newbyteorder("=")).tobytes() or np.array_equal(got, want), name
    np.testing.assert_array_equal(g["big_endian"][...], CASES["big_endian"])
    np.testing.assert_array_equal(g["big_float"][...], CASES["big_float"])
    assert g["array_in_compound"][...].tobytes() == CASES["array_in_compound"].tobytes()  # raw bytes


def test_writing_one_compound_field_keeps_the_others(backend):
    """h5py's d["b"] = ... used to zero the other members (silent wrong data)."""
    url = backend.url("field.h5")
    data = np.array([(1, 2.5), (3, 4.5), (5, 6.5)], dtype=[("a", "<i4"), ("b", "<f8")])
    with h5py.File(url, "w") as f:
        d = f.create_dataset("c", data=data, chunks=(2,))
        d["b"] = np.array([-1.0, -2.0, -3.0])
        d[1:3, "a"] = np.array([30, 50], "i4")
    with h5py.File(url, "r") as f:
        out = f["c"][...]
    np.testing.assert_array_equal(out["a"], [1, 30, 50])
    np.testing.assert_array_equal(out["b"], [-1.0, -2.0, -3.0])


def test_reading_a_member_subset_keeps_the_callers_other_members(backend):
    """H5Dread into a compound with members the file lacks leaves those members alone (HDF5)."""
    url = backend.url("subset.h5")
    with h5py.File(url, "w") as f:
        d = f.create_dataset("c", data=np.array([(1, 2.5), (3, 4.5)], dtype=[("a", "<i4"), ("b", "<f8")]))
        wide = np.dtype([("a", "<i4"), ("b", "<f8"), ("extra", "<i8")])
        out = np.array([(0, 0.0, 77), (0, 0.0, 88)], dtype=wide)
        d.id.read(h5py.h5s.ALL, h5py.h5s.ALL, out, mtype=h5py.h5t.py_create(wide))
    np.testing.assert_array_equal(out["a"], [1, 3])
    np.testing.assert_array_equal(out["extra"], [77, 88])
