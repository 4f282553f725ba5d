#!/usr/bin/env python3
"""Import benchmark (issue 16): a native HDF5 file copied into SeaweedFS behind the latency proxy
(proxy.py) three ways, at each injected latency:

- ``upload``: boto3 ``upload_file`` of the file as one object (multipart, 10 threads): the
  raw-bytes ceiling, no HDF5 work at all;
- ``cp``: ``arraymorph cp FILE s3://bench/cp.h5`` (whole chunks undecoded: batches read ahead with
  ``read_direct_chunk`` in a helper process, each written with one ``arraymorph.write_chunks``
  that PUTs its chunks concurrently; default --memory 256MiB);
- ``h5py loop``: what users write by hand: create each dataset with the same chunks and filters,
  then ``for s in src.iter_chunks(): dst[s] = src[s]``.

    source ~/.cache/arraymorph/env.sh
    python benchmarks/import_export.py --size-mib 1024 --update-docs   # the documented run
    python benchmarks/import_export.py --size-mib 8 --latencies 0      # smoke run, seconds

The file: ``--datasets`` float64 datasets of equal size, alternately gzip (level 4, shuffle) and
raw, chunks of 128x1024 (1 MiB), values smooth enough to compress ~2-3x. Throughput is the
file's size on disk divided by the wall time of the process (start-up, open and close
included). Peak memory is the largest total proportional set size (PSS, /proc/PID/smaps_rollup,
so shared memory counted once) of the process tree, sampled every 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests" / "python"))

from proxy import LatencyProxy  # noqa: E402
from run import clean_env, machine, update_docs  # noqa: E402

CHUNK = (128, 1024)

LOOP = r'''
import sys, h5py, arraymorph
from arraymorph.cli.locations import Location, open_file
src = open_file(Location("native", sys.argv[1]), "r")
with arraymorph.open(sys.argv[2], "w") as dst:
    for name, d in src.items():
        kw = dict(compression=d.compression, compression_opts=d.compression_opts, shuffle=d.shuffle)
        out = dst.create_dataset(name, shape=d.shape, dtype=d.dtype, chunks=d.chunks, **kw)
        for sel in d.iter_chunks():
            out[sel] = d[sel]
'''

UPLOAD = r'''
import sys, boto3
from boto3.s3.transfer import TransferConfig
endpoint, bucket, key, path, ak, sk, region = sys.argv[1:8]
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ak, aws_secret_access_key=sk,
                  region_name=region)
s3.upload_file(path, bucket, key, Config=TransferConfig())
'''


def make_file(path: str, size_mib: int, datasets: int) -> None:
    """``datasets`` float64 datasets of size_mib/datasets MiB each, gzip and raw alternately."""
    import numpy as np

    from arraymorph.cli.locations import Location, open_file

    rows_total = max(CHUNK[0], (size_mib << 20) // (8 * CHUNK[1]) // datasets // CHUNK[0] * CHUNK[0])
    rng = np.random.default_rng(0)
    with open_file(Location("native", path), "w") as f:
        for i in range(datasets):
            kw = dict(compression="gzip", compression_opts=4, shuffle=True) if i % 2 == 0 else {}
            d = f.create_dataset(f"d{i}", shape=(rows_total, CHUNK[1]), dtype="f8", chunks=CHUNK, **kw)
            for r in range(0, rows_total, 8 * CHUNK[0]):
                n = min(8 * CHUNK[0], rows_total - r)
                base = np.sin(np.arange(r, r + n)[:, None] / 50.0 + np.arange(CHUNK[1])[None, :] / 80.0)
                d[r:r + n] = np.round(base + rng.normal(scale=1e-3, size=base.shape), 4)


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except OSError:
            pass
    return out


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def timed(cmd: list[str], env: dict, timeout: float) -> dict:
    """Run ``cmd``; wall seconds and peak PSS of its process tree (MiB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], sum(_pss_kib(p) for p in _tree(proc.pid)))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        done.set()
        sampler.join()
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... exit {proc.returncode}\n{err[-3000:]}")
    return {"seconds": seconds, "peak_mib": peak[0] / 1024}


