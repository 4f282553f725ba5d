"""Overlapping windows read by every MPI rank: independently, with arraymorph.collective, and
with parallel HDF5's own collective transfer (driver "mpio" + ``with dataset.collective``).

    mpiexec -n 4 python examples/mpi_read.py s3://bucket/mpi_demo.h5
    mpiexec -n 4 python examples/mpi_read.py file:///tmp/mpi_demo.h5

S3 credentials/endpoint come from the usual AWS_* environment variables. Every rank creates the
file together (arraymorph makes the metadata once, on rank 0) and writes its share of a
(rows x 256) float64 dataset in (64 x 256) gzip chunks; rank r then reads rows
[r*step, r*step + 4*step), so neighbouring ranks share most of their chunks. Independently,
every rank fetches all the chunks of its window; collectively each distinct chunk is fetched
once (by its owner rank) and the pieces are exchanged with MPI_Alltoallv.
``--json`` prints one JSON object per mode (used by benchmarks/mpi_bench.py).
"""

from __future__ import annotations

import argparse
import json
import time

import h5py
import numpy as np
from mpi4py import MPI

import arraymorph


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url", help="s3://bucket/key.h5, file:///dir/key.h5, ...")
    p.add_argument("--rows", type=int, default=4096)
    p.add_argument("--chunk-rows", type=int, default=64)
    p.add_argument("--json", action="store_true", help="one JSON line per mode instead of text")
    args = p.parse_args()

    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    data = np.random.default_rng(0).standard_normal((args.rows, 256))
    share = -(-args.rows // size)
    with arraymorph.collective(comm):  # every rank creates and writes together
        with arraymorph.open(args.url, "w") as f:
            ds = f.create_dataset("x", shape=data.shape, dtype="f8", chunks=(args.chunk_rows, 256),
                                  compression="gzip")
            ds[rank * share:(rank + 1) * share] = data[rank * share:(rank + 1) * share]

    step = args.rows // (size + 3)
    lo, hi = rank * step, rank * step + 4 * step

    def timed_read(mode: str):
        comm_arg = comm if mode == "mpio" else None
        with arraymorph.open(args.url, "r", comm=comm_arg) as f:  # fresh file: empty chunk cache
            ds = f["x"]
            out = np.empty((hi - lo, 256))
            arraymorph.reset_stats()
            comm.Barrier()
            t0 = time.perf_counter()
            if mode == "collective":
                with arraymorph.collective(comm):
                    ds.read_direct(out, np.s_[lo:hi])
            elif mode == "mpio":
                with ds.collective:  # H5Pset_dxpl_mpio(H5FD_MPIO_COLLECTIVE)
                    ds.read_direct(out, np.s_[lo:hi])
            else:
                ds.read_direct(out, np.s_[lo:hi])
            elapsed = comm.allreduce(time.perf_counter() - t0, op=MPI.MAX)
            gets = comm.allreduce(arraymorph.stats()["get"]["requests"], op=MPI.SUM)
            nbytes = comm.allreduce(arraymorph.stats()["get"]["bytes"], op=MPI.SUM)
        if not np.array_equal(out, data[lo:hi]):
            raise SystemExit(f"rank {rank}: {mode} read returned wrong values")
        return {"mode": mode, "ranks": size, "gets": gets, "bytes": nbytes, "seconds": elapsed,
                "window_rows": hi - lo, "overlap_rows": 3 * step, "chunk_rows": args.chunk_rows}

    modes = ["independent", "collective"] + (["mpio"] if h5py.get_config().mpi else [])
    results = [timed_read(m) for m in modes]
    if rank == 0:
        if args.json:
            for r in results:
                print(json.dumps(r), flush=True)
            return
        print(f"{size} ranks, windows of {hi - lo} rows overlapping by {3 * step} rows, "
              f"chunks of {args.chunk_rows} rows")
        for r in results:
            print(f"  {r['mode']:<11}: {r['gets']:5d} GETs {r['bytes'] / 2**20:8.1f} MiB "
                  f"{r['seconds'] * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
