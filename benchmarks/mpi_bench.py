#!/usr/bin/env python3
"""MPI benchmark (issue 8): 1, 2 and 4 ranks reading overlapping windows, independently and
collectively, against one SeaweedFS behind the latency proxy (proxy.py), in the same run.

    source ~/.cache/arraymorph/env.sh
    python benchmarks/mpi_bench.py                 # 0 and 20 ms, 1/2/4 ranks, median of 3
    python benchmarks/mpi_bench.py --update-docs   # also rewrite its section of docs/benchmarks.md

Each measurement is one ``mpiexec -n R python examples/mpi_read.py s3://... --json``: every rank
writes its share of a 4096x256 float64 dataset in 64-row gzip chunks, then reads its window
(rank r: rows [r*step, r*step + 4*step), step = rows / (R + 3)) three ways: independent,
``arraymorph.collective(comm)``, and parallel HDF5's own collective transfer (driver "mpio" +
``with ds.collective``). Times are the slowest rank's; requests and bytes are summed over the
ranks (arraymorph's stats()).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests" / "python"))

from proxy import LatencyProxy  # noqa: E402
from run import clean_env, machine, update_docs  # noqa: E402

def measure(env: dict, url: str, ranks: int, rows: int, timeout: float) -> list[dict]:
    cmd = ["mpiexec", "-n", str(ranks), sys.executable, str(ROOT / "examples" / "mpi_read.py"), url,
           "--rows", str(rows), "--json"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} -> exit {proc.returncode}\n{proc.stderr[-3000:]}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def markdown(rows: list[dict], meta: dict) -> str:
    out = [f"Dataset {meta['rows']}x256 float64, 64x256 gzip chunks; median of {meta['reps']}; "
           f"{meta['machine']}.", "",
           "| latency ms | ranks | mode | GETs (all ranks) | MB fetched | seconds | vs independent |",
           "|---:|---:|---|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r['latency_ms']:g} | {r['ranks']} | {r['mode']} | {r['gets']} | "
                   f"{r['bytes'] / 1e6:.1f} | {r['seconds']:.3f} | {r['speedup']:.2f}x |")
    out += ["", "vs independent: the independent read's time divided by this mode's time, same "
            "ranks and latency (above 1 = faster)."]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ranks", default="1,2,4")
    ap.add_argument("--latencies", default="0,20", help="injected ms per request")
    ap.add_argument("--rows", type=int, default=4096)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--arraymorph-env", action="append", default=[], metavar="K=V",
                    help="extra environment, e.g. PYTHONPATH=/tmp/site for a private build")
    ap.add_argument("--update-docs", action="store_true")
    args = ap.parse_args()
    meta = {"rows": args.rows, "reps": args.reps, "machine": machine(),
            "command": "python benchmarks/mpi_bench.py " + " ".join(sys.argv[1:])}
    print(f"# {meta['command']}\n# {meta['machine']}", flush=True)

    from servers.seaweedfs import SeaweedFS

    table = []
    with SeaweedFS(bucket="mpibench") as s3:
        proxy = LatencyProxy("127.0.0.1", s3.port).start()
        try:
            extra = dict(kv.split("=", 1) for kv in args.arraymorph_env)
            env = clean_env({**s3.env(AWS_ENDPOINT_URL_S3=proxy.endpoint), **extra})
            for lat in (float(x) for x in args.latencies.split(",")):
                proxy.latency = lat / 1000.0
                for ranks in (int(x) for x in args.ranks.split(",")):
                    reps = [measure(env, f"s3://{s3.bucket}/mpi-{ranks}.h5", ranks, args.rows, args.timeout)
                            for _ in range(args.reps)]
                    by_mode: dict[str, list[dict]] = {}
                    for rep in reps:
                        for r in rep:
                            by_mode.setdefault(r["mode"], []).append(r)
                    base = statistics.median(r["seconds"] for r in by_mode["independent"])
                    for mode, rs in by_mode.items():
                        sec = statistics.median(r["seconds"] for r in rs)
                        row = {"latency_ms": lat, "ranks": ranks, "mode": mode, "gets": rs[0]["gets"],
                               "bytes": rs[0]["bytes"], "seconds": sec, "speedup": base / sec}
                        table.append(row)
                        print(f"{lat:4g} ms  {ranks} ranks  {mode:<11} {row['gets']:5d} GETs  "
                              f"{row['bytes'] / 1e6:7.1f} MB  {sec:.3f} s  {row['speedup']:.2f}x", flush=True)
        finally:
            proxy.stop()
    md = markdown(table, meta)
    print(md)
    if args.update_docs:
        update_docs(md, meta["command"], "mpi_bench.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
