"""Variable-length sequences in datasets (``h5py.vlen_dtype(...)``) on every store, compared with
the same operations on a native HDF5 file. Before this, creating one failed with "not supported by
arraymorph: variable-length sequences ... in datasets". Stored form: docs/format.md
("Variable-length sequences")."""

import ctypes
import json

import h5py
import numpy as np
import pytest
import zarr

import arraymorph
from native_files import native_file

BASES = ["i4", ">i4", "u1", "f2", "f8", np.dtype([("a", "i2"), ("b", "f4")])]


def _seqs(base, n, seed):
    rng = np.random.default_rng(seed)
    out = np.empty(n, dtype=object)
    for i in range(n):
        k = int(rng.integers(0, 7)) if i % 4 else 0  # some empty sequences
        if np.dtype(base).names:
            a = np.zeros(k, dtype=base)
            a["a"] = rng.integers(-100, 100, k)
            a["b"] = rng.random(k)
        else:
            a = (rng.random(k) * 100).astype(base)
        out[i] = a
    return out


def _write(f):
    for i, base in enumerate(BASES):
        d = f.create_dataset(f"v{i}", shape=(10,), dtype=h5py.vlen_dtype(base), chunks=(4,))
        d[...] = _seqs(base, 10, i)
        # partial-chunk overwrite
        d[3] = np.zeros(2, dtype=base) if np.dtype(base).names else np.arange(5).astype(base)
    m = f.create_dataset("multi", shape=(3, 4), dtype=h5py.vlen_dtype("i8"), chunks=(2, 3), compression="gzip")
    block = np.empty((2, 2), dtype=object)
    for i in range(2):
        for j in range(2):
            block[i, j] = np.arange(i + 2 * j, dtype="i8")
    m[1:3, 1:3] = block
    conv = f.create_dataset("conv", shape=(4,), dtype=h5py.vlen_dtype("f4"))
    conv[...] = np.array([np.arange(3, dtype="i8"), np.arange(1, dtype="i2"), np.array([], "i4"), np.arange(2)],
                         dtype=object)  # memory base types other than the file's


def _observe(f):
    out = {}
    for name in [f"v{i}" for i in range(len(BASES))] + ["multi", "conv"]:
        d = f[name]
        vals = d[()]
        out[name] = dict(
            shape=d.shape, dtype=str(h5py.check_vlen_dtype(d.dtype)), chunks=d.chunks,
            values=[(str(v.dtype), v.tolist()) for v in vals.ravel()],
            sel=[v.tolist() for v in d[1:3].ravel()],
            buf_size=_vlen_buf_size(d))
    out["as_f8"] = [v.tolist() for v in f["v0"].astype(h5py.vlen_dtype("f8"))[()]]
    return out


def _vlen_buf_size(d):
    """H5Dvlen_get_buf_size of the whole dataset read as its own (memory) type."""
    lib = ctypes.CDLL(arraymorph._loaded_libhdf5()[0])
    size = ctypes.c_uint64(0)
    tid = d.id.get_type()
    sid = d.id.get_space()
    rc = lib.H5Dvlen_get_buf_size(ctypes.c_int64(d.id.id), ctypes.c_int64(tid.id), ctypes.c_int64(sid.id),
                                  ctypes.byref(size))
    assert rc >= 0
    return size.value


def test_vlen_sequences_match_native(backend, tmp_path):
    with native_file(tmp_path / "n.h5", "w") as f:
        _write(f)
        expected_open = _observe(f)
    with native_file(tmp_path / "n.h5") as f:
        expected = _observe(f)
    assert expected_open == expected
    with h5py.File(backend.url("v.h5"), "w") as f:
        _write(f)
        assert _observe(f) == expected
    with h5py.File(backend.url("v.h5"), "r") as f:
        got = _observe(f)
    assert expected["v0"]["buf_size"] > 0
    assert got == expected


def test_never_written_sequences_read_empty_like_native(backend, tmp_path):
    results = []
    for make in (lambda: native_file(tmp_path / "n.h5", "w"), lambda: h5py.File(backend.url("e.h5"), "w")):
        with make() as f:
            d = f.create_dataset("v", shape=(6,), dtype=h5py.vlen_dtype("f8"), chunks=(2,))
            d[4] = np.array([1.5, 2.5])
            results.append(([v.tolist() for v in d[()]], d.id.get_space_status()))
    assert results[0] == results[1]


def test_vlen_stored_form_and_zarr_view(backend):
    with h5py.File(backend.url("z.h5"), "w") as f:
        d = f.create_dataset("v", shape=(3,), dtype=h5py.vlen_dtype("<i2"), chunks=(3,))
        d[...] = np.array([np.array([1, 2], "i2"), np.array([], "i2"), np.array([-1], "i2")], dtype=object)
    doc = json.loads(backend.read_key("z.h5/v/zarr.json"))
    assert doc["data_type"] == "variable_length_bytes"
    assert doc["codecs"][0]["name"] == "vlen-bytes"
    z = zarr.open_group(store=backend.zarr_store("z.h5"), mode="r")
    raw = z["v"][...]
    assert [np.frombuffer(b, "<i2").tolist() for b in raw] == [[1, 2], [], [-1]]


def test_references_with_variable_length_data_are_refused_clearly(backend, tmp_path):
    """Nested variable-length data is stored since test_vlen_elements.py; references next to it
    (or as a sequence's base) still are not."""
    with h5py.File(backend.url("n.h5"), "w") as f:
        with pytest.raises(Exception, match="not supported by arraymorph: variable-length sequences of references"):
            f.create_dataset("vr", shape=(2,), dtype=h5py.vlen_dtype(h5py.ref_dtype))
        cmp = np.dtype([("r", h5py.ref_dtype), ("s", h5py.string_dtype())])
        with pytest.raises(Exception, match="not supported by arraymorph: references together with variable-length"):
            f.create_dataset("cs", shape=(2,), dtype=cmp)
        assert "vr" not in f and "cs" not in f
