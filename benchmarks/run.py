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
ICECHUNK_VENV = CACHE / "bench-venv-icechunk"  # icechunk 1.1 + its zarr-python
HSDS_VENV = CACHE / "bench-venv-hsds"        # hsds (service + data node) and h5pyd
DROP_ENV = ("AWS_", "AZURE_", "ARRAYMORPH_", "HDF5_VOL_CONNECTOR", "HDF5_PLUGIN_PATH",
            "STORAGE_PLATFORM", "BUCKET_NAME")
S3_PEERS_REF = "h5py-local"  # not over S3: shown as a reference, never "best peer"
# Peers that do not read the store themselves (a service does): left out of the cost target.
NOT_DIRECT = {S3_PEERS_REF, "hsds"}
# Workloads whose peers must really store compressed data (W10), and their target ratio.
COMPRESSED = {"write_gzip", "read_gzip", "write_zstd", "read_zstd"}
# S3 list prices (USD): GET-class per 1,000, PUT/POST/LIST per 1,000, egress per GB.
PRICE_GET, PRICE_PUT, PRICE_EGRESS_GB = 0.0004, 0.005, 0.09
PUT_CLASS = {"PUT", "POST", "LIST", "COPY"}
HSDS_MANY_SKIP = ("not measured: creating the 1,000-dataset file through h5pyd takes ~0.7-1.2 s "
                  "per dataset here (50 took 34-59 s at 0 ms), ~15 min per preparation")
HSDS_ZSTD_SKIP = ("N/A: h5pyd 1.0 with HSDS 1.0.2 refuses it (ValueError: filter: H5Z_FILTER_ZSTD "
                  "not supported)")
FREE = {"DELETE"}


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
    ice_py, hsds_py = ICECHUNK_VENV / "bin" / "python", HSDS_VENV / "bin" / "python"
    missing = {p: None if p.exists() else f"{p} missing (run benchmarks/setup_peers.sh)"
               for p in (ice_py, hsds_py)}
    ams_missing = None if ams_py.exists() else f"{ams_py} missing (run benchmarks/setup_peers.sh)"
    peers = {
        "arraymorph": ("arraymorph_h5py", sys.executable, clean_env(am_env), {}, None),
        "h5py-local": ("h5py_local", sys.executable, clean_env(), {}, None),
        "h5py-s3fs": ("h5py_s3fs", sys.executable,
                      clean_env({"PYTHONPATH": str(S3FS_DIR)} if S3FS_DIR.exists() else {}),
                      {}, None),
        "zarr-obstore": ("zarr_obstore", sys.executable, clean_env(), {}, None),
        "tensorstore": ("tensorstore_zarr3", sys.executable, clean_env(), {}, None),
        "icechunk": ("icechunk_zarr", str(ice_py), clean_env({"PYTHONNOUSERSITE": "1"}), {},
                     missing[ice_py]),
        # HSDS's service and data node are started by run.py (hsds_service.py) for every
        # repetition; the worker runs h5pyd only.
        "hsds": ("hsds_h5pyd", str(hsds_py), clean_env({"PYTHONNOUSERSITE": "1"}),
                 {"service": "hsds", "skip": {"many": HSDS_MANY_SKIP, "zstd": HSDS_ZSTD_SKIP}},
                 missing[hsds_py]),
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
             workdir: str, service=None) -> dict:
    """One repetition in a fresh worker. ``service``: the peer's server (HSDS), restarted
    before the worker starts so that no server-side cache survives between repetitions."""
    module, python, env, extra, _ = spec
    cfg = dict(cfg, **{k: v for k, v in extra.items() if k not in ("service", "skip")})
    if service is not None:
        try:
            service.restart()
        except RuntimeError as e:
            return {"status": "CRASH", "error": f"service did not start: {e}"[:3000]}
        cfg.update(service.worker_cfg())
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
        svc0 = service.cpu_seconds() if service is not None else None
        proc.stdin.write("GO\n")
        proc.stdin.flush()
        t0 = time.perf_counter()
        if cell.wait_tag("TIMED", timeout) is None:
            raise EOFError
        wall = time.perf_counter() - t0
        after = proxy.snapshot()
        if service is not None:
            svc = service.cpu_seconds() - svc0
        proc.stdin.write("GO\n")  # the worker may now check what it wrote, uncounted
        proc.stdin.flush()
        out = cell.wait_tag("RESULT", timeout)
        if out is None:
            raise EOFError
        res = out
        res["proxy"] = LatencyProxy.diff(after, before)
        res["wall_s"] = wall
        if service is not None:
            res["service_cpu_s"] = svc
        if out.get("unsupported"):
            res["status"] = "N/A"
        elif not out["ok"]:
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
    if res["status"] not in ("OK", "N/A"):
        res["stderr_tail"] = err[-3000:]
        res["stdout_tail"] = "".join(cell.noise)[-2000:]
        if service is not None:
            res["service_log_tail"] = service.log_tail()
    return res


