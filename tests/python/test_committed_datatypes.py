"""Committed (named) datatypes on every store, compared with the same operations on a native HDF5
file: H5Tcommit2 (h5py `f["t"] = dtype`), H5Topen2/H5Oopen (`f["t"]` is a Datatype), datasets
and attributes created with a committed type (their H5Dget_type/H5Aget_type is the committed type
again, also after reopen), attributes on the type, listing, H5Oget_info, moving and deleting.
Before this, every one of these failed with "not supported by arraymorph"."""

import h5py
import numpy as np

from native_files import native_file

COMPOUND = np.dtype([("a", "<i4"), ("b", "<f8")])


def _write(f):
    f["t"] = np.dtype("<f8")  # H5Tcommit2
    f.create_group("g")["c"] = COMPOUND
    t = f["t"]
    d = f.create_dataset("x", (4,), dtype=t)
    d[...] = np.arange(4) * 0.5
    f.create_dataset("g/y", data=np.zeros(2, COMPOUND), dtype=f["g/c"])
    f.attrs.create("a", 42, dtype=t)
    t.attrs["units"] = "m"
    f["gone"] = np.dtype("<i2")
    del f["gone"]
    f.move("g/c", "g/c2")  # the dataset's reference follows the moved type
    return dict(
        kind=type(t).__name__,
        dtype=t.dtype,
        same=d.id.get_type() == t.id,
        committed=d.id.get_type().committed(),
        attr_committed=h5py.h5a.open(f.id, b"a").get_type().committed(),
        h5i=h5py.h5i.get_type(t.id) == h5py.h5i.DATATYPE,
        getclass=f.get("t", getclass=True).__name__,
    )


def _read(f):
    visited = []
    f.visititems(lambda name, obj: visited.append((name, type(obj).__name__)))
    return dict(
        members=sorted(f),
        visited=sorted(visited),
        t_dtype=f["t"].dtype,
        c_dtype=f["g/c2"].dtype,
        x=f["x"][()].tolist(),
        x_committed=f["x"].id.get_type().committed(),
        x_same=f["x"].id.get_type() == f["t"].id,
        y_committed=f["g/y"].id.get_type().committed(),
        y_same=f["g/y"].id.get_type() == f["g/c2"].id,
        a=int(f.attrs["a"]),
        a_committed=h5py.h5a.open(f.id, b"a").get_type().committed(),
        units=f["t"].attrs["units"],
        c2_class=f.get("g/c2", getclass=True).__name__,
    )


def test_committed_datatypes_match_native(backend, tmp_path):
    with native_file(tmp_path / "n.h5", "w") as f:
        expected = _write(f)
    with native_file(tmp_path / "n.h5") as f:
        expected_stored = _read(f)
    with h5py.File(backend.url("t.h5"), "w") as f:
        got = _write(f)
    with h5py.File(backend.url("t.h5"), "r") as f:
        got_stored = _read(f)
    assert expected["committed"] and expected_stored["x_committed"]
    assert got == expected
    assert got_stored == expected_stored


def test_committed_type_of_another_file_is_stored_as_a_plain_type(backend, tmp_path):
    """As natively: a dataset in file B created with a type committed in file A keeps the type,
    not a reference into A."""
    with native_file(tmp_path / "n.h5", "w") as a, h5py.File(backend.url("b.h5"), "w") as b:
        a["t"] = np.dtype("<i2")
        b.create_dataset("x", data=np.arange(3), dtype=a["t"])
    with h5py.File(backend.url("b.h5"), "r") as b:
        assert b["x"].dtype == np.dtype("<i2") and b["x"][()].tolist() == [0, 1, 2]
        assert not b["x"].id.get_type().committed()


def test_deleted_committed_type_leaves_datasets_readable(backend):
    with h5py.File(backend.url("d.h5"), "w") as f:
        f["t"] = np.dtype("<u2")
        f.create_dataset("x", data=[1, 2], dtype=f["t"])
        del f["t"]
    with h5py.File(backend.url("d.h5"), "r") as f:
        assert sorted(f) == ["x"]
        assert f["x"][()].tolist() == [1, 2] and f["x"].dtype == np.dtype("<u2")
        assert not f["x"].id.get_type().committed()


def test_committed_datatype_node_is_a_zarr_group(local_root):
    """docs/format.md: a Zarr group whose _hdf5.committed_datatype holds the encoded type; Zarr
    readers list it as an empty group and see the dataset as a plain array."""
    import json

    with h5py.File("z.h5", "w") as f:
        f["t"] = np.dtype("<f4")
        f.create_dataset("x", data=np.ones(2, "<f4"), dtype=f["t"])
    doc = json.loads((local_root / "z.h5" / "t" / "zarr.json").read_text())
    assert doc["node_type"] == "group"
    assert isinstance(doc["attributes"]["_hdf5"]["committed_datatype"], str)
    x = json.loads((local_root / "z.h5" / "x" / "zarr.json").read_text())
    assert x["data_type"] == "float32"
    ref = x["attributes"]["_hdf5"]["committed_type"]
    assert ref == doc["attributes"]["_hdf5"]["id"] and len(ref) == 16
    import zarr

    root = zarr.open_group(str(local_root / "z.h5"), mode="r")
    assert isinstance(root["t"], zarr.Group) and len(list(root["t"].members())) == 0
    assert root["x"][...].tolist() == [1.0, 1.0]
