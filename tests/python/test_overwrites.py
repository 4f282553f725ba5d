"""Overwrites: r+ and a modes rewrite slices, partial chunks keep their other bytes, several
writes in one session, and a second process sees the result."""

import subprocess
import sys

import h5py
import numpy as np


def test_many_writes_in_one_session_and_modes(backend):
    url = backend.url("ow.h5")
    expect = np.zeros((30, 40), "f4")
    with h5py.File(url, "w") as f:
        d = f.create_dataset("d", shape=(30, 40), dtype="f4", chunks=(7, 9), fillvalue=0)
        for i in range(6):  # overlapping partial-chunk writes
            d[i * 4:i * 4 + 5, i * 5:i * 5 + 11] = i + 1
            expect[i * 4:i * 4 + 5, i * 5:i * 5 + 11] = i + 1
        np.testing.assert_array_equal(d[...], expect)
    with h5py.File(url, "r+") as f:
        f["d"][::3, ::4] = -1
        expect[::3, ::4] = -1
    with h5py.File(url, "a") as f:
        f["d"][29, :] = np.arange(40)
        expect[29, :] = np.arange(40)
        f["d"][[0, 5, 17], 3] = [9, 8, 7]
        expect[[0, 5, 17], 3] = [9, 8, 7]
    with h5py.File(url, "r") as f:
        np.testing.assert_array_equal(f["d"][...], expect)
    code = (
        "import arraymorph, h5py, numpy as np\n"
        f"f = h5py.File({url!r}, 'r')\n"
        "d = f['d'][...]\n"
        "print(float(d.sum()), d[29, 39], d[17, 3])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [repr(float(expect.sum())), "39.0", "7.0"]


def test_whole_dataset_overwrite_keeps_object_count(backend):
    url = backend.url("whole.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset("d", data=np.arange(100), chunks=(10,))
    before = backend.list_keys("whole.h5/d/c/")
    with h5py.File(url, "r+") as f:
        f["d"][...] = np.arange(100)[::-1]
    assert backend.list_keys("whole.h5/d/c/") == before and len(before) == 10
    with h5py.File(url, "r") as f:
        np.testing.assert_array_equal(f["d"][...], np.arange(100)[::-1])
