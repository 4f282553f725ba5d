"""maxshape (incl. unlimited) and resize: grow, shrink, and data gone after shrink-then-grow."""

import h5py
import numpy as np
import pytest


def test_unlimited_grow_and_append(backend):
    url = backend.url("grow.h5")
    with h5py.File(url, "w") as f:
        d = f.create_dataset("d", shape=(0, 3), maxshape=(None, 3), dtype="i4", chunks=(4, 3))
        assert d.maxshape == (None, 3)
        for i in range(5):
            d.resize(d.shape[0] + 2, axis=0)
            d[-2:] = i
    with h5py.File(url, "r") as f:
        d = f["d"]
        assert d.shape == (10, 3) and d.maxshape == (None, 3)
        np.testing.assert_array_equal(d[:, 0], np.repeat(np.arange(5), 2))


def test_resize_beyond_maxshape_fails(backend):
    with h5py.File(backend.url("limit.h5"), "w") as f:
        d = f.create_dataset("d", shape=(4,), maxshape=(6,), dtype="f4", chunks=(2,))
        d.resize((6,))
        with pytest.raises(Exception) as e:
            d.resize((7,))
        assert "maxshape" in str(e.value) or "max" in str(e.value).lower()
        assert d.shape == (6,)
        f.create_dataset("fixed", data=np.arange(3))
        with pytest.raises(TypeError):
            f["fixed"].resize((5,))  # not chunked: h5py refuses, as with native files


def test_shrink_then_grow_forgets_data(backend):
    url = backend.url("shrink.h5")
    with h5py.File(url, "w") as f:
        d = f.create_dataset("d", data=np.arange(1, 101, dtype="i8").reshape(10, 10), maxshape=(None, None),
                             chunks=(4, 4), fillvalue=-1)
        d.resize((5, 3))
        np.testing.assert_array_equal(d[...], np.arange(1, 101).reshape(10, 10)[:5, :3])
        d.resize((10, 10))
        got = d[...]
    expect = np.full((10, 10), -1, "i8")
    expect[:5, :3] = np.arange(1, 101).reshape(10, 10)[:5, :3]
    np.testing.assert_array_equal(got, expect)
    # chunks wholly outside the small shape were deleted from the store
    keys = backend.list_keys("shrink.h5/d/c/")
    assert "shrink.h5/d/c/2/2" not in keys and "shrink.h5/d/c/0/0" in keys
    with h5py.File(url, "r") as f:
        np.testing.assert_array_equal(f["d"][...], expect)
        assert f["d"].shape == (10, 10)


def test_second_handle_sees_resize(backend):
    """A handle opened before another handle's resize used to keep the old shape."""
    with h5py.File(backend.url("handles.h5"), "w") as f:
        f.create_dataset("d", shape=(4,), maxshape=(None,), dtype="i4", chunks=(2,))
        first, second = f["d"], f["d"]
        first.resize((10,))
        assert second.shape == (10,)
        second[6:10] = [6, 7, 8, 9]  # beyond the old shape
        np.testing.assert_array_equal(first[...], [0, 0, 0, 0, 0, 0, 6, 7, 8, 9])


def test_shrink_then_grow_variable_length_strings(backend):
    """Shrinking a string dataset whose last chunk straddles the new extent used to fail
    ("chunk has 28 bytes, expected 32": the numeric codec was applied to a vlen-utf8 chunk)."""
    url = backend.url("vlen_resize.h5")
    with h5py.File(url, "w") as f:
        d = f.create_dataset("s", shape=(10,), maxshape=(None,), chunks=(4,), dtype=h5py.string_dtype())
        d[...] = [f"value-{i}" for i in range(10)]
        d.resize((5,))  # chunk 1 (elements 4..7) straddles; chunk 2 is dropped
        assert list(d.asstr()[...]) == [f"value-{i}" for i in range(5)]
        d.resize((10,))
    with h5py.File(url, "r") as f:
        got = list(f["s"].asstr()[...])
    assert got == [f"value-{i}" for i in range(5)] + [""] * 5
