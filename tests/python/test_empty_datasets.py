"""Null-dataspace (``h5py.Empty``) datasets on every store, compared with the same operations on
a native HDF5 file. Before this they were refused with "not supported by arraymorph: datasets
with a null dataspace". Stored form: docs/format.md ("Null dataspace")."""

import json

import h5py
import numpy as np
import pytest
import zarr

from native_files import native_file

DTYPES = ["f4", "<i8", ">i2", "S5", np.dtype([("a", "i4"), ("b", "f8")]), h5py.string_dtype()]


def _write(f):
    for i, dt in enumerate(DTYPES):
        d = f.create_dataset(f"e{i}", data=h5py.Empty(dt))
        d.attrs["note"] = f"empty {i}"
    f.create_dataset("via_none", shape=None, dtype="u1")
    f.attrs["empty_attr"] = h5py.Empty("f8")


def _observe(f):
    """What a program can see of the empty datasets: everything h5py reports."""
    out = {}
    for name in [f"e{i}" for i in range(len(DTYPES))] + ["via_none"]:
        d = f[name]
        value = d[()]
        with pytest.raises(ValueError):
            d[0]
        with pytest.raises(ValueError):  # h5py refuses slicing an empty dataset
            d[0:1]
        out[name] = dict(
            shape=d.shape, size=d.size, nbytes=d.nbytes, ndim=d.ndim, chunks=d.chunks, maxshape=d.maxshape,
            dtype=str(d.dtype), value=(type(value).__name__, str(value.dtype)),
            ellipsis=type(d[...]).__name__,
            space=d.id.get_space().get_simple_extent_type(),
            status=d.id.get_space_status(), storage=d.id.get_storage_size(),
            layout=d.id.get_create_plist().get_layout(), attrs=dict(d.attrs))
    a = f.attrs["empty_attr"]
    out["attr"] = (type(a).__name__, str(a.dtype))
    return out


def test_empty_datasets_match_native(backend, tmp_path):
    with native_file(tmp_path / "n.h5", "w") as f:
        _write(f)
    with native_file(tmp_path / "n.h5") as f:
        expected = _observe(f)
    with h5py.File(backend.url("e.h5"), "w") as f:
        _write(f)
        assert _observe(f) == expected  # the open handles, before any reopen
    with h5py.File(backend.url("e.h5"), "r") as f:
        got = _observe(f)
    assert expected["e0"]["space"] == h5py.h5s.NULL and expected["e0"]["shape"] is None
    assert got == expected
    # No chunk object was written for any of them.
    assert not [k for k in backend.list_keys("e.h5") if "/c" in k]


def test_empty_dataset_stored_form_and_zarr_view(backend):
    with h5py.File(backend.url("z.h5"), "w") as f:
        f.create_dataset("e", data=h5py.Empty("f4"))
    doc = json.loads(backend.read_key("z.h5/e/zarr.json"))
    assert doc["shape"] == [0]
    assert doc["attributes"]["_hdf5"]["dataspace"] == "null"
    z = zarr.open_group(store=backend.zarr_store("z.h5"), mode="r")
    assert z["e"].shape == (0,)
    assert z["e"][...].size == 0


def test_empty_dataset_operations_that_native_refuses_are_refused(backend, tmp_path):
    results = []
    for make in (lambda: native_file(tmp_path / "n.h5", "w"), lambda: h5py.File(backend.url("r.h5"), "w")):
        with make() as f:
            d = f.create_dataset("e", data=h5py.Empty("i4"))
            row = []
            for op in (lambda: d.resize((3,)), lambda: d.id.get_num_chunks(),
                       lambda: f.create_dataset("c", shape=None, dtype="i4", chunks=(4,))):
                try:
                    op()
                    row.append("ok")
                except Exception as e:  # noqa: BLE001 - only whether it failed is compared
                    row.append(type(e).__name__)
            results.append(row)
    assert results[0] == results[1]
    assert "ok" not in results[0]
