"""File-like objects and file drivers are never intercepted: they go to the native connector
(after ``import arraymorph``), or the plugin refuses them with an error naming the driver; a
dataset's space status and storage size tell the truth. Each case failed before the fix: the
BytesIO stayed empty (its data went to an object named after the BytesIO's repr), an in-memory
core file replaced a stored file of the same name, and every dataset said ALLOCATED."""

import io

import h5py
import numpy as np
import pytest

import arraymorph
from native_files import native_file


def test_bytesio_holds_the_file(backend, monkeypatch):
    if backend.name == "local":  # plain names (a BytesIO's repr) would land here
        monkeypatch.setenv("ARRAYMORPH_LOCAL_ROOT", str(backend.root))
    bio = io.BytesIO()
    with h5py.File(bio, "w") as f:
        f["x"] = np.arange(10)
        f.attrs["a"] = 3
    raw = bio.getvalue()
    assert raw.startswith(b"\x89HDF\r\n\x1a\n"), raw[:16]
    with h5py.File(io.BytesIO(raw), "r") as f:
        np.testing.assert_array_equal(f["x"][()], np.arange(10))
        assert f.attrs["a"] == 3
    assert backend.list_keys() == []


def test_in_memory_core_file_touches_no_store(backend):
    url = backend.url("same.h5")
    with h5py.File(url, "w") as f:
        f["kept"] = np.arange(4)
    before = backend.list_keys()
    with h5py.File(url, "w", driver="core", backing_store=False) as f:
        f["x"] = np.ones(3)
        np.testing.assert_array_equal(f["x"][()], np.ones(3))
        assert not arraymorph._core.is_arraymorph_object(f.id.id)
    assert backend.list_keys() == before
    with h5py.File(url, "r") as f:
        np.testing.assert_array_equal(f["kept"][()], np.arange(4))


@pytest.mark.parametrize("driver", ["core", "stdio"])
def test_plugin_refuses_other_drivers(backend, driver):
    """Below h5py's File (as a C program, or h5py without `import arraymorph`, would call it)."""
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)  # arraymorph, from HDF5_VOL_CONNECTOR
    if driver == "core":
        fapl.set_fapl_core(backing_store=False)
    else:
        fapl.set_fapl_stdio()
    url = backend.url("d.h5")
    with pytest.raises(Exception, match=f"not supported by arraymorph: the HDF5 file driver '{driver}"):
        h5py.h5f.create(url.encode(), h5py.h5f.ACC_TRUNC, fapl=fapl)
    assert backend.list_keys() == []


def _status_and_sizes(f):
    d = f.create_dataset("d", shape=(40, 40), dtype="i4", chunks=(10, 10))
    out = [(d.id.get_space_status(), d.id.get_storage_size())]
    d[0:10, 0:20] = 1
    out.append((d.id.get_space_status(), d.id.get_storage_size()))
    d[...] = 2
    out.append((d.id.get_space_status(), d.id.get_storage_size()))
    e = f.create_dataset("empty", shape=(5,), dtype="f8")
    out.append((e.id.get_space_status(), e.id.get_storage_size()))
    return out


def test_space_status_and_storage_size_like_native(backend, tmp_path):
    with native_file(tmp_path / "n.h5", "w") as f:
        expected = _status_and_sizes(f)
    with h5py.File(backend.url("s.h5"), "w") as f:
        got = _status_and_sizes(f)
    assert expected[0][0] == h5py.h5d.SPACE_STATUS_NOT_ALLOCATED
    assert got == expected
