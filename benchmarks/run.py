#!/usr/bin/env python3
"""arraymorph benchmark harness: one command, one SeaweedFS, one latency proxy, every peer.

    source ~/.cache/arraymorph/env.sh
    bash benchmarks/setup_peers.sh          # once: obstore, tensorstore, s3fs, arraymorph 0.2.0b4
    python benchmarks/run.py                # full: 4096x4096 float32, 256x256 chunks, median of 3
    python benchmarks/run.py --quick        # smoke: 1024x1024, 128x128 chunks, 1 repetition

Starts SeaweedFS (``weed mini``) on 127.0.0.1 and a latency-injecting proxy (proxy.py) in front
of it; every S3 peer talks to the proxy. For each latency (0 and 20 ms by default), each peer
and each workload (workloads.py), each repetition runs in a fresh subprocess (worker.py) with a
clean environment, so a crash or hang costs one cell, and no cache survives between
repetitions. The timed region is the whole operation as a user sees it: write = create + write
+ close; read = open + read + close (metadata requests included). The proxy counts HTTP
requests and bytes of exactly that region; arraymorph also reports its own ``stats()``.

Results: ``benchmarks/results/latest.json`` (every repetition) and ``latest.md`` (tables);
``--update-docs`` also replaces the generated section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import queue
import signal
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

import workloads as W  # noqa: E402
from proxy import LatencyProxy  # noqa: E402

CACHE = Path(os.environ.get("ARRAYMORPH_CACHE", Path.home() / ".cache" / "arraymorph"))
S3FS_DIR = CACHE / "bench-s3fs"              # s3fs + its botocore, kept out of the main venv
AMS_VENV = CACHE / "bench-venv-ams"          # the published arraymorph 0.2.0b4 wheel
DROP_ENV = ("AWS_", "AZURE_", "ARRAYMORPH_", "HDF5_VOL_CONNECTOR", "HDF5_PLUGIN_PATH",
            "STORAGE_PLATFORM", "BUCKET_NAME")
S3_PEERS_REF = "h5py-local"  # not over S3: shown as a reference, never "best peer"


def clean_env(extra: dict | None = None, keep_ld: bool = True) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROP_ENV)}
    env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/credentials"
    env["AWS_CONFIG_FILE"] = "/nonexistent/config"
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env.pop("PYTHONPATH", None)
    if not keep_ld:
        env.pop("LD_LIBRARY_PATH", None)
    env.update(extra or {})
    return env


def peer_table(args) -> dict:
    """name -> (module, python, env, extra cfg, unavailable reason or None)."""
    am_env = {}
    for kv in args.arraymorph_env:
        k, _, v = kv.partition("=")
        am_env[k] = v
    ams_py = AMS_VENV / "bin" / "python"
    ams_missing = None if ams_py.exists() else f"{ams_py} missing (run benchmarks/setup_peers.sh)"
    peers = {
        "arraymorph": ("arraymorph_h5py", sys.executable, clean_env(am_env), {}, None),
        "h5py-local": ("h5py_local", sys.executable, clean_env(), {}, None),
        "h5py-s3fs": ("h5py_s3fs", sys.executable,
                      clean_env({"PYTHONPATH": str(S3FS_DIR)} if S3FS_DIR.exists() else {}),
                      {}, None),
        "zarr-obstore": ("zarr_obstore", sys.executable, clean_env(), {}, None),
        "tensorstore": ("tensorstore_zarr3", sys.executable, clean_env(), {}, None),
        # The wheel as shipped: its plugin links its own bundled libhdf5 (1.14.5) while its
        # h5py dependency bundles another (1.14.6): two HDF5 libraries in one process.
        "arraymorph-0.2.0b4-wheel": ("arraymorph_h5py", str(ams_py),
                                     clean_env({"PYTHONNOUSERSITE": "1"}, keep_ld=False),
                                     {"published": True}, ams_missing),
        # The same wheel's plugin re-linked (patchelf) to libhdf5.so.310 and run with this
        # venv's h5py built on HDF5 1.14.5: one HDF5, the way the published plugin can work.
        "arraymorph-0.2.0b4": ("arraymorph_h5py", str(ams_py),
                               clean_env({"PYTHONNOUSERSITE": "1",
                                          "PYTHONPATH": str(AMS_VENV / "shared-h5py")}),
                               {"published": True, "plugin_dir": str(AMS_VENV / "plugin-shared")},
                               ams_missing or (None if (AMS_VENV / "plugin-shared").exists()
                                               else "patched plugin missing (setup_peers.sh)")),
    }
    return {k: v for k, v in peers.items() if k in args.peers}


class Cell:
    """One subprocess measurement."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.lines: queue.Queue = queue.Queue()
        self.noise: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            if line.startswith("@@"):
                self.lines.put(line)
            else:
                self.noise.append(line)
        self.lines.put(None)

    def wait_tag(self, tag: str, timeout: float):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                raise TimeoutError from None
            if line is None:
                return None
            if line.startswith("@@" + tag):
                rest = line[len(tag) + 2:].strip()
                return json.loads(rest) if rest else {}

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: the worker only
        except ProcessLookupError:
            pass


