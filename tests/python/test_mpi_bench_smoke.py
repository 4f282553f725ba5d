"""benchmarks/mpi_bench.py end to end at a tiny size: SeaweedFS, the latency proxy, mpiexec -n 2
and examples/mpi_read.py in its three modes. Asserts the request counts it reports (collective
modes fetch each distinct chunk once), never its times."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import arraymorph

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not arraymorph._core.collective_available(), reason="arraymorph built without MPI")


def test_mpi_bench_reports_fewer_gets_collectively():
    site = Path(arraymorph.__file__).resolve().parents[1]  # where this arraymorph is installed
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "mpi_bench.py"), "--reps", "1", "--rows", "512",
                           "--latencies", "0", "--ranks", "2", "--arraymorph-env", f"PYTHONPATH={site}"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = re.findall(r"^\| 0 \| 2 \| (\w+) \| (\d+) \|", proc.stdout, re.M)
    gets = {mode: int(n) for mode, n in rows}
    assert set(gets) >= {"independent", "collective"}, proc.stdout
    # 512 rows in 64-row chunks: 8 chunks; the two windows (rows 0-408 and 102-510) need all 8,
    # rank 0 needs chunks 0-6 and rank 1 chunks 1-7: 14 GETs independently, 8 collectively.
    assert gets["independent"] == 14
    assert gets["collective"] == 8
    if "mpio" in gets:
        assert gets["mpio"] == 8
