"""Native file-format features that code written for HDF5 files uses (issue 15, h5py's own suite):
SWMR, file space strategy, page buffering, metadata cache calls, file locking of a second open.
Each is compared with the same operations on a native HDF5 file, on every store. What arraymorph
does with them (docs/compatibility.md, "Native file-format features"; src/vol/file_properties.hpp):
SWMR readers re-read a dataset's zarr.json on refresh(), the file space settings are recorded and
read back, the page buffer and metadata cache settings are checked and reported as HDF5 does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

import arraymorph


def _fapl(native: bool, libver_latest: bool = False, **page):
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    if native:
        arraymorph._core.set_native_vol(fapl.id)
    if libver_latest:
        fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)
    if page:
        fapl.set_page_buffer_size(page["size"], page.get("min_meta", 0), page.get("min_raw", 0))
    return fapl


def _create(name: str, native: bool, fcpl=None, **kw) -> h5py.File:
    return h5py.File(h5py.h5f.create(name.encode(), h5py.h5f.ACC_TRUNC, fapl=_fapl(native, **kw), fcpl=fcpl))


def _open(name: str, native: bool, flags=h5py.h5f.ACC_RDONLY, **kw) -> h5py.File:
    return h5py.File(h5py.h5f.open(name.encode(), flags, fapl=_fapl(native, **kw)))


READER = """
import json, sys
import h5py, numpy as np
import arraymorph
native, name = sys.argv[1] == "1", sys.argv[2]
fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
if native:
    arraymorph._core.set_native_vol(fapl.id)
