#!/usr/bin/env python3
"""aws-c-s3 prototype against today's S3 client (issue 18): runs benchmarks/crt_s3/crt_s3_bench
(build it first with ``bash benchmarks/crt_s3/build.sh``) against SeaweedFS behind the latency
proxy, alternating the two clients, one fresh process per repetition.

    source ~/.cache/arraymorph/env.sh
    bash benchmarks/crt_s3/build.sh
    python benchmarks/crt_s3_bench.py --reps 5 --latencies 0,20

Workloads (crt_s3_bench.cpp): put (256 x 256 KiB PUTs together, W1), get (256 whole GETs
together, W2), range (256 ranged GETs of 64 KiB together: slabs/strided), points (100 ranged GETs
of 4 bytes one after another, W5). Both clients GET the objects the ``ours`` put wrote. Prints a
markdown table: median seconds and client CPU seconds per client, requests seen by the proxy, and
ours/crt time ratio (above 1 = aws-c-s3 faster).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests" / "python"))

from proxy import LatencyProxy  # noqa: E402
from run import clean_env, machine  # noqa: E402

BIN = ROOT / "build" / "crt_s3" / "benchmarks" / "crt_s3" / "crt_s3_bench"
OPS = [("put", 256, 256 << 10), ("get", 256, 256 << 10), ("range", 256, 256 << 10), ("points", 100, 256 << 10)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--latencies", default="0,20")
    ap.add_argument("--ops", default=",".join(op for op, _, _ in OPS))
    ap.add_argument("--env", action="append", default=[], metavar="K=V",
                    help="extra environment for both clients, e.g. CRT_S3_BENCH_GET_CHECKSUM=0")
    args = ap.parse_args()
    if not BIN.exists():
        sys.exit(f"{BIN} missing: run bash benchmarks/crt_s3/build.sh")
    from servers.seaweedfs import SeaweedFS

    load = " ".join(open("/proc/loadavg").read().split()[:3])
    print(f"# {machine()}; load average {load}", flush=True)
    rows = []
    with SeaweedFS(bucket="bench") as s3:
        proxy = LatencyProxy("127.0.0.1", s3.port).start()
        try:
            env = clean_env(s3.env(AWS_ENDPOINT_URL_S3=proxy.endpoint))
            env.update(kv.split("=", 1) for kv in args.env)
            ops = args.ops.split(",")
            for lat in (float(x) for x in args.latencies.split(",")):
                proxy.latency = lat / 1000.0
                for op, n, size in [o for o in OPS if o[0] in ops or o[0] == "put"]:
                    res = {"ours": [], "crt": []}
                    for rep in range(args.reps):
                        for client in ("ours", "crt"):
                            prefix = f"l{lat:g}/{client if op == 'put' else 'ours'}"
                            before = proxy.snapshot()
                            out = subprocess.run([str(BIN), client, op, str(n), str(size), prefix], env=env,
                                                 capture_output=True, text=True, timeout=300)
                            reqs = LatencyProxy.diff(proxy.snapshot(), before)["requests"]
                            if out.returncode != 0:
                                raise RuntimeError(f"{client} {op}: exit {out.returncode}\n{out.stdout}{out.stderr[-2000:]}")
                            r = json.loads(out.stdout.strip().splitlines()[-1])
                            r["requests"] = reqs
                            res[client].append(r)
                    row = {"latency_ms": lat, "op": op, "n": n}
                    for client, rs in res.items():
                        row[client] = {k: statistics.median(r[k] for r in rs)
                                       for k in ("seconds", "cpu_seconds", "requests")}
                    rows.append(row)
                    print(f"{lat:g} ms {op:7s} ours {row['ours']['seconds']:.3f} s (cpu {row['ours']['cpu_seconds']:.3f}) "
                          f"crt {row['crt']['seconds']:.3f} s (cpu {row['crt']['cpu_seconds']:.3f})", flush=True)
        finally:
            proxy.stop()
    print(f"\nload average after: {' '.join(open('/proc/loadavg').read().split()[:3])}\n")
    print("| latency ms | workload | today's S3Store s | aws-c-s3 s | S3Store / aws-c-s3 | "
          "client CPU s (S3Store / aws-c-s3) | requests at the proxy (S3Store / aws-c-s3) |")
    print("|---:|---|---:|---:|---:|---|---|")
    for r in rows:
        o, c = r["ours"], r["crt"]
        print(f"| {r['latency_ms']:g} | {r['op']} | {o['seconds']:.3f} | {c['seconds']:.3f} | "
              f"{o['seconds'] / c['seconds']:.2f} | {o['cpu_seconds']:.3f} / {c['cpu_seconds']:.3f} | "
              f"{o['requests']:g} / {c['requests']:g} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
