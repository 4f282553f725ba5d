"""One measurement in its own process: ``python worker.py PEER_MODULE WORKLOAD CONFIG_JSON``.

Protocol with run.py (stdout lines prefixed ``@@``; anything else is library noise):
1. imports and configures the peer, then prints ``@@READY`` and waits for a line on stdin;
2. run.py snapshots the proxy's counters and sends ``GO``;
3. the timed region runs (write: create + write + close; reads: open + read(s) + close);
4. prints ``@@TIMED`` and waits for a line: run.py snapshots the proxy again, so requests made
   while checking a write (W12 reads its appends back) are not counted;
5. prints ``@@RESULT {json}``: seconds, client CPU seconds (user+sys of this process over the
   timed region, every thread), peak RSS, correctness, the peer's own stats, error text.
The expected values are computed from indices (workloads.py), so checking costs no extra
memory beyond the result itself (writes hold the source array, as any writer must).
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import workloads as W  # noqa: E402


def emit(tag: str, payload=None) -> None:
    sys.stdout.write(f"@@{tag}" + ("" if payload is None else " " + json.dumps(payload)) + "\n")
    sys.stdout.flush()


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(peer, workload: str, n: int, c: int, data):
    """The measured operation; returns what was read (None for writes)."""
    variant = W.VARIANT[workload]
    if workload == "append":
        peer.append(data, W.APPEND_ROWS)
        return None
    if workload in W.WRITES:
        if workload == "write_many":
            peer.write_many(W.MANY_COUNT)
        else:
            peer.write(data, variant)
        return None
    if workload == "many_open":
        return peer.read_many(W.MANY_COUNT)
    peer.open(variant)
    if workload == "points":
        out = np.array([peer.read((i, j)) for i, j in W.points(n)], dtype=np.float32)
    elif workload == "random_batches":
        out = np.concatenate([peer.read((rows, slice(0, n))) for rows in W.random_batches(n)])
    elif workload in W.BATCH_ROWS:
        b = W.BATCH_ROWS[workload]
        rows, cols = W.selections(n, c)[workload]
        out = np.concatenate([peer.read((slice(i, min(i + b, rows.stop)), cols))
                              for i in range(rows.start, rows.stop, b)])
    else:
        out = peer.read(W.selections(n, c)[workload])
    peer.close()
    return out


def expected(peer, workload: str, n: int, c: int, out):
    """(what was read or written back, what it must equal), or (None, None) if not checked."""
    if workload == "append":  # read back what the appends left (not counted: after @@TIMED)
        peer.open("append")
        got = peer.read((slice(0, n), slice(0, n)))
        peer.close()
        return got, W.full(n)
    if workload in W.WRITES:
        return None, None  # checked by the reads of the same variant
    if workload == "points":
        return out, np.array([i * n + j for i, j in W.points(n)], dtype=np.float32)
    if workload == "random_batches":
        return out, W.expected(n, np.concatenate(W.random_batches(n)), np.arange(n))
    if workload == "many_open":
        return out, W.many_expected()
    return out, W.expected_for(W.selections(n, c)[workload], n)


def main() -> int:
    module, workload, cfg = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    n, c = cfg["n"], cfg["c"]
    W.MANY_COUNT = cfg.get("many", W.MANY_COUNT)
    cfg.setdefault("tmpdir", tempfile.gettempdir())
    result = {"ok": False, "correct": None, "seconds": None, "error": None, "stats": None}
    try:
        peer = importlib.import_module(f"peers.{module}").Peer(cfg)
        result["info"] = peer.info() if hasattr(peer, "info") else {}
        data = W.full(n) if workload in W.WRITES and workload != "write_many" else None
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    except BaseException as e:  # noqa: BLE001 - report, never crash silently
        result["error"] = f"setup: {type(e).__name__}: {e}"
        result["traceback"] = traceback.format_exc()[-3000:]
        emit("READY")
        sys.stdin.readline()
        emit("TIMED")
        sys.stdin.readline()
        emit("RESULT", result)
        return 0
    emit("READY")
    sys.stdin.readline()
    out = None
    try:
        if hasattr(peer, "stats_reset"):
            peer.stats_reset()
        cpu0 = cpu_seconds()
        t0 = time.perf_counter()
        try:
            out = timed(peer, workload, n, c, data)
        finally:
            result["seconds"] = time.perf_counter() - t0
            result["cpu_s"] = cpu_seconds() - cpu0
            result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
            emit("TIMED")
            sys.stdin.readline()
        if hasattr(peer, "stats"):
            result["stats"] = peer.stats()
        result["ok"] = True
        got, exp = expected(peer, workload, n, c, out)
        if exp is not None:
            got = np.asarray(got)
            result["correct"] = bool(got.shape == exp.shape and np.array_equal(got, exp))
            if not result["correct"]:
                bad = ~(got == exp) if got.shape == exp.shape else None
                result["error"] = (f"WRONG: shape {got.shape} dtype {got.dtype} vs expected "
                                   f"{exp.shape}" + (f", {int(bad.sum())} of {bad.size} values "
                                                     f"differ" if bad is not None else ""))
    except W.Unsupported as e:
        result["unsupported"] = str(e)
        result["error"] = f"N/A: {e}"
    except BaseException as e:  # noqa: BLE001
        result["error"] = f"{type(e).__name__}: {e}"[:2000]
        result["traceback"] = traceback.format_exc()[-3000:]
    result["rss_before_mb"] = rss_before / 1024.0
    emit("RESULT", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
