"""Variable-length data inside compound and array types, and sequences of variable-length data
(a vlen of vlen strings), in datasets on every store, compared with the same operations on a
native HDF5 file. Before this they were refused with "not supported by arraymorph:
variable-length sequences or variable-length strings inside compound or array types". Stored
form: docs/format.md ("Variable-length data", serialized elements; src/vol/vlen_elements.hpp)."""

import json
import struct

import h5py
import numpy as np

from native_files import native_file

STR = h5py.string_dtype()
BSTR = h5py.string_dtype("ascii")
COMPOUND = np.dtype([("n", ">i4"), ("s", STR), ("v", h5py.vlen_dtype("f8")), ("fix", "S3")])
NESTED = np.dtype([("outer", "i2"), ("inner", np.dtype([("b", BSTR), ("w", h5py.vlen_dtype("u1"))]))])
ARRAY_OF_STR = np.dtype((STR, (2,)))
VLEN_OF_STR = h5py.vlen_dtype(STR)


def _write(f):
    c = f.create_dataset("c", shape=(6,), dtype=COMPOUND, chunks=(4,))
    c[0] = (1, "héllo", np.array([1.5, 2.5]), b"abc")
    c[2:4] = np.array([(3, "", np.array([], "f8"), b"x"), (-4, "four", np.arange(4.0), b"")], dtype=COMPOUND)
    c[5] = (5, "last", np.array([9.0]), b"zz")          # [1] and [4] never written
    n = f.create_dataset("nested", shape=(3,), dtype=NESTED)
    n[...] = np.array([(1, (b"a", np.array([1, 2], "u1"))), (2, (b"", np.array([], "u1"))),
                       (3, (b"ccc", np.arange(5, dtype="u1")))], dtype=NESTED)
    a = f.create_dataset("arr", shape=(2, 2), dtype=ARRAY_OF_STR, chunks=(1, 2))
    a[0, 0] = ["x", "yy"]
    a[1, 1] = ["", "zzz"]
    v = f.create_dataset("vv", shape=(3,), dtype=VLEN_OF_STR)
    v[0] = np.array(["a", "b", "c"], dtype=VLEN_OF_STR)
    v[2] = np.array(["d", "éé"], dtype=VLEN_OF_STR)
    f.attrs["done"] = 1


def _plain(x):
    if isinstance(x, np.ndarray):
        return [_plain(i) for i in x.tolist()] if x.dtype != object else [_plain(i) for i in x]
    if isinstance(x, (tuple, list, np.void)):
        return [_plain(i) for i in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


def _observe(f):
    out = {}
    for name in ("c", "nested", "arr", "vv"):
        d = f[name]
        out[name] = dict(shape=d.shape, dtype=str(d.dtype), all=_plain(d[()]), some=_plain(d[1:3]))
    out["field_n"] = _plain(f["c"]["n"])                 # a subset of the members (by-name conversion)
    out["field_s"] = _plain(f["c"].fields(["s", "v"])[()])
    return out


def test_variable_length_members_match_native(backend, tmp_path):
    with native_file(tmp_path / "n.h5", "w") as f:
        _write(f)
    with native_file(tmp_path / "n.h5") as f:
        expected = _observe(f)
    with h5py.File(backend.url("e.h5"), "w") as f:
        _write(f)
        assert _observe(f) == expected
    with h5py.File(backend.url("e.h5"), "r") as f:
        assert _observe(f) == expected
    assert expected["c"]["all"][0][1] == "héllo".encode() and expected["vv"]["all"][2] == [b"d", "éé".encode()]
    meta = json.loads(backend.read_key("e.h5/c/zarr.json"))
    assert meta["data_type"] == "variable_length_bytes"


def test_serialized_element_bytes(backend):
    """One element's stored item is the documented serialization (docs/format.md)."""
    dt = np.dtype([("n", "<i4"), ("s", STR), ("v", h5py.vlen_dtype("<i2"))])
    with h5py.File(backend.url("b.h5"), "w") as f:
        f.create_dataset("d", shape=(1,), dtype=dt)[0] = (7, "ab", np.array([1, -1], "<i2"))
    raw = backend.read_key("b.h5/d/c/0")
    # vlen-bytes chunk: u32 item count, u32 item length, item
    count, length = struct.unpack_from("<II", raw)
    item = raw[8:8 + length]
    assert count == 1
    assert item == struct.pack("<i", 7) + struct.pack("<Q", 2) + b"ab" + struct.pack("<Q", 2) + struct.pack("<hh", 1, -1)