def run_cell(proxy: LatencyProxy, spec, workload: str, cfg: dict, timeout: float,
             workdir: str) -> dict:
    module, python, env, extra, _ = spec
    cfg = dict(cfg, **extra)
    errf = tempfile.TemporaryFile(mode="w+", dir=workdir)
    proc = subprocess.Popen([python, str(HERE / "worker.py"), module, workload, json.dumps(cfg)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errf,
                            text=True, env=env, cwd=workdir, start_new_session=True)
    cell = Cell(proc)
    res: dict = {"status": "CRASH"}
    try:
        if cell.wait_tag("READY", 120) is None:
            raise EOFError
        before = proxy.snapshot()
        proc.stdin.write("GO\n")
        proc.stdin.flush()
        t0 = time.perf_counter()
        out = cell.wait_tag("RESULT", timeout)
        wall = time.perf_counter() - t0
        after = proxy.snapshot()
        if out is None:
            raise EOFError
        res = out
        res["proxy"] = LatencyProxy.diff(after, before)
        res["wall_s"] = wall
        if not out["ok"]:
            res["status"] = "ERROR"
        elif out.get("correct") is False:
            res["status"] = "WRONG"
        else:
            res["status"] = "OK"
        proc.wait(30)
    except TimeoutError:
        cell.kill()
        res = {"status": "TIMEOUT", "error": f"no result within {timeout:.0f} s"}
    except EOFError:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            cell.kill()
        rc = proc.returncode
        sig = f" (signal {signal.Signals(-rc).name})" if rc is not None and rc < 0 else ""
        res = {"status": "CRASH", "error": f"worker exited with {rc}{sig} without a result"}
    finally:
        cell.kill()
        proc.wait()
        errf.seek(0)
        err = errf.read()
        errf.close()
    if res["status"] != "OK":
        res["stderr_tail"] = err[-3000:]
        res["stdout_tail"] = "".join(cell.noise)[-2000:]
    return res


def am_requests(stats: dict | None) -> int | None:
    if not stats:
        return None
    return sum(v.get("requests", 0) for v in stats.values() if isinstance(v, dict)
               and "requests" in v)


def summarize(reps: list[dict]) -> dict:
    ok = [r for r in reps if r["status"] == "OK"]
    if len(ok) < len(reps):
        bad = next(r for r in reps if r["status"] != "OK")
        return {"status": bad["status"], "error": bad.get("error"), "reps": len(reps),
                "ok_reps": len(ok), "seconds": None}
    secs = [r["seconds"] for r in ok]
    med = statistics.median(secs)
    mid = min(ok, key=lambda r: abs(r["seconds"] - med))
    p = mid.get("proxy", {})
    out = {"status": "OK", "seconds": med, "all_seconds": secs,
           "requests": p.get("requests"), "proxy_requests": p.get("requests"),
           "by_method": p.get("by_method"),
           "bytes": p.get("bytes_up", 0) + p.get("bytes_down", 0),
           "bytes_down": p.get("bytes_down"), "bytes_up": p.get("bytes_up"),
           "connections": p.get("connections"),
           "maxrss_mb": max(r.get("maxrss_mb", 0) for r in ok),
           "rss_before_mb": mid.get("rss_before_mb"), "stats": mid.get("stats")}
    if mid.get("stats"):
        out["requests"] = am_requests(mid["stats"])
    return out


# ------------------------------------------------------------------------------ report
def fmt_s(x):
    return "-" if x is None else (f"{x:.3f}" if x < 10 else f"{x:.1f}")


def fmt_mb(b):
    return "-" if b is None else f"{b / 1e6:.1f}"


def markdown(results: dict, meta: dict) -> str:
    n, c = meta["n"], meta["c"]
    out = [f"Array {n}x{n} float32, chunks {c}x{c}, uncompressed; median of {meta['reps']}; "
           f"{meta['date']}; {meta['machine']}.", ""]
    out.append("seconds: median wall time of the operation (open + read + close, or create + "
               "write + close); ratio: to the fastest S3 peer of that row group (h5py-local is a "
               "local-disk reference, never the best); requests: arraymorph's own `stats()` "
               "for arraymorph, HTTP requests counted at the proxy for the others; MB: bytes "
               "through the proxy, both ways, headers included; RSS: peak RSS of the worker "
               "process (includes the interpreter and libraries).")
    for lat in meta["latencies_ms"]:
        out += ["", f"### {lat:g} ms injected latency per request", "",
                "| workload | peer | seconds | ratio | requests | MB moved | peak RSS MB | status |",
                "|---|---|---:|---:|---:|---:|---:|---|"]
        for wl in meta["workloads"]:
            row = {p: results.get(f"{lat:g}|{p}|{wl}") for p in meta["peers"]}
            best = min((r["seconds"] for p, r in row.items() if r and r["status"] == "OK"
                        and p != S3_PEERS_REF), default=None)
            for p, r in row.items():
                if r is None:
                    continue
                ratio = (f"{r['seconds'] / best:.2f}" if r["status"] == "OK" and best else "-")
                status = r["status"]
                if status != "OK":
                    status += ": " + (r.get("error") or "").replace("|", "/").replace(
                        "\n", " ")[:160]
                name = f"**{p}**" if p == "arraymorph" else p
                out.append(f"| {wl} | {name} | {fmt_s(r['seconds'])} | {ratio} | "
                           f"{r.get('requests') if r.get('requests') is not None else '-'} | "
                           f"{fmt_mb(r.get('bytes'))} | "
                           f"{r['maxrss_mb']:.0f} | {status} |" if r["status"] == "OK" else
                           f"| {wl} | {name} | - | - | - | - | - | {status} |")
    out += ["", targets_md(results, meta)]
    return "\n".join(out) + "\n"


def targets_md(results: dict, meta: dict) -> str:
    n, c = meta["n"], meta["c"]
    inflight = meta["max_inflight"]
    lines = ["### arraymorph against the targets (computed by run.py)", "",
             "| latency | workload | arraymorph s | best other S3 peer | speed-up | "
             "requests (PUT for write, GET for reads) | ideal s | s / ideal | MB needed | "
             "MB moved (payload) | status |",
             "|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    for lat in meta["latencies_ms"]:
        for wl in meta["workloads"]:
            am = results.get(f"{lat:g}|arraymorph|{wl}")
            if not am:
                continue
            others = [(r["seconds"], p) for p in meta["peers"]
                      if p not in ("arraymorph", S3_PEERS_REF)
                      and (r := results.get(f"{lat:g}|{p}|{wl}")) and r["status"] == "OK"]
            best = min(others, default=None)
            if am["status"] != "OK":
                lines.append(f"| {lat:g} | {wl} | - | {best[1] if best else '-'} | - | - | - | - "
                             f"| - | - | {am['status']}: {(am.get('error') or '')[:120]} |")
                continue
            st = am.get("stats") or {}
            kind = "put" if wl == "write_all" else "get"
            reqs = (st.get(kind) or {}).get("requests")
            moved = (st.get(kind) or {}).get("bytes")
            if wl == "points":  # 100 separate reads, one after the other: no overlap possible
                ideal = (reqs or 0) * lat / 1000 if lat else None
            else:
                ideal = math.ceil((reqs or 0) / inflight) * lat / 1000 if lat else None
            speed = f"{best[0] / am['seconds']:.2f}x" if best else "-"
            ratio_ideal = f"{am['seconds'] / ideal:.2f}" if ideal else "-"
            lines.append(
                f"| {lat:g} | {wl} | {fmt_s(am['seconds'])} | "
                f"{(best[1] + ' ' + fmt_s(best[0])) if best else '-'} | {speed} | "
                f"{reqs if reqs is not None else '-'} | {fmt_s(ideal)} | "
                f"{ratio_ideal} | "
                f"{W.needed_bytes(wl, n, c) / 1e6:.3f} | {fmt_mb(moved)} | OK |")
    lines += ["", f"ideal = ceil(requests of the operation's kind / max_inflight={inflight}) x "
              "latency, for points requests x latency (100 reads in sequence); it ignores the "
              "open's metadata round trips and the 0 ms time of the same work (the target: "
              "within 1.25x at 20 ms); MB moved is arraymorph's own payload "
              "count for that kind."]
    return "\n".join(lines)


def update_docs(md: str, cmd: str, script: str = "run.py") -> None:
    """Replaces the section of docs/benchmarks.md generated by benchmarks/<script>."""
    doc = ROOT / "docs" / "benchmarks.md"
    start, end = f"<!-- generated by benchmarks/{script}: start -->", \
        f"<!-- generated by benchmarks/{script}: end -->"
    text = doc.read_text() if doc.exists() else f"# Benchmarks\n\n{start}\n{end}\n"
    if start not in text:
        text += f"\n{start}\n{end}\n"
    a, rest = text.split(start, 1)
    _, b = rest.split(end, 1)
    doc.write_text(f"{a}{start}\n\nCommand: `{cmd}`\n\n{md}\n{end}{b}")


# ------------------------------------------------------------------------------ main
def machine() -> str:
    mem = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    except OSError:
        pass
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {mem}, {platform.platform()}"


def main() -> int:
    ap = argparse.ArgumentParser(description="arraymorph benchmarks against its peers")
    ap.add_argument("--quick", action="store_true",
                    help="1024x1024 array in 128x128 chunks, 1 repetition")
    ap.add_argument("--n", type=int)
    ap.add_argument("--c", type=int)
    ap.add_argument("--reps", type=int)
    ap.add_argument("--latencies", default="0,20", help="injected ms per request, e.g. 0,20")
    ap.add_argument("--peers", default="arraymorph,h5py-local,h5py-s3fs,zarr-obstore,"
                    "tensorstore,arraymorph-0.2.0b4,arraymorph-0.2.0b4-wheel")
    ap.add_argument("--workloads", default=",".join(W.WORKLOADS))
    ap.add_argument("--timeout", type=float, help="seconds per repetition (default 180/60)")
    ap.add_argument("--arraymorph-env", action="append", default=[], metavar="K=V",
                    help="environment for the arraymorph worker, e.g. ARRAYMORPH_MAX_INFLIGHT=32")
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--update-docs", action="store_true",
                    help="replace the generated section of docs/benchmarks.md")
    ap.add_argument("--render", metavar="JSON",
                    help="only re-render the tables of a saved latest.json (no measurement)")
    args = ap.parse_args()
    if args.render:
        saved = json.loads(Path(args.render).read_text())
        md = markdown(saved["results"], saved["meta"])
        print(md)
        if args.update_docs:
            update_docs(md, saved["meta"]["command"])
        return 0
    args.peers = args.peers.split(",")
    n = args.n or (1024 if args.quick else 4096)
    c = args.c or (128 if args.quick else 256)
    reps = args.reps or (1 if args.quick else 3)
    timeout = args.timeout or (60 if args.quick else 180)
    lats = [float(x) for x in args.latencies.split(",")]
    wls = args.workloads.split(",")
    peers = peer_table(args)
    inflight = int(dict(kv.partition("=")[::2] for kv in args.arraymorph_env)
                   .get("ARRAYMORPH_MAX_INFLIGHT", 64))
    meta = {"n": n, "c": c, "reps": reps, "latencies_ms": lats, "workloads": wls,
            "peers": list(peers), "max_inflight": inflight,
            "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "machine": machine(),
            "command": "python benchmarks/run.py " + " ".join(sys.argv[1:])}
    print(f"# {meta['command']}\n# {meta['machine']}", flush=True)

    from servers.seaweedfs import SeaweedFS

    results: dict = {}
    raw: dict = {}
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    with SeaweedFS(bucket="bench") as s3, tempfile.TemporaryDirectory(
            prefix="arraymorph-bench-") as work:
        proxy = LatencyProxy("127.0.0.1", s3.port).start()
        try:
            base = {"n": n, "c": c, "endpoint": proxy.endpoint, "bucket": s3.bucket,
                    "region": s3.region, "access_key": s3.access_key,
                    "secret_key": s3.secret_key, "tmpdir": work}
            for lat in lats:
                proxy.latency = lat / 1000.0
                for pname, spec in peers.items():
                    cfg = dict(base, key=f"{pname}/a{n}")
                    if "write_all" not in wls and not spec[4]:
                        # reads need this peer's copy: write it once, unrecorded
                        prep = run_cell(proxy, spec, "write_all", cfg, timeout, work)
                        if prep["status"] != "OK":
                            print(f"{lat:g}|{pname}: preparatory write {prep['status']} "
                                  f"{prep.get('error')}", flush=True)
                    for wl in wls:
                        key = f"{lat:g}|{pname}|{wl}"
                        if spec[4]:
                            results[key] = {"status": "SKIPPED", "error": spec[4],
                                            "seconds": None}
                            print(f"{key:45s} SKIPPED {spec[4]}", flush=True)
                            continue
                        runs = []
                        for _ in range(reps):
                            r = run_cell(proxy, spec, wl, cfg, timeout, work)
                            runs.append(r)
                            if r["status"] in ("CRASH", "TIMEOUT"):
                                break  # do not repeat a crash or a hang
                        raw[key] = runs
                        results[key] = s = summarize(runs)
                        if s["status"] == "OK":
                            print(f"{key:45s} {s['seconds']:8.3f} s  req {s['requests']}  "
                                  f"{s['bytes'] / 1e6:8.1f} MB  rss {s['maxrss_mb']:.0f} MB",
                                  flush=True)
                        else:
                            print(f"{key:45s} {s['status']} {s.get('error')}", flush=True)
        finally:
            proxy.stop()
    md = markdown(results, meta)
    (out_dir / "latest.json").write_text(json.dumps({"meta": meta, "results": results,
                                                     "raw": raw}, indent=1, default=str))
    (out_dir / "latest.md").write_text(md)
    print("\n" + md)
    print(f"# written: {out_dir / 'latest.md'}, {out_dir / 'latest.json'}")
    if args.update_docs:
        update_docs(md, meta["command"])
        print("# docs/benchmarks.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
