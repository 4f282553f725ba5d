"""H5Dread_multi / H5Dwrite_multi (HDF5 1.14): the chunks of every dataset of one call move
together. Observed at a real S3 server behind a latency proxy: with 200 ms added to every
request, one GET (PUT) per dataset is in flight at the same time only if the datasets' requests
were issued together (one after the other, at most one would be)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

import arraymorph
from hdf5_multi import hdf5_multi_functions as _hdf5
from hdf5_multi import multi_call as _multi

PROXY = Path(__file__).resolve().parents[2] / "benchmarks" / "proxy.py"
N = 4  # datasets, one chunk each


@pytest.fixture
def slow_s3(request, tmp_path, monkeypatch):
    """The S3 backend behind benchmarks/proxy.py adding 200 ms per request. The proxy runs in
    its own process: h5py holds the GIL during HDF5 calls, so an in-process proxy would stall."""
    from conftest import BACKENDS

    b = BACKENDS["s3"](request, tmp_path)
    proc = subprocess.Popen([sys.executable, str(PROXY), "--target", f"127.0.0.1:{b.server.port}",
                             "--latency-ms", "200"], stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()  # "proxy on http://127.0.0.1:PORT -> ..."
        assert first.startswith("proxy on http://"), first
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", first.split()[2])
        yield b
    finally:
        proc.kill()
        proc.wait()


def test_multi_dataset_reads_and_writes_are_issued_together(slow_s3):
    lib = _hdf5()
    url = slow_s3.url("multi.h5")
    data = [np.arange(64, dtype="f8") * (k + 1) for k in range(N)]
    with h5py.File(url, "w") as f:
        dsets = [f.create_dataset(f"d{k}", shape=(64,), dtype="f8", chunks=(64,)) for k in range(N)]
        arraymorph.reset_stats()
        assert _multi(lib.H5Dwrite_multi, dsets, data) >= 0
        s = arraymorph.stats()
    assert s["put"]["requests"] >= N
    assert s["max_inflight_seen"] >= N, s  # the N chunk PUTs were in flight together

    with h5py.File(url, "r") as f:
        dsets = [f[f"d{k}"] for k in range(N)]
        out = [np.zeros(64, dtype="f8") for _ in range(N)]
        arraymorph.reset_stats()
        assert _multi(lib.H5Dread_multi, dsets, out) >= 0
        s = arraymorph.stats()
    for k in range(N):
        np.testing.assert_array_equal(out[k], data[k])
    assert s["get"]["requests"] == N, s
    assert s["max_inflight_seen"] == N, s


def test_multi_write_to_one_dataset_twice_keeps_both_parts(backend):
    """Two selections of one chunk in one H5Dwrite_multi: their read-modify-writes must not race."""
    lib = _hdf5()
    with h5py.File(backend.url("twice.h5"), "w") as f:
        d = f.create_dataset("d", shape=(8,), dtype="i4", chunks=(8,), fillvalue=-1)
        lo, hi = d.id.get_space(), d.id.get_space()
        lo.select_hyperslab((0,), (4,))
        hi.select_hyperslab((4,), (4,))
        a, b = np.arange(4, dtype="i4"), np.arange(4, 8, dtype="i4")
        assert _multi(lib.H5Dwrite_multi, [d, d], [a, b], file_spaces=[lo, hi]) >= 0
        np.testing.assert_array_equal(d[...], np.arange(8))


def test_multi_read_error_names_the_dataset(backend):
    lib = _hdf5()
    url = backend.url("bad.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset("good", data=np.arange(10, dtype="i4"), chunks=(5,))
        f.create_dataset("bad", data=np.arange(10, dtype="i4"), chunks=(5,), compression="gzip")
    backend.write_key("bad.h5/bad/c/1", b"not gzip")
    with h5py.File(url, "r") as f:
        out = [np.zeros(10, dtype="i4"), np.zeros(10, dtype="i4")]
        assert _multi(lib.H5Dread_multi, [f["good"], f["bad"]], out) < 0
    # HDF5 printed its error stack to stderr; the read as a whole failed without a crash, and a
    # single-dataset read reports the same chunk.
    with h5py.File(url, "r") as f:
        with pytest.raises(OSError, match="c/1"):
            f["bad"][...]
