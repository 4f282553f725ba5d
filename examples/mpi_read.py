"""Overlapping windows read by every MPI rank, with and without arraymorph.collective.

    mpiexec -n 4 python examples/mpi_read.py s3://bucket/mpi_demo.h5
    mpiexec -n 4 python examples/mpi_read.py file:///tmp/mpi_demo.h5

S3 credentials/endpoint come from the usual AWS_* environment variables. Rank 0 writes a
(rows x 256) float64 dataset in (64 x 256) gzip chunks; rank r then reads rows
[r*step, r*step + 4*step), so neighbouring ranks share most of their chunks. Without
`collective` every rank fetches all the chunks of its window; with it each distinct chunk is
fetched once (by its owner rank) and the pieces are exchanged with MPI_Alltoallv.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from mpi4py import MPI

import arraymorph


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url", help="s3://bucket/key.h5, file:///dir/key.h5, ...")
    p.add_argument("--rows", type=int, default=4096)
    p.add_argument("--chunk-rows", type=int, default=64)
    args = p.parse_args()

    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    if rank == 0:
        data = np.random.default_rng(0).standard_normal((args.rows, 256))
        with arraymorph.open(args.url, "w") as f:
            f.create_dataset("x", data=data, chunks=(args.chunk_rows, 256), compression="gzip")
    comm.Barrier()

    step = args.rows // (size + 3)
    lo, hi = rank * step, rank * step + 4 * step

    def timed_read(collective: bool):
        with arraymorph.open(args.url, "r") as f:  # fresh file: empty chunk cache
            ds = f["x"]
            arraymorph.reset_stats()
            comm.Barrier()
            t0 = time.perf_counter()
            if collective:
                with arraymorph.collective(comm):
                    out = ds[lo:hi]
            else:
                out = ds[lo:hi]
            elapsed = comm.allreduce(time.perf_counter() - t0, op=MPI.MAX)
            gets = comm.allreduce(arraymorph.stats()["get"]["requests"], op=MPI.SUM)
            nbytes = comm.allreduce(arraymorph.stats()["get"]["bytes"], op=MPI.SUM)
        return out, gets, nbytes, elapsed

    a, gets_i, bytes_i, t_i = timed_read(False)
    b, gets_c, bytes_c, t_c = timed_read(True)
    assert np.array_equal(a, b)
    if rank == 0:
        print(f"{size} ranks, windows of {hi - lo} rows overlapping by {3 * step} rows, "
              f"chunks of {args.chunk_rows} rows")
        print(f"  independent: {gets_i:5d} GETs {bytes_i / 2**20:8.1f} MiB {t_i * 1000:8.1f} ms")
        print(f"  collective : {gets_c:5d} GETs {bytes_c / 2**20:8.1f} MiB {t_c * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