def markdown(rows: list[dict], meta: dict) -> str:
    out = [f"File: {meta['file_mib']:.0f} MiB on disk ({meta['logical_mib']:.0f} MiB of float64 values), "
           f"{meta['datasets']} datasets (gzip level 4 + shuffle and raw alternately), 1 MiB chunks; "
           f"SeaweedFS behind the latency proxy; {meta['machine']}; load average before the run "
           f"{meta['load']}, after {meta['load_after']}; "
           + (f"median of {meta['reps']} runs per cell, the three methods alternating "
              "(peak memory: the largest)." if meta["reps"] > 1 else "one run per cell."), "",
           "| latency ms | method | seconds | MB/s (file bytes) | peak memory MiB (PSS) | cp vs this |",
           "|---:|---|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r['latency_ms']:g} | {r['method']} | {r['seconds']:.2f} | "
                   f"{meta['file_mib'] * 1.048576 / r['seconds']:.1f} | {r['peak_mib']:.0f} | "
                   f"{r['cp_ratio']:.2f}x |")
    out += ["", "cp vs this: this method's time divided by cp's at the same latency (above 1 = cp is "
            "faster). Targets: cp >= 0.8x the upload's throughput (cp vs upload >= 0.80x) and >= 3x the "
            "h5py loop's (cp vs h5py loop >= 3.00x)."]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mib", type=int, default=1024, help="logical size of the file's values")
    ap.add_argument("--datasets", type=int, default=4)
    ap.add_argument("--latencies", default="0,20", help="injected ms per request")
    ap.add_argument("--reps", type=int, default=1,
                    help="repetitions, the three methods alternating; the table shows medians")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--update-docs", action="store_true")
    ap.add_argument("--out", default=str(HERE / "results"), help="folder for import_export.json")
    ap.add_argument("--arraymorph-env", action="append", default=[],
                    help="KEY=VALUE for the measured processes (e.g. PYTHONPATH=<site>)")
    args = ap.parse_args()
    from servers.seaweedfs import SeaweedFS

    lats = [float(x) for x in args.latencies.split(",")]
    extra = dict(kv.split("=", 1) for kv in args.arraymorph_env)
    meta = {"machine": machine(), "datasets": args.datasets, "reps": args.reps,
            "load": " ".join(open("/proc/loadavg").read().split()[:3]),
            "command": "python benchmarks/import_export.py " + " ".join(sys.argv[1:])}
    print(f"# {meta['command']}\n# {meta['machine']}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="arraymorph-import-") as work, SeaweedFS(bucket="bench") as s3:
        path = os.path.join(work, "source.h5")
        t = time.perf_counter()
        make_file(path, args.size_mib, args.datasets)
        meta["file_mib"] = os.path.getsize(path) / (1 << 20)
        meta["logical_mib"] = args.size_mib
        print(f"# source file {meta['file_mib']:.1f} MiB written in {time.perf_counter() - t:.1f} s", flush=True)
        proxy = LatencyProxy("127.0.0.1", s3.port).start()
        try:
            env = clean_env(dict(s3.env(AWS_ENDPOINT_URL_S3=proxy.endpoint), **extra))
            env["ARRAYMORPH_PROGRESS"] = "none"
            # Asked before HDF5_VOL_CONNECTOR is set: import arraymorph refuses a process whose
            # HDF5 was told to use arraymorph but cannot find it (it would write native files).
            env["HDF5_PLUGIN_PATH"] = subprocess.run(
                [sys.executable, "-c", "import arraymorph; print(arraymorph.get_plugin_path())"],
                env=env, capture_output=True, text=True, check=True).stdout.strip()
            env["HDF5_VOL_CONNECTOR"] = "arraymorph"
            for lat in lats:
                proxy.latency = lat / 1000.0
                runs: dict = {}
                for rep in range(args.reps):
                    tag = f"l{lat:g}r{rep}"
                    cells = {
                        "upload": [sys.executable, "-c", UPLOAD, proxy.endpoint, s3.bucket, f"{tag}/upload.h5",
                                   path, s3.access_key, s3.secret_key, s3.region],
                        "cp": [sys.executable, "-m", "arraymorph", "cp", path, f"s3://{s3.bucket}/{tag}/cp.h5"],
                        "h5py loop": [sys.executable, "-c", LOOP, path, f"s3://{s3.bucket}/{tag}/loop.h5"],
                    }
                    for method, cmd in cells.items():
                        r = timed(cmd, env, args.timeout)
                        runs.setdefault(method, []).append(r)
                        print(f"{lat:g} ms  {method:10s} {r['seconds']:8.2f} s  "
                              f"{meta['file_mib'] * 1.048576 / r['seconds']:8.1f} MB/s  "
                              f"peak {r['peak_mib']:.0f} MiB", flush=True)
                res = {m: {"seconds": statistics.median(r["seconds"] for r in rs),
                           "peak_mib": max(r["peak_mib"] for r in rs),
                           "all_seconds": [r["seconds"] for r in rs]} for m, rs in runs.items()}
                for method, r in res.items():
                    rows.append(dict(r, latency_ms=lat, method=method,
                                     cp_ratio=r["seconds"] / res["cp"]["seconds"]))
        finally:
            proxy.stop()
    meta["load_after"] = " ".join(open("/proc/loadavg").read().split()[:3])
    md = markdown(rows, meta)
    print(md)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "import_export.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    if args.update_docs:
        update_docs(md, meta["command"], script="import_export.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
