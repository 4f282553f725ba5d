"""MPI collective chunk I/O with arraymorph.collective(comm) (issue 8, docs/design.md §6): run with
``mpiexec -n 2|4 python -m pytest --with-mpi tests/mpi`` (scripts/test_mpi.sh).

The S3 server comes from conftest.py. Request counts are summed over the ranks with an
allreduce and asserted exactly.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

MPI = pytest.importorskip("mpi4py.MPI")

import arraymorph  # noqa: E402
from mpi_helpers import COMM, RANK, SIZE, make_dataset, requests, total  # noqa: E402

pytestmark = pytest.mark.mpi(min_size=2)


def windows(shape0: int):
    """Overlapping row windows: rank r gets [r*step, r*step + 3*step)."""
    step = shape0 // (SIZE + 2)
    return [(r * step, r * step + 3 * step) for r in range(SIZE)]


def chunk_rows(lo: int, hi: int, c: int):
    return set(range(lo // c, (hi - 1) // c + 1))


# ---------------------------------------------------------------------------------- reads
def test_overlapping_reads_fetch_each_chunk_once(s3):
    url = f"{s3}/reads.h5"
    data = np.arange(96 * 40, dtype="f8").reshape(96, 40)
    make_dataset(url, data, chunks=(8, 20), compression="gzip")
    lo, hi = windows(96)[RANK]
    per_rank = len(chunk_rows(lo, hi, 8)) * 2
    union = set()
    for a, b in windows(96):
        union |= chunk_rows(a, b, 8)
    distinct = len(union) * 2

    # Independent: every rank fetches every chunk of its window.
    with arraymorph.open(url, "r") as f:
        ds = f["x"]
        arraymorph.reset_stats()
        got = ds[lo:hi]
        indep = total(requests("get"))
    np.testing.assert_array_equal(got, data[lo:hi])
    assert indep == total(per_rank)

    # Collective: each distinct chunk once across the communicator.
    with arraymorph.collective(COMM) as coll:
        f = coll.open(url, "r")
        ds = f["x"]
        arraymorph.reset_stats()
        got = ds[lo:hi]
        coll_gets = total(requests("get"))
        # A second read of the same windows is served from the owners' chunk caches.
        again = ds[lo:hi]
        coll_gets_2 = total(requests("get"))
        f.close()
    np.testing.assert_array_equal(got, data[lo:hi])
    np.testing.assert_array_equal(again, data[lo:hi])
    assert coll_gets == distinct
    assert coll_gets_2 == distinct
    assert indep > coll_gets


def test_collective_reads_of_arbitrary_selections(s3):
    url = f"{s3}/sel.h5"
    data = (np.arange(50 * 33 * 3, dtype="i4").reshape(50, 33, 3) * 7) % 1000
    make_dataset(url, data, chunks=(7, 8, 2))  # uncompressed: ranged GETs allowed
    rng = np.random.default_rng(RANK)
    with arraymorph.collective(COMM) as coll:
        with coll.open(url, "r") as f:
            ds = f["x"]
            # strided hyperslab, different per rank
            a = ds[RANK::SIZE, 3:30:2, :]
            # a whole-dataset read on every rank (all chunks shared)
            b = ds[...]
            # point-like fancy selection
            idx = np.sort(rng.choice(50, size=5, replace=False))
            c = ds[idx, 5, :]
            # reading into a preallocated buffer with a memory selection
            out = np.zeros((10, 10), dtype="i4")
            ds.read_direct(out, np.s_[RANK:RANK + 4, 0:10, 1], np.s_[2:6, :])
    np.testing.assert_array_equal(a, data[RANK::SIZE, 3:30:2, :])
    np.testing.assert_array_equal(b, data)
    np.testing.assert_array_equal(c, data[idx, 5, :])
    expect = np.zeros((10, 10), dtype="i4")
    expect[2:6] = data[RANK:RANK + 4, 0:10, 1]
    np.testing.assert_array_equal(out, expect)


def test_missing_chunks_read_fill_value(s3):
    url = f"{s3}/fill.h5"
    if RANK == 0:
        with arraymorph.open(url, "w") as f:
            ds = f.create_dataset("x", shape=(40,), dtype="i2", chunks=(8,), fillvalue=-3)
            ds[8:16] = 5
    COMM.Barrier()
    with arraymorph.collective(COMM) as coll, coll.open(url, "r") as f:
        got = f["x"][RANK:RANK + 30]
    expect = np.full(40, -3, dtype="i2")
    expect[8:16] = 5
    np.testing.assert_array_equal(got, expect[RANK:RANK + 30])


# --------------------------------------------------------------------------------- writes
def test_interleaved_writes_to_shared_chunks(s3):
    url = f"{s3}/writes.h5"
    shape, chunks = (48, 30), (8, 16)
    expect = np.zeros(shape, dtype="i8")
    for r in range(SIZE):
        expect[r::SIZE, :] = (r + 1) * 1000 + np.arange(shape[1])
    nchunks = 6 * 2
    with arraymorph.collective(COMM) as coll:
        f = coll.open(url, "w")
        ds = coll.create_dataset(f, "x", shape=shape, dtype="i8", chunks=chunks)
        arraymorph.reset_stats()
        ds[RANK::SIZE, :] = expect[RANK::SIZE, :]
        puts, gets = total(requests("put")), total(requests("get"))
        f.close()
    # The union of the ranks' rows covers every chunk: no read-modify-write, one PUT per chunk.
    assert puts == nchunks
    assert gets == 0
    COMM.Barrier()
    with arraymorph.open(url, "r") as f:
        np.testing.assert_array_equal(f["x"][...], expect)


def test_collective_writes_into_one_shard_lose_nothing(s3):
    """Ranks writing different inner chunks of one shard: the shard has one owner, which
    rewrites it once with every rank's chunks (per-chunk owners would each rewrite the shard and
    the last PUT would drop the others' chunks)."""
    url = f"{s3}/shard.h5"
    shape, chunks = (8 * SIZE + 8, 32), (8, 8)  # 4 x 4 chunks per shard: one shard row per 32 rows
    expect = np.full(shape, -1, dtype="f4")
    for r in range(SIZE):
        expect[8 * r:8 * r + 8, :] = r
    with arraymorph.collective(COMM) as coll:
        f = coll.open(url, "w")
        with arraymorph.shards(4):
            ds = coll.create_dataset(f, "x", shape=shape, dtype="f4", chunks=chunks, fillvalue=-1)
        arraymorph.reset_stats()
        ds[8 * RANK:8 * RANK + 8, :] = expect[8 * RANK:8 * RANK + 8, :]
        puts = total(requests("put"))
        f.close()
    assert puts == (8 * SIZE + 31) // 32  # one PUT per shard written, whichever ranks wrote into it
    COMM.Barrier()
    with arraymorph.open(url, "r") as f:
        np.testing.assert_array_equal(f["x"][...], expect)


