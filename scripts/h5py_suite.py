#!/usr/bin/env python3
"""Run h5py's own test suite (the h5py.tests package of the installed h5py) through arraymorph.

    python scripts/h5py_suite.py                 # both modes, check tests/h5py_suite_baseline.json
    H5PY_SUITE_MODES=env python scripts/h5py_suite.py
    H5PY_SUITE_UPDATE_BASELINE=1 python scripts/h5py_suite.py   # after a fix: raise the baseline
    H5PY_SUITE_ONLY="test_file test_dataset" python scripts/h5py_suite.py   # modules whose name contains a word

Each test module runs as its own pytest process (one crash costs one module, and one module's
leftovers cannot break the next), in a fresh local store: STORAGE_PLATFORM=Local with
ARRAYMORPH_LOCAL_ROOT=<empty dir>, HDF5_VOL_CONNECTOR=arraymorph and HDF5_PLUGIN_PATH=<the
installed plugin>. Two modes:
  env     only those variables (h5py scripts that never import arraymorph; the plugin activates
          arraymorph's h5py compatibility layer itself, src/vol/python_compat.hpp)
  import  the same plus `import arraymorph` first (pytest -p arraymorph)
Modules run two at a time. Counts per module and mode go to build/h5py-suite.json (logs in
build/h5py-suite-logs/). Exit status 0 unless a mode passes fewer tests than the baseline. A module
that crashes counts as 0 passed and is named in the output.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = Path(os.environ.get("H5PY_SUITE_BASELINE", ROOT / "tests" / "h5py_suite_baseline.json"))
OUT = Path(os.environ.get("H5PY_SUITE_JSON", ROOT / "build" / "h5py-suite.json"))
LOGS = OUT.parent / "h5py-suite-logs"
MODES = os.environ.get("H5PY_SUITE_MODES", "env import").split()
TIMEOUT = int(os.environ.get("H5PY_SUITE_TIMEOUT", "600"))
COUNT_RE = re.compile(r"(\d+) (passed|failed|skipped|xfailed|xpassed|error|errors)")


def modules() -> list[str]:
    import h5py.tests

    base = Path(h5py.tests.__file__).parent
    found = sorted(p for p in base.rglob("test_*.py"))
    only = os.environ.get("H5PY_SUITE_ONLY", "").split()
    return [str(p) for p in found if not only or any(o in p.stem for o in only)]


def plugin_dir() -> str:
    import arraymorph

    return arraymorph.get_plugin_path()


def run_module(path: str, mode: str, plugin: str) -> dict:
    name = Path(path).stem if Path(path).parent.name == "tests" else f"{Path(path).parent.name}/{Path(path).stem}"
    with tempfile.TemporaryDirectory(prefix="h5py-suite-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ARRAYMORPH_", "AWS_", "AZURE_"))}
        env.update(HDF5_VOL_CONNECTOR="arraymorph", HDF5_PLUGIN_PATH=plugin, STORAGE_PLATFORM="Local",
                   ARRAYMORPH_LOCAL_ROOT=tmp, TMPDIR=tmp)
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf", path]
        if mode == "import":
            cmd[3:3] = ["-p", "arraymorph"]
        try:
            proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=TIMEOUT)
            out, rc = proc.stdout + proc.stderr, proc.returncode
        except subprocess.TimeoutExpired as exc:
            out, rc = f"{exc.stdout or ''}\nTIMEOUT after {TIMEOUT} s", -1
    LOGS.mkdir(parents=True, exist_ok=True)
    (LOGS / f"{mode}-{name.replace('/', '-')}.log").write_text(out)
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    last = [line for line in out.splitlines() if re.search(r"\d+ (passed|failed|skipped|error)", line)]
    if last and rc in (0, 1):
        for n, kind in COUNT_RE.findall(last[-1]):
            key = {"errors": "failed", "error": "failed", "xfailed": "skipped", "xpassed": "passed"}.get(kind, kind)
            counts[key] += int(n)
    counts["crashed"] = rc not in (0, 1, 5)
    counts["returncode"] = rc
    return {"module": name, **counts}


def main() -> int:
    plugin, mods = plugin_dir(), modules()
    report = {"h5py_modules": len(mods), "modes": {}}
    status = 0
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {"modes": {}}
    for mode in MODES:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda p: run_module(p, mode, plugin), mods))
        total = {k: sum(r[k] for r in results) for k in ("passed", "failed", "skipped")}
        crashed = [r["module"] for r in results if r["crashed"]]
        report["modes"][mode] = {**total, "crashed": crashed, "modules": results}
        want = baseline.get("modes", {}).get(mode, {}).get("passed", 0)
        ok = total["passed"] >= want
        print(f"h5py suite ({mode}): {total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped"
              f"; crashed modules: {crashed or 'none'}; baseline {want} passed: {'ok' if ok else 'BELOW'}")
        status |= 0 if ok else 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2))
    if os.environ.get("H5PY_SUITE_UPDATE_BASELINE") == "1":
        import h5py

        BASELINE.write_text(json.dumps({
            "note": "minimum passed counts of scripts/h5py_suite.py per mode; raise when more pass",
            "h5py": h5py.version.version, "hdf5": h5py.version.hdf5_version,
            "modes": {m: {"passed": v["passed"], "failed": v["failed"], "skipped": v["skipped"]}
                      for m, v in report["modes"].items()}}, indent=2) + "\n")
        print(f"baseline written to {BASELINE}")
    return status


if __name__ == "__main__":
    sys.exit(main())
