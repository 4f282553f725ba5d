"""arraymorph opens Zarr v3 hierarchies written by zarr-python 3 and reads identical values."""

import h5py
import numpy as np
import pytest
import zarr
from zarr.codecs import BloscCodec, BytesCodec, GzipCodec, ZstdCodec


@pytest.fixture
def zarr_tree(tmp_path):
    root = tmp_path / "store"
    g = zarr.open_group(str(root / "fromzarr.h5"), mode="w")
    g.attrs["title"] = "written by zarr-python"
    sub = g.create_group("sub")
    data = {
        "plain": np.arange(60, dtype="i2").reshape(6, 10),
        "gzip": np.linspace(0, 1, 200, dtype="f8"),
        "zstd": np.arange(1000, dtype="u4"),
        "blosc": np.arange(500, dtype="f4").reshape(20, 25),
    }
    arrays = {
        "plain": g.create_array("plain", shape=(6, 10), chunks=(4, 4), dtype="i2", compressors=None),
        "gzip": sub.create_array("gzip", shape=(200,), chunks=(64,), dtype="f8", compressors=GzipCodec(level=4)),
        "zstd": g.create_array("zstd", shape=(1000,), chunks=(300,), dtype="u4", compressors=ZstdCodec(level=2)),
        "blosc": g.create_array("blosc", shape=(20, 25), chunks=(8, 8), dtype="f4",
                                compressors=BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")),
    }
    for k, a in arrays.items():
        a[...] = data[k]
    filled = g.create_array("filled", shape=(10,), chunks=(5,), dtype="i8", fill_value=-7)
    filled[0:5] = 1
    arrays["gzip"].attrs["units"] = "m"
    return root, data


def test_arraymorph_reads_zarr_python_hierarchy(zarr_tree):
    root, data = zarr_tree
    with h5py.File(f"file://{root}/fromzarr.h5", "r") as f:
        assert sorted(f.keys()) == ["blosc", "filled", "plain", "sub", "zstd"]
        assert isinstance(f["sub"], h5py.Group)
        np.testing.assert_array_equal(f["plain"][...], data["plain"])
        np.testing.assert_array_equal(f["sub/gzip"][...], data["gzip"])
        np.testing.assert_array_equal(f["zstd"][100:700:3], data["zstd"][100:700:3])
        np.testing.assert_array_equal(f["blosc"][...], data["blosc"])
        assert f["plain"].chunks == (4, 4)
        assert f["filled"].fillvalue == -7
        np.testing.assert_array_equal(f["filled"][...], [1] * 5 + [-7] * 5)
        assert f.attrs["title"] == "written by zarr-python"
        assert f["sub/gzip"].attrs["units"] == "m"
        assert f["sub/gzip"].compression == "gzip"


def test_arraymorph_updates_zarr_python_array(zarr_tree):
    root, data = zarr_tree
    with h5py.File(f"file://{root}/fromzarr.h5", "r+") as f:
        f["blosc"][0:3, 0:3] = -1
        f["sub/gzip"][10:20] = 5.0
    g = zarr.open_group(str(root / "fromzarr.h5"), mode="r")
    expect = data["blosc"].copy()
    expect[0:3, 0:3] = -1
    np.testing.assert_array_equal(g["blosc"][...], expect)
    gz = data["gzip"].copy()
    gz[10:20] = 5.0
    np.testing.assert_array_equal(g["sub/gzip"][...], gz)