def test_partial_collective_writes_keep_old_values(s3):
    url = f"{s3}/rmw.h5"
    old = np.arange(40 * 12, dtype="f4").reshape(40, 12)
    make_dataset(url, old, chunks=(10, 6), compression="gzip")
    expect = old.copy()
    for r in range(SIZE):
        expect[5 + r, 2:9] = -1 - r  # rows 5.. : inside chunk row 0 (and 1 for large SIZE)
    expect[20:30, :] = 99  # whole chunks written by every rank (overlapping, identical values)
    with arraymorph.collective(COMM) as coll:
        with coll.open(url, "r+") as f:
            ds = f["x"]
            arraymorph.reset_stats()
            ds[5 + RANK, 2:9] = -1 - RANK
            gets = total(requests("get"))
            puts = total(requests("put"))
            ds[20:30, :] = np.full((10, 12), 99, dtype="f4")
            puts2 = total(requests("put"))
            gets2 = total(requests("get"))
            back = ds[...]
    touched = len({(5 + r) // 10 for r in range(SIZE)}) * 2  # chunk rows x 2 chunk columns
    assert gets == touched  # read-modify-write once per partially covered chunk
    assert puts == touched
    assert puts2 - puts == 2  # the two chunks of rows 20..29, once each
    assert gets2 == gets  # fully covered: no read
    np.testing.assert_array_equal(back, expect)
    COMM.Barrier()
    with arraymorph.open(url, "r") as f:
        np.testing.assert_array_equal(f["x"][...], expect)


def test_metadata_once_and_attributes(s3):
    url = f"{s3}/meta.h5"
    with arraymorph.collective(COMM) as coll:
        f = coll.open(url, "w")
        ds = coll.create_dataset(f, "y", shape=(SIZE * 4,), dtype="u1", chunks=(3,))
        coll.once(ds.attrs.__setitem__, "units", "m")
        ds[RANK * 4:(RANK + 1) * 4] = RANK + 1
        f.close()
    COMM.Barrier()
    with arraymorph.open(url, "r") as f:
        assert f["y"].attrs["units"] == "m"
        np.testing.assert_array_equal(f["y"][...], np.repeat(np.arange(1, SIZE + 1, dtype="u1"), 4))


def test_plain_calls_inside_the_block_make_metadata_once(s3):
    """No helper needed: every rank calls arraymorph.open / create_dataset / attrs as usual and
    the connector makes each change once (rank 0), after every rank made the same call."""
    url = f"{s3}/plain_meta.h5"
    arraymorph.reset_stats()
    with arraymorph.collective(COMM):
        with arraymorph.open(url, "w-") as f:  # exclusive create on every rank: made once
            g = f.create_group("g")
            ds = g.create_dataset("z", shape=(SIZE * 4,), dtype="i4", chunks=(3,))
            ds.attrs["who"] = RANK  # rank 0's value is stored
            f.attrs["n"] = SIZE
            meta_puts = COMM.allgather(requests("put"))
            ds[RANK * 4:(RANK + 1) * 4] = RANK + 1
    assert meta_puts[0] > 0 and meta_puts[1:] == [0] * (SIZE - 1), meta_puts
    COMM.Barrier()
    with arraymorph.open(url, "r") as f:
        assert f.attrs["n"] == SIZE
        assert f["g/z"].attrs["who"] == 0
        np.testing.assert_array_equal(f["g/z"][...], np.repeat(np.arange(1, SIZE + 1, dtype="i4"), 4))


def test_once_runs_alone_on_rank_zero(s3):
    """Collective.once suspends the block on rank 0: its calls are not coordinated (no hang)."""
    url = f"{s3}/once.h5"
    with arraymorph.collective(COMM) as coll:
        coll.once(lambda: arraymorph.open(url, "w").close())
        assert arraymorph._core.collective_active()  # resumed after once
        with arraymorph.open(url, "r+") as f:
            f.attrs["k"] = 1
    with arraymorph.open(url, "r") as f:
        assert f.attrs["k"] == 1


# --------------------------------------------------------------------------------- failures
def test_failing_rank_makes_every_rank_raise(s3):
    url = f"{s3}/fail.h5"
    make_dataset(url, np.arange(64, dtype="i4"), chunks=(8,))
    f = arraymorph.open(url, "r")
    with pytest.raises((KeyError, OSError, arraymorph.CollectiveError)) as info:
        with arraymorph.collective(COMM):
            if RANK == SIZE - 1:
                f["missing"]  # KeyError on this rank only
            f["x"][RANK:RANK + 8]
    if RANK == SIZE - 1:
        assert info.type is KeyError
    else:
        assert "not at the same step" in str(info.value)
    # The context is gone on every rank and a new block works.
    with arraymorph.collective(COMM):
        np.testing.assert_array_equal(f["x"][RANK:RANK + 8], np.arange(RANK, RANK + 8))
    f.close()


def test_error_at_end_of_block_reaches_every_rank(s3):
    url = f"{s3}/fail2.h5"
    make_dataset(url, np.arange(64, dtype="i4"), chunks=(8,))
    with pytest.raises((ValueError, arraymorph.CollectiveError)) as info:
        with arraymorph.collective(COMM), arraymorph.open(url, "r") as f:
            f["x"][0:10]
            if RANK == 0:
                raise ValueError("boom")
    assert info.type is (ValueError if RANK == 0 else arraymorph.CollectiveError)


def test_out_of_step_ranks_raise_instead_of_hanging(s3):
    url = f"{s3}/fail3.h5"
    make_dataset(url, np.arange(64, dtype="i4"), chunks=(8,))
    with arraymorph.open(url, "r") as f:
        with pytest.raises((OSError, arraymorph.CollectiveError)):
            with arraymorph.collective(COMM):
                f["x"][0:10]
                if RANK == 0:
                    f["x"][10:20]  # one read more than the others


def test_remote_store_error_is_agreed(s3):
    """A failure on the owner (here: a corrupt chunk object) is raised on every rank."""
    url = f"{s3}/corrupt.h5"
    make_dataset(url, np.arange(64, dtype="i4"), chunks=(8,), compression="gzip")
    if RANK == 0:
        with arraymorph.open(url, "r+") as f:  # overwrite a chunk object with garbage
            f.attrs["touch"] = 1
        import boto3

        env = os.environ
        cl = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL_S3"], region_name=env["AWS_REGION"],
                          aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
        bucket, _, key = url[len("s3://"):].partition("/")
        cl.put_object(Bucket=bucket, Key=f"{key}/x/c/3", Body=b"not gzip")
    COMM.Barrier()
    with arraymorph.open(url, "r") as f:
        with pytest.raises(OSError) as info:
            with arraymorph.collective(COMM):
                f["x"][RANK:RANK + 40]  # every window includes chunk 3
        assert "c/3" in str(info.value) or "rank" in str(info.value)


def test_blocks_do_not_nest(s3):
    with arraymorph.collective(COMM):
        with pytest.raises(RuntimeError, match="already active"):
            with arraymorph.collective(COMM):
                pass
    assert not arraymorph._core.collective_active()


def test_scalar_and_single_element_reads(s3):
    url = f"{s3}/scalar.h5"
    if RANK == 0:
        with arraymorph.open(url, "w") as f:
            f.create_dataset("s", data=np.float32(2.5))
            f.create_dataset("v", data=np.arange(10, dtype="u2"), chunks=(4,))
    COMM.Barrier()
    with arraymorph.collective(COMM) as coll, coll.open(url, "r") as f:
        arraymorph.reset_stats()
        s = f["s"][()]
        v = f["v"][RANK % 10]
        gets = total(requests("get"))
    assert s == np.float32(2.5)
    assert v == RANK % 10
    assert gets == 1 + len({(r % 10) // 4 for r in range(SIZE)})
