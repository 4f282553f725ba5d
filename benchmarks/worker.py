"""One measurement in its own process: ``python worker.py PEER_MODULE WORKLOAD CONFIG_JSON``.

Protocol with run.py (stdout lines prefixed ``@@``; anything else is library noise):
1. imports and configures the peer, then prints ``@@READY`` and waits for a line on stdin;
2. run.py snapshots the proxy's counters and sends ``GO``;
3. the timed region runs (write: create + write + close; reads: open + read(s) + close);
4. prints ``@@RESULT {json}``: seconds, correct, peak RSS, the peer's own stats, error text.
The expected values are computed from indices (workloads.py), so checking costs no extra
memory beyond the result itself (write_all holds the source array, as any writer must).
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


def main() -> int:
    module, workload, cfg = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    n, c = cfg["n"], cfg["c"]
    cfg.setdefault("tmpdir", tempfile.gettempdir())
    result = {"ok": False, "correct": None, "seconds": None, "error": None, "stats": None}
    try:
        peer = importlib.import_module(f"peers.{module}").Peer(cfg)
        result["info"] = peer.info() if hasattr(peer, "info") else {}
        data = W.full(n) if workload == "write_all" else None
        if workload == "points":
            pts = W.points(n)
        elif workload != "write_all":
            sel = W.selections(n, c)[workload]
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    except BaseException as e:  # noqa: BLE001 - report, never crash silently
        result["error"] = f"setup: {type(e).__name__}: {e}"
        result["traceback"] = traceback.format_exc()[-3000:]
        emit("READY")
        sys.stdin.readline()
        emit("RESULT", result)
        return 0
    emit("READY")
    sys.stdin.readline()
    try:
        if hasattr(peer, "stats_reset"):
            peer.stats_reset()
        out = None
        t0 = time.perf_counter()
        if workload == "write_all":
            peer.write(data)
        else:
            peer.open()
            if workload == "points":
                out = np.array([peer.read((i, j)) for i, j in pts], dtype=np.float32)
            elif workload in W.BATCH_ROWS:
                b = W.BATCH_ROWS[workload]
                rows, cols = sel
                out = np.concatenate([peer.read((slice(i, min(i + b, rows.stop)), cols))
                                      for i in range(rows.start, rows.stop, b)])
            else:
                out = peer.read(sel)
            peer.close()
        result["seconds"] = time.perf_counter() - t0
        if hasattr(peer, "stats"):
            result["stats"] = peer.stats()
        result["ok"] = True
        if workload == "points":
            exp = np.array([i * n + j for i, j in pts], dtype=np.float32)
        elif workload != "write_all":
            exp = W.expected_for(sel, n)
        if out is not None:
            out = np.asarray(out)
            result["correct"] = bool(out.shape == exp.shape and np.array_equal(out, exp))
            if not result["correct"]:
                bad = ~(out == exp) if out.shape == exp.shape else None
                result["error"] = (f"WRONG: shape {out.shape} dtype {out.dtype} vs expected "
                                   f"{exp.shape}" + (f", {int(bad.sum())} of {bad.size} values "
                                                     f"differ" if bad is not None else ""))
    except BaseException as e:  # noqa: BLE001
        result["error"] = f"{type(e).__name__}: {e}"[:2000]
        result["traceback"] = traceback.format_exc()[-3000:]
    result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    result["rss_before_mb"] = rss_before / 1024.0
    emit("RESULT", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
