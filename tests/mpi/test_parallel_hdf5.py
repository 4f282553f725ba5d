"""Parallel HDF5's own API through arraymorph (issue 8): files opened with the MPI-IO driver
(H5Pset_fapl_mpio; h5py ``driver="mpio", comm=...``; ``arraymorph.open(..., comm=...)``) and
collective transfers (H5Pset_dxpl_mpio; h5py ``with dataset.collective:``).

Every rank makes the same calls, as parallel HDF5 requires. Asserted: metadata is written once
(rank 0 makes every metadata PUT), collective reads fetch each distinct chunk once, interleaved
collective writes to shared chunks give exactly the expected array, and ranks that disagree on
a metadata call all raise instead of hanging.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest

MPI = pytest.importorskip("mpi4py.MPI")

import arraymorph  # noqa: E402
from mpi_helpers import COMM, RANK, SIZE, requests, total  # noqa: E402

pytestmark = [
    pytest.mark.mpi(min_size=2),
    pytest.mark.skipif(not h5py.get_config().mpi, reason="h5py built without MPI (HDF5_MPI=ON)"),
]


def puts_by_rank() -> list:
    return COMM.allgather(requests("put"))


def test_h5py_mpio_driver_metadata_once_and_collective_io(s3):
    arraymorph.enable()  # h5py.File(...) itself goes through arraymorph
    url = f"{s3}/mpio.h5"
    shape, chunks = (SIZE * 6, 10), (4, 10)
    nchunks = -(-shape[0] // chunks[0])
    expect = np.zeros(shape, dtype="f8")
    for r in range(SIZE):
        expect[r::SIZE] = (r + 1) * 100 + np.arange(shape[1])

    arraymorph.reset_stats()
    with h5py.File(url, "w", driver="mpio", comm=COMM) as f:
        assert f.driver == "mpio"
        g = f.create_group("g")
        ds = g.create_dataset("x", shape=shape, dtype="f8", chunks=chunks, maxshape=(None, 10))
        ds.attrs["units"] = "K"
        f.attrs["ranks"] = SIZE
        meta_puts = puts_by_rank()

        arraymorph.reset_stats()
        with ds.collective:
            ds[RANK::SIZE] = expect[RANK::SIZE]  # every chunk shared by all ranks
        assert total(requests("put")) == nchunks  # assembled by owners: one PUT per chunk
        assert total(requests("get")) == 0  # the union covers every chunk: no read-modify-write

        arraymorph.reset_stats()
        lo, hi = RANK * 3, RANK * 3 + 9
        got = np.empty((hi - lo, shape[1]))
        with ds.collective:
            # read_direct: h5py's fast path for ds[...] of int/float data passes H5P_DEFAULT,
            # not the collective transfer list (docs/design.md).
            ds.read_direct(got, np.s_[lo:hi])
        np.testing.assert_array_equal(got, expect[lo:hi])
        distinct = len({i // chunks[0] for r in range(SIZE) for i in range(r * 3, min(r * 3 + 9, shape[0]))})
        assert total(requests("get")) == distinct

        # Independent transfers still work (each rank reads for itself).
        np.testing.assert_array_equal(ds[RANK], expect[RANK])

        ds.resize((shape[0] + 4, 10))  # collective in parallel HDF5: made once
        arraymorph.reset_stats()
    close_puts = puts_by_rank()

    assert meta_puts[0] > 0
    assert meta_puts[1:] == [0] * (SIZE - 1), f"metadata PUTs by rank: {meta_puts}"
    assert close_puts[1:] == [0] * (SIZE - 1), f"PUTs at close by rank: {close_puts}"

    COMM.Barrier()
    with arraymorph.open(url, "r") as f:  # independent check on every rank
        ds = f["g/x"]
        assert ds.shape == (shape[0] + 4, 10)
        assert ds.attrs["units"] == "K"
        assert f.attrs["ranks"] == SIZE
        np.testing.assert_array_equal(ds[: shape[0]], expect)
        np.testing.assert_array_equal(ds[shape[0]:], np.zeros((4, 10)))


def test_open_with_comm_creates_exclusively_once(s3):
    url = f"{s3}/excl.h5"
    # Every rank asks for an exclusive create: it is made once and succeeds everywhere (no rank
    # sees the file another rank just created).
    with arraymorph.open(url, "w-", comm=COMM) as f:
        f.create_dataset("v", data=np.arange(8, dtype="i4"))
        f["v"].attrs["rank"] = RANK  # rank 0's value is the one stored
    COMM.Barrier()
    with arraymorph.open(url, "r") as f:
        np.testing.assert_array_equal(f["v"][...], np.arange(8))
        assert f["v"].attrs["rank"] == 0
    # And now it exists for everyone.
    with pytest.raises(FileExistsError):
        arraymorph.open(url, "w-", comm=COMM)


def test_disagreeing_metadata_calls_raise_on_every_rank(s3):
    url = f"{s3}/disagree.h5"
    f = arraymorph.open(url, "w", comm=COMM)
    with pytest.raises((ValueError, OSError)) as info:
        f.create_dataset("a" if RANK == 0 else "b", shape=(4,), dtype="u1")
    assert "not at the same step" in str(info.value)
    # No collective may follow a failed step; the file still closes (rank 0 writes its view).
    f.close()
    COMM.Barrier()
    with arraymorph.open(url, "r") as g:
        assert list(g) == []  # neither dataset was made


def test_mpio_file_with_serial_reader(s3):
    """A file written with the MPI-IO driver is an ordinary arraymorph file (docs/format.md)."""
    url = f"{s3}/plain.h5"
    with arraymorph.open(url, "w", comm=COMM) as f:
        ds = f.create_dataset("y", shape=(SIZE, 5), dtype="i2", chunks=(1, 5))
        ds[RANK] = RANK  # independent, chunk-aligned rows: no two ranks share a chunk
    if RANK == 0:
        with arraymorph.open(url, "r") as f:
            np.testing.assert_array_equal(f["y"][...], np.repeat(np.arange(SIZE, dtype="i2")[:, None], 5, axis=1))
    COMM.Barrier()


def test_independent_multi_dataset_write_on_an_mpio_file(s3):
    """H5Dwrite_multi runs its datasets' chunk I/O on helper threads; those writes are data, not
    metadata, so they must not be coordinated (a collective from a helper thread would break
    the communicator)."""
    from hdf5_multi import hdf5_multi_functions, multi_call

    lib = hdf5_multi_functions()
    url = f"{s3}/multi.h5"
    with arraymorph.open(url, "w", comm=COMM) as f:
        dsets = [f.create_dataset(f"d{k}", shape=(SIZE, 8), dtype="i4", chunks=(1, 8)) for k in range(2)]
        # Each rank writes its own row (its own chunks) of both datasets, independently.
        rows = [np.full((SIZE, 8), -1, dtype="i4") for _ in range(2)]
        mine = [np.full((1, 8), RANK * 10 + k, dtype="i4") for k in range(2)]
        spaces = []
        for d in dsets:
            sp = d.id.get_space()
            sp.select_hyperslab((RANK, 0), (1, 8))
            spaces.append(sp)
        assert multi_call(lib.H5Dwrite_multi, dsets, mine, file_spaces=spaces) >= 0
        COMM.Barrier()
        assert multi_call(lib.H5Dread_multi, dsets, rows) >= 0  # independent read of everything
    for k in range(2):
        np.testing.assert_array_equal(rows[k], np.repeat((np.arange(SIZE) * 10 + k)[:, None], 8, axis=1).astype("i4"))
