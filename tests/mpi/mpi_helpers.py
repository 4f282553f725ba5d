"""Helpers of the MPI suite: the communicator, request counts summed over the ranks, and a
dataset written by rank 0 alone."""

from __future__ import annotations

import numpy as np
from mpi4py import MPI

import arraymorph

COMM = MPI.COMM_WORLD
RANK = COMM.Get_rank()
SIZE = COMM.Get_size()


def total(n: int) -> int:
    return COMM.allreduce(n, op=MPI.SUM)


def requests(kind: str) -> int:
    """This rank's request count of `kind` since the last reset_stats."""
    return arraymorph.stats()[kind]["requests"]


def make_dataset(url: str, data: np.ndarray, chunks, **kw) -> None:
    """Rank 0 writes `data` independently; everyone waits."""
    if RANK == 0:
        with arraymorph.open(url, "w") as f:
            f.create_dataset("x", data=data, chunks=chunks, **kw)
    COMM.Barrier()