def cost_usd(p: dict) -> float:
    """S3 list price of what the proxy saw: requests by class, bytes sent to the client."""
    get = sum(v for m, v in p.get("by_method", {}).items() if m not in PUT_CLASS | FREE)
    put = sum(v for m, v in p.get("by_method", {}).items() if m in PUT_CLASS)
    return (get * PRICE_GET + put * PRICE_PUT) / 1000 + p.get("bytes_down", 0) / 1e9 \
        * PRICE_EGRESS_GB


def summarize(reps: list[dict]) -> dict:
    """The median repetition's figures; a cell is OK only if every repetition was."""
    na = [r for r in reps if r["status"] == "N/A"]
    if na:
        return {"status": "N/A", "error": na[0].get("unsupported"), "seconds": None}
    ok = [r for r in reps if r["status"] == "OK"]
    if len(ok) < len(reps):
        bad = next(r for r in reps if r["status"] != "OK")
        return {"status": bad["status"], "error": bad.get("error"), "reps": len(reps),
                "ok_reps": len(ok), "seconds": None}
    secs = [r["seconds"] for r in ok]
    med = statistics.median(secs)
    mid = min(ok, key=lambda r: abs(r["seconds"] - med))
    p = mid.get("proxy", {})
    return {"status": "OK", "seconds": med, "all_seconds": secs,
            "requests": p.get("requests"), "by_method": p.get("by_method"),
            "bytes": p.get("bytes_up", 0) + p.get("bytes_down", 0),
            "bytes_down": p.get("bytes_down"), "bytes_up": p.get("bytes_up"),
            "connections": p.get("connections"), "cost_usd": cost_usd(p),
            "cpu_s": statistics.median(r.get("cpu_s", 0.0) for r in ok),
            "service_cpu_s": (statistics.median(r["service_cpu_s"] for r in ok)
                              if "service_cpu_s" in mid else None),
            "maxrss_mb": max(r.get("maxrss_mb", 0) for r in ok),
            "rss_before_mb": mid.get("rss_before_mb"), "stats": mid.get("stats")}


# ------------------------------------------------------------------------------ report
def fmt_s(x):
    return "-" if x is None else (f"{x:.3f}" if x < 10 else f"{x:.1f}")


def fmt_mb(b):
    return "-" if b is None else f"{b / 1e6:.1f}"


def fmt_usd(x):
    return "-" if x is None else f"{x:.6f}"


