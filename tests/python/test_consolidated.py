"""Consolidated metadata: written at close, one GET opens the whole tree, fall-back when absent."""

import json

import h5py
import numpy as np

import arraymorph


def _make(url):
    with h5py.File(url, "w") as f:
        for i in range(20):
            f.create_dataset(f"g{i % 4}/d{i}", data=np.arange(i + 1), chunks=(min(5, i + 1),))
        f["g0"].attrs["note"] = "x"


def test_written_at_close_and_read_by_zarr(tmp_path):
    root = tmp_path / "store"
    root.mkdir()
    _make(f"file://{root}/cons.h5")
    doc = json.loads((root / "cons.h5/zarr.json").read_text())
    meta = doc["consolidated_metadata"]["metadata"]
    assert doc["consolidated_metadata"]["kind"] == "inline"
    assert "g0" in meta and "g0/d0" in meta and "g3/d19" in meta and len(meta) == 24
    assert meta["g1/d5"]["shape"] == [6]
    import zarr

    g = zarr.open_group(str(root / "cons.h5"), mode="r", use_consolidated=True)
    np.testing.assert_array_equal(g["g3/d19"][...], np.arange(20))


def test_open_and_walk_costs_one_get(backend):
    url = backend.url("walk.h5")
    _make(url)
    arraymorph.reset_stats()
    with h5py.File(url, "r") as f:
        names = []
        f.visit(names.append)
        shapes = {n: f[n].shape for n in names if isinstance(f[n], h5py.Dataset)}
    s = arraymorph.stats()
    assert len(names) == 24 and shapes["g2/d18"] == (19,)
    assert s["get"]["requests"] == 1, s  # the root zarr.json, with every node inside
    assert s["list"]["requests"] == 0, s


def test_fallback_without_consolidated_metadata(tmp_path):
    root = tmp_path / "store"
    root.mkdir()
    _make(f"file://{root}/plain.h5")
    doc = json.loads((root / "plain.h5/zarr.json").read_text())
    del doc["consolidated_metadata"]
    (root / "plain.h5/zarr.json").write_text(json.dumps(doc))
    arraymorph.reset_stats()
    with h5py.File(f"file://{root}/plain.h5", "r") as f:
        assert sorted(f) == ["g0", "g1", "g2", "g3"]
        np.testing.assert_array_equal(f["g2/d6"][...], np.arange(7))
        assert f["g0"].attrs["note"] == "x"
    assert arraymorph.stats()["list"]["requests"] >= 1  # per-node discovery


def test_fallback_when_consolidated_metadata_is_corrupt(tmp_path):
    root = tmp_path / "store"
    root.mkdir()
    _make(f"file://{root}/bad.h5")
    doc = json.loads((root / "bad.h5/zarr.json").read_text())
    doc["consolidated_metadata"]["metadata"]["g1/d1"] = {"zarr_format": 99}
    (root / "bad.h5/zarr.json").write_text(json.dumps(doc))
    with h5py.File(f"file://{root}/bad.h5", "r") as f:
        np.testing.assert_array_equal(f["g1/d1"][...], np.arange(2))
        assert len(f["g1"]) == 5


def test_stale_consolidated_metadata_still_finds_new_nodes(tmp_path):
    """Another writer (zarr-python) adds an array without updating the consolidated copy."""
    import zarr

    root = tmp_path / "store"
    root.mkdir()
    _make(f"file://{root}/stale.h5")
    g = zarr.open_group(str(root / "stale.h5"), mode="r+", use_consolidated=False)
    g.create_array("late", shape=(3,), dtype="i2", chunks=(3,))[...] = [7, 8, 9]
    with h5py.File(f"file://{root}/stale.h5", "r") as f:
        np.testing.assert_array_equal(f["late"][...], [7, 8, 9])
        assert "late" in f and "late" in list(f)
