"""Filters are real (objects shrink, h5py reports them) and fill values cost no data transfer."""

import h5py
import numpy as np
import pytest

import arraymorph


@pytest.mark.parametrize("level", [1, 9])
def test_gzip_shuffle_shrink_and_report(backend, level):
    url = backend.url("gz.h5")
    data = np.tile(np.arange(256, dtype="i4"), 64).reshape(128, 128)
    arraymorph.reset_stats()
    with h5py.File(url, "w") as f:
        d = f.create_dataset("d", data=data, chunks=(64, 64), compression="gzip", compression_opts=level, shuffle=True)
        raw = f.create_dataset("raw", data=data, chunks=(64, 64))
        assert d.compression == "gzip" and d.compression_opts == level and d.shuffle
        assert raw.compression is None and not raw.shuffle
    with h5py.File(url, "r") as f:
        np.testing.assert_array_equal(f["d"][...], data)
        assert f["d"].compression == "gzip" and f["d"].compression_opts == level and f["d"].shuffle
        stored = f["d"].id.get_storage_size()
        assert stored < data.nbytes / 10, stored
        assert f["raw"].id.get_storage_size() == data.nbytes


def test_never_written_chunks_transfer_no_data(backend):
    url = backend.url("sparse.h5")
    with h5py.File(url, "w") as f:
        d = f.create_dataset("d", shape=(400, 400), dtype="f8", chunks=(100, 100), fillvalue=2.5)
        d[0:100, 0:100] = 1.0  # 1 of 16 chunks
    with h5py.File(url, "r") as f:
        arraymorph.reset_stats()
        out = f["d"][...]
        s = arraymorph.stats()
    assert out[0, 0] == 1.0 and out[399, 399] == 2.5 and (out == 2.5).sum() == 400 * 400 - 100 * 100
    assert s["get"]["requests"] == 16, s
    assert s["get"]["not_found"] == 15, s
    assert s["get"]["bytes"] == 100 * 100 * 8, s  # only the one stored chunk
