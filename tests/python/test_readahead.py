"""Read-ahead for sequential passes (src/io/readahead.hpp, fetched in the background by
src/io/prefetch.hpp), proven by request counts and the ``readahead`` counters of
arraymorph.stats(), never by timings; values always compared.

The array: 1024 x 64 float32 in 256 x 32 chunks (a 4 x 2 grid, 32 KiB chunks), read in batches
of 64 rows, the training-loop pattern ``for i in range(0, n, b): x = ds[i:i+b]``.
"""

import h5py
import numpy as np
import pytest

import arraymorph

N, M, CR, CC, B = 1024, 64, 256, 32, 64
DATA = np.arange(N * M, dtype="f4").reshape(N, M)
CHUNKS = (N // CR) * (M // CC)


def _write(url, **kw):
    with h5py.File(url, "w") as f:
        f.create_dataset("d", data=DATA, chunks=(CR, CC), **kw)


def _pass(url, starts, readahead_bytes=None):
    if readahead_bytes is not None:
        arraymorph.configure(readahead_bytes=readahead_bytes)
    out = np.zeros_like(DATA)
    with h5py.File(url, "r") as f:
        d = f["d"]
        arraymorph.reset_stats()
        for i in starts:
            out[i:i + B] = d[i:i + B]
        s = arraymorph.stats()
    return out, s


def test_sequential_batches_fetch_each_chunk_once(backend):
    url = backend.url("seq.h5")
    _write(url)
    out, s = _pass(url, range(0, N, B))
    np.testing.assert_array_equal(out, DATA)
    # The first batch alone (ranged GETs: 2), then every chunk once, whole.
    assert s["get"]["requests"] == 2 + CHUNKS, s
    ra = s["readahead"]
    assert ra["chunks"] == CHUNKS - 2 and ra["hits"] == CHUNKS - 2 and ra["unused"] == 0, s

    # Without read-ahead every batch pays its own round of ranged GETs.
    out, s = _pass(url, range(0, N, B), readahead_bytes=0)
    np.testing.assert_array_equal(out, DATA)
    assert s["get"]["requests"] == (N // B) * (M // CC), s
    assert s["readahead"]["chunks"] == 0, s


def test_backward_pass_reads_ahead_towards_the_start(backend):
    url = backend.url("back.h5")
    _write(url)
    out, s = _pass(url, range(N - B, -1, -B))
    np.testing.assert_array_equal(out, DATA)
    assert s["get"]["requests"] == 2 + CHUNKS, s
    assert s["readahead"]["hits"] == CHUNKS - 2, s


def test_compressed_pass(backend):
    url = backend.url("gz.h5")
    _write(url, compression="gzip")
    out, s = _pass(url, range(0, N, B))
    np.testing.assert_array_equal(out, DATA)
    # Compressed chunks are always fetched whole: each exactly once.
    assert s["get"]["requests"] == CHUNKS, s


def test_random_batches_never_read_ahead(backend):
    url = backend.url("rand.h5")
    _write(url)
    starts = list(np.random.default_rng(7).permutation(range(0, N, B)))
    out, s = _pass(url, starts)
    np.testing.assert_array_equal(out, DATA)
    assert s["readahead"]["chunks"] == 0, s


def test_misprediction_is_bounded_by_the_window(backend):
    url = backend.url("mis.h5")
    _write(url)
    budget_chunks = 4  # two chunk rows
    arraymorph.configure(readahead_bytes=budget_chunks * CR * CC * 4)
    with h5py.File(url, "r") as f:
        d = f["d"]
        arraymorph.reset_stats()
        np.testing.assert_array_equal(d[0:B], DATA[0:B])
        np.testing.assert_array_equal(d[B:2 * B], DATA[B:2 * B])  # a pass starts: look-ahead
        np.testing.assert_array_equal(d[900:910, 3:7], DATA[900:910, 3:7])  # ... and ends
    s = arraymorph.stats()  # after close: every step in flight has finished
    ra = s["readahead"]
    # Two chunk rows were requested ahead; the step either started (fetched, never read) or
    # was cancelled before it did (never requested).
    assert 0 <= ra["chunks"] <= budget_chunks, s
    assert ra["unused"] + ra["cancelled"] == budget_chunks and ra["hits"] == 0, s
    assert ra["chunks"] == ra["unused"], s


def test_random_access_after_a_sequential_run_stops_reading_ahead(backend):
    """The pass ends at the first read that breaks it: queued steps are cancelled, nothing more
    is fetched ahead however many random reads follow, and what was fetched ahead and never
    read stays within the budget."""
    n, cr, b = 4096, 64, 16
    data = np.arange(n * M, dtype="f4").reshape(n, M)
    url = backend.url("seqrand.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset("d", data=data, chunks=(cr, CC))
    budget_chunks = 32  # 16 chunk rows
    arraymorph.configure(readahead_bytes=budget_chunks * cr * CC * 4)
    rng = np.random.default_rng(3)
    with h5py.File(url, "r") as f:
        d = f["d"]
        arraymorph.reset_stats()
        for i in range(0, 8 * cr, b):  # 32 sequential batches
            np.testing.assert_array_equal(d[i:i + b], data[i:i + b])
        starts = [int(rng.integers(0, n - b))]
        while len(starts) < 40:  # random, but none continuing the one before (a two-read pass)
            i = int(rng.integers(0, n - b))
            if abs(i - starts[-1]) > b:
                starts.append(i)
        for i in starts:
            np.testing.assert_array_equal(d[i:i + b], data[i:i + b])
    s = arraymorph.stats()  # after close: every step in flight has finished
    ra = s["readahead"]
    # Every chunk fetched ahead was read by the pass or is counted unused (random reads count no
    # hits and request nothing), and what the break left behind is within the budget.
    assert ra["chunks"] == ra["hits"] + ra["unused"], s
    assert ra["unused"] + ra["cancelled"] <= budget_chunks, s
    # The pass covered chunk rows 0-7 (its first read's row fetched by the read itself): at most
    # the rest of them plus one budget was ever fetched ahead, however many random reads followed.
    assert 0 < ra["chunks"] <= 7 * (M // CC) + budget_chunks, s


def test_writes_between_batches_are_read_back_not_the_look_ahead(backend):
    url = backend.url("rw.h5")
    _write(url)
    with h5py.File(url, "r+") as f:
        d = f["d"]
        d[0:B]
        d[B:2 * B]  # look-ahead of the chunk rows below
        d[600:610] = -1.0  # overwrite rows that were fetched ahead
        expect = DATA.copy()
        expect[600:610] = -1.0
        out = np.concatenate([d[i:i + B] for i in range(2 * B, N, B)])
    np.testing.assert_array_equal(out, expect[2 * B:])


def test_a_corrupt_chunk_ahead_fails_only_the_read_that_needs_it(backend):
    url = backend.url("bad.h5")
    _write(url, compression="gzip")
    backend.write_key("bad.h5/d/c/3/1", b"not a gzip stream")
    with h5py.File(url, "r") as f:
        d = f["d"]
        for i in range(0, 3 * CR, B):  # reads chunk rows 0-2; looks ahead into row 3
            np.testing.assert_array_equal(d[i:i + B], DATA[i:i + B])
        with pytest.raises(Exception) as e:
            d[3 * CR:3 * CR + B]
        assert "c/3/1" in str(e.value)
