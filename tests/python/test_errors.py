"""Bad input gives a Python exception whose message names the problem: no crash, no hang."""

import subprocess
import sys

import h5py
import numpy as np
import pytest

import arraymorph


def _run(code, env):
    """Runs code in a fresh interpreter (HDF5 reads the environment at file open)."""
    import os

    full = dict(os.environ)
    full.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=full)


def test_unknown_storage_platform(local_root, monkeypatch):
    monkeypatch.setenv("STORAGE_PLATFORM", "Floppy")
    with pytest.raises(OSError) as e:
        h5py.File("x.h5", "w")
    msg = str(e.value)
    assert "STORAGE_PLATFORM" in msg and "Floppy" in msg


def test_missing_local_root(tmp_path, monkeypatch):
    missing = tmp_path / "does-not-exist"
    monkeypatch.setenv("STORAGE_PLATFORM", "Local")
    monkeypatch.setenv("ARRAYMORPH_LOCAL_ROOT", str(missing))
    with pytest.raises(OSError) as e:
        h5py.File("x.h5", "w")
    assert str(missing) in str(e.value)


def test_s3_without_bucket_names_the_variable(local_root, monkeypatch):
    monkeypatch.setenv("STORAGE_PLATFORM", "S3")
    monkeypatch.delenv("BUCKET_NAME", raising=False)
    with pytest.raises(OSError) as e:
        h5py.File("x.h5", "w")
    assert "BUCKET_NAME" in str(e.value)


def test_missing_file_and_dataset(backend):
    with pytest.raises(FileNotFoundError) as e:
        h5py.File(backend.url("nothing.h5"), "r")
    assert "nothing.h5" in str(e.value)
    with h5py.File(backend.url("some.h5"), "w") as f:
        f["d"] = np.arange(4)
        with pytest.raises(KeyError) as e:
            f["missing"]
        assert "missing" in str(e.value)
        with pytest.raises(KeyError):
            f["d/below"]


def test_bad_selections(backend):
    with h5py.File(backend.url("sel.h5"), "w") as f:
        d = f.create_dataset("d", data=np.arange(20).reshape(4, 5), chunks=(2, 2))
        with pytest.raises(IndexError):
            d[4, 0]
        with pytest.raises((ValueError, TypeError)):
            d[1, 2, 3]
        with pytest.raises((ValueError, TypeError)):
            d["field"]  # field names only exist for compound types
        with pytest.raises((ValueError, TypeError)):
            d[0:2, 0:2] = np.ones((3, 3))
        # Low level: a file selection outside the extent reaches the connector.
        space = h5py.h5s.create_simple((10, 10))
        space.select_hyperslab((8, 8), (2, 2))
        with pytest.raises(Exception) as e:
            d.id.read(h5py.h5s.create_simple((2, 2)), space, np.zeros((2, 2), "i8"))
        assert "rank" in str(e.value) or "extent" in str(e.value) or "selection" in str(e.value).lower()
        np.testing.assert_array_equal(d[...], np.arange(20).reshape(4, 5))  # nothing changed


def test_corrupt_metadata_names_the_key(backend):
    url = backend.url("corrupt.h5")
    with h5py.File(url, "w") as f:
        f["d"] = np.arange(3)
    backend.write_key("corrupt.h5/zarr.json", b"{oops")
    with pytest.raises(OSError) as e:
        h5py.File(url, "r")
    assert "corrupt.h5/zarr.json" in str(e.value)


def test_unsupported_operations_are_clear(backend, tmp_path):
    with h5py.File(backend.url("unsup.h5"), "w") as f:
        f["d"] = np.arange(3)
        # External raw-data files: refused, never silently stored in the store instead.
        with pytest.raises(Exception, match=r"not supported by arraymorph: external raw-data files \(H5Pset_external"):
            f.create_dataset("e", (10,), "i4", external=[(str(tmp_path / "raw.bin"), 0, h5py.h5f.UNLIMITED)])
        assert "e" not in f and not (tmp_path / "raw.bin").exists()


def test_null_read_buffer_is_an_error_not_a_crash(backend):
    """H5Dread with no buffer (found by HDF5's API test suite: it used to crash)."""
    import ctypes

    with h5py.File(backend.url("nullbuf.h5"), "w") as f:
        d = f.create_dataset("d", data=np.arange(10, dtype="i4"), chunks=(5,))
        libhdf5 = arraymorph._loaded_libhdf5()[0]  # h5py's (also a wheel's libhdf5-<hash>.so)
        lib = ctypes.CDLL(libhdf5)  # the copy h5py already loaded
        h5dread = lib.H5Dread
        h5dread.argtypes = [ctypes.c_int64] * 5 + [ctypes.c_void_p]
        h5dread.restype = ctypes.c_int
        native_int = h5py.h5t.NATIVE_INT32.id
        assert h5dread(d.id.id, native_int, 0, 0, 0, None) < 0  # H5S_ALL = 0, H5P_DEFAULT = 0
        np.testing.assert_array_equal(d[...], np.arange(10))


def test_failed_close_keeps_the_file_open_instead_of_crashing(tmp_path):
    """A close whose metadata flush fails leaves the file open (as native H5Fclose does); the
    object used to be freed anyway, and HDF5's second close then crashed (SIGSEGV)."""
    code = f"""
import gc, os, shutil
import arraymorph
f = arraymorph.open("file://{tmp_path}/c.h5", "w")
f.attrs["a"] = 1
meta = os.path.join("{tmp_path}", "c.h5", "zarr.json")
os.remove(meta)
os.makedirs(os.path.join(meta, "block"))  # the root metadata can no longer be written
try:
    f.close()
    print("close: no error")
except Exception as e:
    print("close raised:", e)
shutil.rmtree(meta)
f.close()  # the store works again: the file was still open, its attribute is written now
del f
gc.collect()
print("done")
"""
    r = _run(code, {})
    assert r.returncode == 0, r.stderr[-2000:]
    assert "close raised:" in r.stdout and "Is a directory" in r.stdout, r.stdout
    assert r.stdout.rstrip().endswith("done")
    import arraymorph

    with arraymorph.open(f"file://{tmp_path}/c.h5", "r") as f:
        assert f.attrs["a"] == 1
