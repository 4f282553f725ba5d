"""Datasets through unchanged h5py: ranks, numeric dtypes, every selection kind, metadata truth,
fill values for never-written regions, and datasets created without chunks=."""

import json

import h5py
import numpy as np
import pytest

NUMERIC = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64"]


@pytest.mark.parametrize("dtype", NUMERIC)
def test_numeric_dtypes_round_trip(backend, dtype):
    info = np.iinfo(dtype) if dtype[0] in "iu" else np.finfo(dtype)
    data = np.linspace(info.min / 2, info.max / 2, 60).astype(dtype).reshape(6, 10)
    url = backend.url(f"{dtype}.h5")
    with h5py.File(url, "w") as f:
        d = f.create_dataset("d", data=data, chunks=(4, 3))
        assert d.dtype == np.dtype(dtype)
    with h5py.File(url, "r") as f:
        out = f["d"][...]
        assert out.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(out, data)


@pytest.mark.parametrize("shape,chunks", [((), None), ((17,), (5,)), ((6, 7), (4, 3)), ((5, 4, 6), (2, 3, 4)),
                                          ((3, 2, 4, 5), (2, 2, 3, 2))])
def test_ranks(backend, shape, chunks):
    data = np.arange(int(np.prod(shape)), dtype="f8").reshape(shape) * 1.5
    url = backend.url("rank.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset("d", data=data, chunks=chunks)
    with h5py.File(url, "r") as f:
        d = f["d"]
        assert d.shape == shape
        assert d.chunks == chunks
        np.testing.assert_array_equal(d[()], data)


def test_metadata_reports_truth(backend):
    url = backend.url("meta.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset("d", shape=(100, 30), dtype="i2", chunks=(10, 7), fillvalue=-9)
    with h5py.File(url, "r") as f:
        d = f["d"]
        assert d.shape == (100, 30) and len(d) == 100 and d.size == 3000
        assert d.dtype == np.dtype("i2")
        assert d.chunks == (10, 7)
        assert d.fillvalue == -9
        assert d.maxshape == (100, 30)
    meta = json.loads(backend.read_key("meta.h5/d/zarr.json"))  # the stored metadata itself
    assert meta["shape"] == [100, 30]
    assert meta["chunk_grid"]["configuration"]["chunk_shape"] == [10, 7]
    assert meta["data_type"] == "int16"
    assert meta["fill_value"] == -9


def test_never_written_regions_read_fill(backend):
    url = backend.url("fill.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset("default", shape=(20, 20), dtype="f4", chunks=(5, 5))
        d = f.create_dataset("user", shape=(20, 20), dtype="i4", chunks=(5, 5), fillvalue=42)
        d[0:5, 0:5] = 1  # one chunk written
    assert backend.list_keys("fill.h5/default/c/") == []
    assert backend.list_keys("fill.h5/user/c/") == ["fill.h5/user/c/0/0"]
    with h5py.File(url, "r") as f:
        np.testing.assert_array_equal(f["default"][...], np.zeros((20, 20), "f4"))
        expect = np.full((20, 20), 42, "i4")
        expect[0:5, 0:5] = 1
        np.testing.assert_array_equal(f["user"][...], expect)
        assert f["user"][19, 19] == 42


def test_partial_chunk_write_keeps_other_bytes(backend):
    url = backend.url("rmw.h5")
    base = np.arange(64, dtype="i8").reshape(8, 8)
    with h5py.File(url, "w") as f:
        f.create_dataset("d", data=base, chunks=(4, 4))
    with h5py.File(url, "r+") as f:
        f["d"][1:3, 2:7] = -1
        f["d"][7, 7] = 100
    base[1:3, 2:7] = -1
    base[7, 7] = 100
    with h5py.File(url, "r") as f:
        np.testing.assert_array_equal(f["d"][...], base)


SELECTIONS = [
    (slice(None),),
    (slice(3, 17), slice(2, 9)),
    (slice(1, None, 3), slice(None, None, 4)),
    (5,),
    (5, 7),
    (-1, slice(None)),
    (slice(None), 3),
    ([1, 4, 9, 15],),
    (slice(2, 12), [0, 5, 10]),
    (Ellipsis, slice(8, 11)),
]


@pytest.mark.parametrize("sel", SELECTIONS, ids=[str(s) for s in SELECTIONS])
def test_read_selections(backend, sel):
    data = np.arange(20 * 13, dtype="f8").reshape(20, 13)
    url = backend.url("sel.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset("d", data=data, chunks=(6, 5))
    with h5py.File(url, "r") as f:
        np.testing.assert_array_equal(f["d"][sel], data[sel])


@pytest.mark.parametrize("sel", SELECTIONS, ids=[str(s) for s in SELECTIONS])
def test_write_selections(backend, sel):
    data = np.arange(20 * 13, dtype="f8").reshape(20, 13)
    url = backend.url("wsel.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset("d", data=data, chunks=(6, 5))
    expect = data.copy()
    values = -np.arange(np.asarray(expect[sel]).size, dtype="f8").reshape(np.shape(expect[sel])) - 1
    expect[sel] = values
    with h5py.File(url, "r+") as f:
        f["d"][sel] = values
    with h5py.File(url, "r") as f:
        np.testing.assert_array_equal(f["d"][...], expect)


def test_point_selections_low_level(backend):
    data = np.arange(100, dtype="i4").reshape(10, 10)
    url = backend.url("points.h5")
    with h5py.File(url, "w") as f:
        d = f.create_dataset("d", data=data, chunks=(3, 3))
        pts = np.array([[9, 9], [0, 0], [4, 7], [9, 0]])
        from h5py._hl import selections

        sel = selections.PointSelection(d.shape, d.id.get_space(), pts)
        out = np.zeros(4, "i4")
        d.id.read(h5py.h5s.create_simple((4,)), sel.id, out)
        np.testing.assert_array_equal(out, [99, 0, 47, 90])
        d.id.write(h5py.h5s.create_simple((4,)), sel.id, np.array([-1, -2, -3, -4], "i4"))
    with h5py.File(url, "r") as f:
        got = f["d"][...]
        assert (got[9, 9], got[0, 0], got[4, 7], got[9, 0]) == (-1, -2, -3, -4)
        assert got[5, 5] == 55


def test_boolean_mask_and_scalar(backend):
    url = backend.url("mask.h5")
    data = np.arange(30, dtype="i2")
    with h5py.File(url, "w") as f:
        f.create_dataset("v", data=data, chunks=(7,))
        f.create_dataset("s", data=3.25)
    with h5py.File(url, "r") as f:
        np.testing.assert_array_equal(f["v"][data % 4 == 1], data[data % 4 == 1])
        assert f["s"][()] == 3.25 and f["s"].shape == () and f["s"].chunks is None


def test_dataset_without_chunks_is_split_and_reports_contiguous(backend):
    url = backend.url("contig.h5")
    big = np.arange(1200 * 1000, dtype="f8").reshape(1200, 1000)  # 9.6 MB -> several objects
    with h5py.File(url, "w") as f:
        d = f.create_dataset("big", data=big)
        assert d.chunks is None  # HDF5 contiguous layout, as requested
        f.create_dataset("small", data=np.arange(10))
    chunks = backend.list_keys("contig.h5/big/c/")
    assert len(chunks) > 1
    assert len(backend.list_keys("contig.h5/small/c/")) == 1
    with h5py.File(url, "r") as f:
        assert f["big"].chunks is None
        np.testing.assert_array_equal(f["big"][...], big)
        np.testing.assert_array_equal(f["big"][1100:, 990:], big[1100:, 990:])


def test_read_into_other_type(backend):
    url = backend.url("conv.h5")
    data = np.arange(40, dtype="i4").reshape(5, 8)
    with h5py.File(url, "w") as f:
        f.create_dataset("d", data=data, chunks=(2, 3))
        f.create_dataset("w", shape=(5, 8), dtype="i2", chunks=(2, 3))
        f["w"][...] = data.astype("f8") * 2  # float64 memory -> int16 file
    with h5py.File(url, "r") as f:
        out = f["d"].astype("f8")[1:4, 2:7]
        assert out.dtype == np.float64
        np.testing.assert_array_equal(out, data[1:4, 2:7].astype("f8"))
        buf = np.zeros((5, 8), "i8")
        f["d"].read_direct(buf)
        np.testing.assert_array_equal(buf, data)
        np.testing.assert_array_equal(f["w"][...], (data * 2).astype("i2"))


def test_chunk_objects_are_c_order_little_endian(backend):
    url = backend.url("layout.h5")
    data = np.arange(12, dtype="<u2").reshape(3, 4)
    with h5py.File(url, "w") as f:
        f.create_dataset("d", data=data, chunks=(2, 4))
    raw = backend.read_key("layout.h5/d/c/1/0")
    # The edge chunk is stored full-size: row 2, then one row of fill (zeros).
    assert np.frombuffer(raw, "<u2").tolist() == [8, 9, 10, 11, 0, 0, 0, 0]
