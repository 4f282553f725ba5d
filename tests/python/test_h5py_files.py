"""File modes through unchanged h5py, with HDF5's meaning (issue 3, item 5)."""

import subprocess
import sys

import h5py
import numpy as np
import pytest

from native_files import native_file


def test_w_creates_and_r_reads(backend):
    url = backend.url("modes.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset("x", data=np.arange(10), chunks=(4,))
        assert f.mode == "r+"
    with h5py.File(url, "r") as f:
        assert f.mode == "r"
        np.testing.assert_array_equal(f["x"][:], np.arange(10))
    assert "modes.h5/zarr.json" in backend.list_keys("modes.h5/")


def test_w_truncates_existing_objects(backend):
    url = backend.url("trunc.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset("old", data=np.arange(100), chunks=(10,))
        f.create_group("g/h")
    assert len(backend.list_keys("trunc.h5/old/c/")) == 10
    with h5py.File(url, "w") as f:
        f.create_dataset("new", data=[1, 2, 3])
    with h5py.File(url, "r") as f:
        assert len(f) == 1
        assert "new" in f and "old" not in f and "g" not in f
    assert backend.list_keys("trunc.h5/old/") == []
    assert backend.list_keys("trunc.h5/g/") == []


def test_r_on_missing_file_raises_file_not_found(backend):
    with pytest.raises(FileNotFoundError) as e:
        h5py.File(backend.url("missing.h5"), "r")
    assert "missing.h5" in str(e.value)


@pytest.mark.parametrize("mode", ["w-", "x"])
def test_exclusive_create(backend, mode):
    url = backend.url("excl.h5")
    with h5py.File(url, mode) as f:
        f["a"] = np.ones(3)
    with pytest.raises(FileExistsError) as e:
        h5py.File(url, mode)
    assert "excl.h5" in str(e.value)
    with h5py.File(url, "r") as f:  # the failed create did not touch the file
        np.testing.assert_array_equal(f["a"][:], np.ones(3))


def test_a_creates_then_appends(backend):
    url = backend.url("append.h5")
    with h5py.File(url, "a") as f:
        f["one"] = np.arange(3)
    with h5py.File(url, "a") as f:
        assert "one" in f
        f["two"] = np.arange(4)
    with h5py.File(url, "r") as f:
        assert sorted(f.keys()) == ["one", "two"]


def test_r_plus_modifies_and_requires_existing(backend):
    url = backend.url("rplus.h5")
    with pytest.raises(FileNotFoundError):
        h5py.File(url, "r+")
    with h5py.File(url, "w") as f:
        f.create_dataset("d", data=np.zeros((4, 4)), chunks=(2, 2))
    with h5py.File(url, "r+") as f:
        f["d"][1:3, 1:3] = 7
    with h5py.File(url, "r") as f:
        expect = np.zeros((4, 4))
        expect[1:3, 1:3] = 7
        np.testing.assert_array_equal(f["d"][:], expect)


def test_read_only_file_refuses_changes(backend):
    url = backend.url("ro.h5")
    with h5py.File(url, "w") as f:
        f["d"] = np.arange(5)
    with h5py.File(url, "r") as f:
        with pytest.raises(Exception) as e:
            f["d"][0] = 9
        assert "read-only" in str(e.value) or "write intent" in str(e.value)
        with pytest.raises(Exception):
            f.create_group("nope")
    with h5py.File(url, "r") as f:
        assert f["d"][0] == 0 and "nope" not in f


def test_second_process_sees_data(backend):
    url = backend.url("shared.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset("d", data=np.arange(12).reshape(3, 4), chunks=(2, 2))
    code = (
        "import arraymorph, h5py, sys\n"
        f"f = h5py.File({url!r}, 'r')\n"
        "print(f['d'][...].sum(), f['d'].chunks)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["66", "(2,", "2)"]


def test_filename_and_plain_names_in_local_root(local_root):
    with h5py.File("plain.h5", "w") as f:
        f["x"] = np.arange(3)
        assert f.filename == "plain.h5"
    assert (local_root / "plain.h5" / "zarr.json").is_file()
    assert (local_root / "plain.h5" / "x" / "zarr.json").is_file()


def test_is_hdf5_and_root_group_identity_match_native(backend, tmp_path):
    """h5py.is_hdf5 checks os.path.isfile first, never true for an arraymorph file (a key
    prefix); and a file equals its root group (HDF5 object identity, f[f.ref] == f)."""
    import h5py._hl.base

    native = str(tmp_path / "n.h5")
    with native_file(native, "w") as f:
        refs = f.create_dataset("refs", data=[f.ref], dtype=h5py.ref_dtype)
        expected = [f[refs[0]] == f, f["/"] == f, f[refs[0]] == f.create_group("g")]
    url = backend.url("i.h5")
    with h5py.File(url, "w") as f:
        refs = f.create_dataset("refs", data=[f.ref], dtype=h5py.ref_dtype)
        assert [f[refs[0]] == f, f["/"] == f, f[refs[0]] == f.create_group("g")] == expected == [True, True, False]
    for is_hdf5 in (h5py.is_hdf5, h5py._hl.base.is_hdf5):
        assert is_hdf5(url)
        assert not is_hdf5(backend.url("missing.h5")) and not is_hdf5(str(tmp_path / "missing.h5"))
