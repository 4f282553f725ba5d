"""zstd and blosc requested the hdf5plugin way become real Zarr codecs, reported back to h5py."""

import h5py
import hdf5plugin
import numpy as np
import pytest
import zarr

DATA = np.tile(np.arange(500, dtype="i4"), 8)


@pytest.mark.parametrize("name,opts,codec", [
    ("zstd", hdf5plugin.Zstd(clevel=7), {"name": "zstd"}),
    ("blosc", hdf5plugin.Blosc(cname="lz4", clevel=5, shuffle=hdf5plugin.Blosc.SHUFFLE), {"name": "blosc"}),
    ("blosc_zstd", hdf5plugin.Blosc(cname="zstd", clevel=3, shuffle=hdf5plugin.Blosc.BITSHUFFLE), {"name": "blosc"}),
])
def test_plugin_filters(backend, name, opts, codec):
    url = backend.url("plug.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset(name, data=DATA, chunks=(1000,), **opts)
    with h5py.File(url, "r") as f:
        d = f[name]
        np.testing.assert_array_equal(d[...], DATA)
        assert set(d._filters) == {str(opts["compression"])}
        assert d.id.get_storage_size() < DATA.nbytes / 2


def test_zarr_reads_plugin_compressed(tmp_path):
    root = tmp_path / "store"
    root.mkdir()
    with h5py.File(f"file://{root}/p.h5", "w") as f:
        f.create_dataset("z", data=DATA, chunks=(1000,), **hdf5plugin.Zstd(clevel=3))
        f.create_dataset("b", data=DATA, chunks=(1000,), **hdf5plugin.Blosc(cname="lz4", clevel=5))
    g = zarr.open_group(str(root / "p.h5"), mode="r")
    np.testing.assert_array_equal(g["z"][...], DATA)
    np.testing.assert_array_equal(g["b"][...], DATA)
    assert [c.to_dict()["name"] for c in g["b"].metadata.codecs] == ["bytes", "blosc"]
