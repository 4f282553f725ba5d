"""zarr-python 3 reads what arraymorph writes to the local store (identical values)."""

import h5py
import numpy as np
import zarr


def test_zarr_reads_arraymorph_hierarchy(backend):
    a = np.arange(35 * 12, dtype="f4").reshape(35, 12)
    b = np.arange(50, dtype=">i8")
    with h5py.File(backend.url("interop.h5"), "w") as f:
        f.create_dataset("grp/a", data=a, chunks=(10, 5))
        f.create_dataset("b", data=b, chunks=(16,))
        f.create_dataset("gz", data=np.tile(np.arange(10, dtype="u2"), 100), chunks=(250,), compression="gzip",
                         shuffle=True)
        f.create_dataset("fill", shape=(10,), dtype="i4", chunks=(5,), fillvalue=7)
        f["fill"][0:5] = np.arange(5)
        f.create_dataset("scalar", data=2.5)

    g = zarr.open_group(backend.zarr_store("interop.h5", read_only=True), mode="r")
    assert sorted(g.keys()) == ["b", "fill", "grp", "gz", "scalar"]
    za = g["grp/a"]
    assert za.shape == (35, 12) and za.chunks == (10, 5) and za.dtype == np.dtype("f4")
    np.testing.assert_array_equal(za[...], a)
    np.testing.assert_array_equal(g["b"][...], b)  # stored big-endian (bytes codec), same values
    assert g["b"].metadata.codecs[0].to_dict()["configuration"]["endian"] == "big"
    np.testing.assert_array_equal(g["gz"][...], np.tile(np.arange(10, dtype="u2"), 100))
    np.testing.assert_array_equal(g["fill"][...], [0, 1, 2, 3, 4, 7, 7, 7, 7, 7])
    assert g["fill"].fill_value == 7
    assert g["scalar"][()] == 2.5