f = h5py.File(h5py.h5f.open(name.encode(), h5py.h5f.ACC_RDONLY | h5py.h5f.ACC_SWMR_READ, fapl=fapl))
d = f["x"]
out = [f.swmr_mode, f.mode, d.shape, d[()].tolist()]
print("ready", flush=True)
sys.stdin.readline()             # the writer appended and flushed
out.append(d.shape)              # before refresh(): the extent read at open, as natively
d.refresh()
out += [d.shape, d[()].tolist()]
print(json.dumps(out), flush=True)
"""


def _swmr_session(name: str, native: bool):
    """A SWMR writer here, a SWMR reader in another process; what each one sees."""
    f = _create(name, native, libver_latest=True)
    d = f.create_dataset("x", shape=(0,), maxshape=(None,), chunks=(4,), dtype="i4")
    seen = [f.swmr_mode]
    f.swmr_mode = True
    seen += [f.swmr_mode, f.mode, f.id.get_intent() & h5py.h5f.ACC_SWMR_WRITE != 0]
    with pytest.raises(ValueError):
        f.swmr_mode = False
    d.resize((4,))
    d[:] = np.arange(4)
    d.flush()
    reader = subprocess.Popen([sys.executable, "-c", READER, "1" if native else "0", name], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert reader.stdout.readline().strip() == "ready", reader.stderr.read()
        d.resize((10,))
        d[4:] = np.arange(4, 10)
        d.flush()
        out, err = reader.communicate("go\n", timeout=120)
    finally:
        if reader.poll() is None:
            reader.kill()
    assert reader.returncode == 0, err
    f.close()
    return seen, json.loads(out.strip().splitlines()[-1])


def test_swmr_reader_sees_appends_after_refresh(backend, tmp_path):
    expected = _swmr_session(str(tmp_path / "n.h5"), native=True)
    got = _swmr_session(backend.url("s.h5"), native=False)
    assert expected[1][-1] == list(range(10))
    assert got == expected


def test_swmr_write_needs_a_writable_file(backend, tmp_path):
    for name, native in ((str(tmp_path / "n.h5"), True), (backend.url("r.h5"), False)):
        _create(name, native).close()
        with _open(name, native, h5py.h5f.ACC_RDONLY | h5py.h5f.ACC_SWMR_READ) as f:
            assert f.swmr_mode
            with pytest.raises(Exception):
                f.swmr_mode = True
            assert f.swmr_mode


def _file_space_session(name: str, native: bool):
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_file_space_strategy(h5py.h5f.FSPACE_STRATEGY_PAGE, True, 100)
    fcpl.set_file_space_page_size(16384)
    out = []
    with _create(name, native, fcpl=fcpl, size=16384, min_meta=19, min_raw=67) as f:
        out.append(f.id.get_access_plist().get_page_buffer_size())
        f["d"] = np.arange(5)
    for size in (16384 - 100, 2 * 16384 - 1, 3 * 16384):
        with _open(name, native, size=size) as f:
            out.append(f.id.get_access_plist().get_page_buffer_size())
            out.append(f.id.get_create_plist().get_file_space_strategy())
            out.append(f.id.get_create_plist().get_file_space_page_size())
            out.append(f["d"][()].tolist())
    # A page buffer without the page strategy: refused at creation, switched off at open.
    with pytest.raises(OSError):
        _create(name + "x", native, size=16384)
    _create(name + "y", native).close()
    with _open(name + "y", native, size=16384) as f:
        out.append(f.id.get_access_plist().get_page_buffer_size())
        out.append(f.id.get_create_plist().get_file_space_strategy())
    return out


def test_file_space_strategy_and_page_buffer_read_back(backend, tmp_path):
    expected = _file_space_session(str(tmp_path / "n.h5"), native=True)
    got = _file_space_session(backend.url("p.h5"), native=False)
    assert expected[0] == (16384, 19, 67) and expected[1][0] == 16384
    assert got == expected
    root = json.loads(backend.read_key("p.h5/zarr.json"))
    assert root["attributes"]["_hdf5"]["file_space"] == {"strategy": 1, "persist": True, "threshold": 100,
                                                         "page_size": 16384}


def _mdc_session(name: str, native: bool):
    with _create(name, native) as f:
        conf = f.id.get_mdc_config()
        conf.max_size = conf.max_size * 2
        conf.set_initial_size = True
        conf.initial_size = conf.max_size
        f.id.set_mdc_config(conf)
        back = f.id.get_mdc_config()
        f.id.reset_mdc_hit_rate_stats()
        return [back.max_size, back.initial_size, f.id.get_mdc_hit_rate(), len(f.id.get_mdc_size())]


def test_metadata_cache_calls_answer_like_native(local_root, tmp_path):
    assert _mdc_session(str(tmp_path / "n.h5"), True) == _mdc_session("m.h5", False)


def _locking_session(name: str, native: bool):
    out = []
    with h5py.File(h5py.h5f.create(name.encode(), h5py.h5f.ACC_TRUNC, fapl=_locking_fapl(native, True, False))):
        for use, ignore in ((False, False), (True, False), (True, True)):
            try:
                h5py.File(h5py.h5f.open(name.encode(), h5py.h5f.ACC_RDONLY, fapl=_locking_fapl(native, use, ignore))).close()
                out.append("opened")
            except OSError:
                out.append("refused")
    return out


def _locking_fapl(native: bool, use: bool, ignore: bool):
    fapl = _fapl(native)
    fapl.set_file_locking(use, ignore)
    return fapl


@pytest.mark.skipif("HDF5_USE_FILE_LOCKING" in os.environ, reason="the variable overrides H5Pset_file_locking")
def test_second_open_needs_the_same_file_locking(backend, tmp_path):
    expected = _locking_session(str(tmp_path / "n.h5"), True)
    assert expected == ["refused", "opened", "refused"]
    assert _locking_session(backend.url("l.h5"), False) == expected


def test_user_block_is_refused_clearly(backend, tmp_path):
    """A user block is bytes at the start of a native file that programs write themselves; the
    size used to be reported back although no such bytes exist. Native HDF5 keeps it."""
    with _native_ub(tmp_path) as f:
        assert f.userblock_size == 512
    with pytest.raises(Exception, match="not supported by arraymorph: a user block of 512 bytes"):
        h5py.File(backend.url("u.h5"), "w", userblock_size=512)
    assert not backend.list_keys("u.h5")


def _native_ub(tmp_path):
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_userblock(512)
    return h5py.File(h5py.h5f.create(str(tmp_path / "n.h5").encode(), h5py.h5f.ACC_TRUNC, fapl=_fapl(True), fcpl=fcpl))