def markdown(results: dict, meta: dict) -> str:
    n, c = meta["n"], meta["c"]
    fewer = "".join(f" ({p}: {k})" for p, k in meta.get("reps_for", {}).items())
    out = [f"Array {n}x{n} float32, chunks {c}x{c}; median of {meta['reps']}{fewer}; "
           f"{meta['date']}; {meta['machine']}; load average at the start "
           f"{meta.get('loadavg', '?')}, at the end {meta.get('loadavg_end', '?')}.", ""]
    out.append("seconds: median wall time of the operation (open + read + close, or create + "
               "write + close); ratio: to the fastest S3 peer of that workload (h5py-local is a "
               "local-disk reference, never the best); requests and MB: HTTP requests and "
               "bytes (both ways, headers included) counted at the proxy, for every peer alike; "
               "$: S3 list price of those requests and bytes (GET/HEAD $0.0004 per 1,000, "
               "PUT/POST/LIST $0.005 per 1,000, egress $0.09 per GB); CPU s: user+sys seconds "
               "of the worker process over the timed region (for hsds: h5pyd's, the service's "
               "own in parentheses); RSS: peak RSS of the worker process (includes the "
               "interpreter and libraries). N/A: the peer cannot store that variant.")
    for lat in meta["latencies_ms"]:
        out += ["", f"### {lat:g} ms injected latency per request", "",
                "| workload | peer | seconds | ratio | requests | MB moved | $ | CPU s | "
                "peak RSS MB | status |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
        for wl in meta["workloads"]:
            row = {p: results.get(f"{lat:g}|{p}|{wl}") for p in meta["peers"]}
            best = min((r["seconds"] for p, r in row.items() if r and r["status"] == "OK"
                        and p != S3_PEERS_REF), default=None)
            for p, r in row.items():
                if r is None:
                    continue
                name = f"**{p}**" if p == "arraymorph" else p
                if r["status"] != "OK":
                    status = r["status"] + ": " + (r.get("error") or "").replace(
                        "|", "/").replace("\n", " ")[:160]
                    out.append(f"| {wl} | {name} | - | - | - | - | - | - | - | {status} |")
                    continue
                ratio = f"{r['seconds'] / best:.2f}" if best else "-"
                cpu = f"{r['cpu_s']:.2f}"
                if r.get("service_cpu_s") is not None:
                    cpu += f" ({r['service_cpu_s']:.2f})"
                out.append(f"| {wl} | {name} | {fmt_s(r['seconds'])} | {ratio} | "
                           f"{r['requests']} | {fmt_mb(r.get('bytes'))} | "
                           f"{fmt_usd(r.get('cost_usd'))} | {cpu} | {r['maxrss_mb']:.0f} | OK |")
    out += ["", targets_md(results, meta)]
    return "\n".join(out) + "\n"


# The issue's targets: workload -> (ratio to the best peer at most, compared with which peers'
# rows). SHARD_OF: a sharded read is compared with every peer's best of both layouts.
TARGET_RATIO = {w: 0.6 for w in COMPRESSED}
SHARD_OF = {"read_all_shard": "read_all", "strided_shard": "strided",
            "seq_batches_shard": "seq_batches"}


def _ok(results, lat, peer, wl):
    r = results.get(f"{lat:g}|{peer}|{wl}")
    return r if r and r["status"] == "OK" else None


def targets_md(results: dict, meta: dict) -> str:
    """One row per measured workload: arraymorph against each target of issue 19."""
    others = [p for p in meta["peers"] if p not in ("arraymorph", S3_PEERS_REF)]
    lines = ["### arraymorph against the targets (computed by run.py)", "",
             "| latency | workload | arraymorph s | best other peer | time ratio | target | met "
             "| $ | cheapest direct peer $ | met | CPU s | least other CPU s | met | RSS MB |",
             "|---:|---|---:|---|---:|---:|---|---:|---|---|---:|---|---|---:|"]
    for lat in meta["latencies_ms"]:
        for wl in meta["workloads"]:
            am = results.get(f"{lat:g}|arraymorph|{wl}")
            if not am:
                continue
            peers_rows = [(r["seconds"], p + (" (" + SHARD_OF[wl] + ")" if alt else ""), r)
                          for p in others
                          for alt, w in ((False, wl), (True, SHARD_OF.get(wl)))
                          if w and (r := _ok(results, lat, p, w))]
            if wl in COMPRESSED:  # only peers that really store compressed data
                raw = 0.9 * 4 * meta["n"] ** 2
                peers_rows = [x for x in peers_rows if x[2]["bytes"] < raw]
            best = min(peers_rows, key=lambda x: x[0], default=None)
            target = TARGET_RATIO.get(wl, 1.0)
            if am["status"] != "OK":
                lines.append(f"| {lat:g} | {wl} | - | "
                             f"{best[1] + ' ' + fmt_s(best[0]) if best else '-'} | - | "
                             f"{target:.1f} | not measured: {am['status']} "
                             f"{(am.get('error') or '')[:80]} | - | - | - | - | - | - | - |")
                continue
            ratio = am["seconds"] / best[0] if best else None
            direct = [r for _, p, r in peers_rows
                      if p.split(" ")[0] not in NOT_DIRECT and " (" not in p]
            cheap = min(direct, key=lambda r: r["cost_usd"], default=None)
            cheap_name = next((p for _, p, r in peers_rows if r is cheap), "-")
            cpus = [(r["cpu_s"], p) for _, p, r in peers_rows
                    if " (" not in p and p not in NOT_DIRECT]
            least = min(cpus, default=None)
            yes = lambda ok: "yes" if ok else "**no**"  # noqa: E731
            lines.append(
                f"| {lat:g} | {wl} | {fmt_s(am['seconds'])} | "
                f"{(best[1] + ' ' + fmt_s(best[0])) if best else '-'} | "
                f"{f'{ratio:.2f}' if ratio else '-'} | {target:.1f} | "
                f"{yes(ratio <= target) if ratio else '-'} | {fmt_usd(am['cost_usd'])} | "
                f"{(cheap_name + ' ' + fmt_usd(cheap['cost_usd'])) if cheap else '-'} | "
                f"{yes(am['cost_usd'] <= cheap['cost_usd']) if cheap else '-'} | "
                f"{am['cpu_s']:.2f} | {(least[1] + ' ' + f'{least[0]:.2f}') if least else '-'} | "
                f"{yes(am['cpu_s'] <= least[0]) if least else '-'} | {am['maxrss_mb']:.0f} |")
        own = _ok(results, lat, "arraymorph", "read_all")
        for wl in ("seq_batches", "seq_batches_shard"):
            am = _ok(results, lat, "arraymorph", wl)
            if am and own:
                r = am["seconds"] / own["seconds"]
                lines.append(f"| {lat:g} | {wl} vs arraymorph's own read_all | "
                             f"{fmt_s(am['seconds'])} | arraymorph read_all "
                             f"{fmt_s(own['seconds'])} | {r:.2f} | 1.2 | "
                             f"{'yes' if r <= 1.2 else '**no**'} | | | | | | | |")
    lines += ["", "time ratio: arraymorph's seconds / the fastest other S3 peer's (for the "
              "shard rows: the fastest of every peer's sharded and unsharded copy, h5py-s3fs "
              "included; for W10 only peers that moved less than 90% of the raw array's bytes, i.e. "
              "really store it compressed); targets: W10 (gzip, zstd) 0.6, the W8 pass at most 1.2x arraymorph's "
              "own read_all, every other workload 1.0. $: arraymorph's against the cheapest "
              "peer that reads the store directly (not hsds, whose service does). CPU: "
              "arraymorph's client CPU against the least of every other peer that does its "
              "own storage work (not hsds: h5pyd's CPU leaves out the service's)."]
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


def loadavg() -> str:
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


def prepare(proxy, pname, spec, cfg, wls, done, timeout, work, service) -> None:
    """Writes, unrecorded and at 0 ms, each variant a measured read needs and no measured
    workload writes before it (once per peer for the whole run)."""
    written = set()
    for wl in wls:
        variant = W.VARIANT[wl]
        if wl in W.WRITES:
            written.add(variant)
        elif variant not in written and (pname, variant) not in done \
                and variant not in spec[3].get("skip", {}):
            lat, proxy.latency = proxy.latency, 0.0
            try:
                prep = run_cell(proxy, spec, W.WRITER[variant], cfg, timeout * 4, work,
                                service)
            finally:
                proxy.latency = lat
            done.add((pname, variant))
            written.add(variant)
            if prep["status"] not in ("OK", "N/A"):
                print(f"{pname}: preparatory {W.WRITER[variant]} {prep['status']} "
                      f"{prep.get('error')}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description="arraymorph benchmarks against its peers")
    ap.add_argument("--quick", action="store_true",
                    help="1024x1024 array in 128x128 chunks, 1 repetition")
    ap.add_argument("--n", type=int)
    ap.add_argument("--c", type=int)
    ap.add_argument("--reps", type=int)
    ap.add_argument("--latencies", default="0,20", help="injected ms per request, e.g. 0,20")
    ap.add_argument("--peers", default="arraymorph,h5py-local,h5py-s3fs,zarr-obstore,"
                    "tensorstore,icechunk,hsds,arraymorph-0.2.0b4,arraymorph-0.2.0b4-wheel")
    ap.add_argument("--workloads", default=",".join(W.WORKLOADS))
    ap.add_argument("--many", type=int, default=W.MANY_COUNT,
                    help=f"datasets in W11's file (default {W.MANY_COUNT})")
    ap.add_argument("--reps-for", action="append", default=[], metavar="PEER=N",
                    help="repetitions for one peer (a slow one), e.g. hsds=1")
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
    reps_for = {k: int(v) for k, _, v in (kv.partition("=") for kv in args.reps_for)}
    wls = args.workloads.split(",")
    peers = peer_table(args)
    inflight = int(dict(kv.partition("=")[::2] for kv in args.arraymorph_env)
                   .get("ARRAYMORPH_MAX_INFLIGHT", 64))
    meta = {"n": n, "c": c, "many": args.many, "reps": reps, "reps_for": reps_for, "latencies_ms": lats, "workloads": wls,
            "peers": list(peers), "max_inflight": inflight,
            "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "machine": machine(),
            "loadavg": loadavg(),
            "command": "python benchmarks/run.py " + " ".join(sys.argv[1:])}
    print(f"# {meta['command']}\n# {meta['machine']}", flush=True)

    from servers.seaweedfs import SeaweedFS

    results: dict = {}
    raw: dict = {}
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    prepared: set = set()
    with SeaweedFS(bucket="bench") as s3, tempfile.TemporaryDirectory(
            prefix="arraymorph-bench-") as work:
        proxy = LatencyProxy("127.0.0.1", s3.port).start()
        services: dict = {}
        try:
            base = {"n": n, "c": c, "many": args.many, "endpoint": proxy.endpoint, "bucket": s3.bucket,
                    "region": s3.region, "access_key": s3.access_key,
                    "secret_key": s3.secret_key, "tmpdir": work}
            if "hsds" in peers and not peers["hsds"][4]:
                from hsds_service import HsdsService

                services["hsds"] = HsdsService(HSDS_VENV, base)
            for lat in lats:
                proxy.latency = lat / 1000.0
                for pname, spec in peers.items():
                    cfg = dict(base, key=f"{pname}/a{n}")
                    service = services.get(pname)
                    if not spec[4]:
                        prepare(proxy, pname, spec, cfg, wls, prepared, timeout, work,
                                service)
                    for wl in wls:
                        key = f"{lat:g}|{pname}|{wl}"
                        why = spec[4] or spec[3].get("skip", {}).get(W.VARIANT[wl])
                        if why:
                            results[key] = {"status": "SKIPPED", "error": why, "seconds": None}
                            print(f"{key:45s} SKIPPED {why}", flush=True)
                            continue
                        runs = []
                        for _ in range(reps_for.get(pname, reps)):
                            r = run_cell(proxy, spec, wl, cfg, timeout, work, service)
                            runs.append(r)
                            if r["status"] in ("CRASH", "TIMEOUT", "N/A"):
                                break  # do not repeat a crash, a hang or the impossible
                        raw[key] = runs
                        results[key] = s = summarize(runs)
                        if s["status"] == "OK":
                            print(f"{key:45s} {s['seconds']:8.3f} s  req {s['requests']}  "
                                  f"{s['bytes'] / 1e6:8.1f} MB  ${s['cost_usd']:.6f}  "
                                  f"cpu {s['cpu_s']:.2f} s  rss {s['maxrss_mb']:.0f} MB",
                                  flush=True)
                        else:
                            print(f"{key:45s} {s['status']} {s.get('error')}", flush=True)
                    if service is not None:
                        service.stop()
        finally:
            proxy.stop()
            for svc in services.values():
                svc.cleanup()
    meta["loadavg_end"] = loadavg()
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
