"""benchmarks/import_export.py end to end at a tiny size (SeaweedFS, the latency proxy, boto3
upload, arraymorph cp, the h5py loop): the script runs and reports every method. No timing
assertion: speed is measured by the full-size run documented in docs/benchmarks.md."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import arraymorph

ROOT = Path(__file__).resolve().parents[2]


def test_import_export_benchmark_smoke(tmp_path):
    site = Path(arraymorph.__file__).resolve().parents[1]  # where this arraymorph is installed
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "import_export.py"), "--size-mib", "4",
                           "--latencies", "0", "--out", str(tmp_path), "--arraymorph-env", f"PYTHONPATH={site}"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = dict(re.findall(r"^\| 0 \| ([\w ]+?) \| [\d.]+ \| [\d.]+ \| \d+ \| ([\d.]+)x \|$", proc.stdout, re.M))
    assert set(rows) == {"upload", "cp", "h5py loop"}, proc.stdout
    assert rows["cp"] == "1.00"
