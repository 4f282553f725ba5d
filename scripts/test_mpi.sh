#!/usr/bin/env bash
# MPI collective I/O tests (issue 8): tests/mpi under mpiexec -n 2 and -n 4 (pytest-mpi).
# Usage: scripts/test_mpi.sh [extra pytest args]. Needs mpi4py, pytest-mpi, an mpiexec on PATH
# and arraymorph importable (set PYTHONPATH to a private install, e.g. /tmp/am-mpi-site).
# Skips (exit 0 with a message) when arraymorph was built without MPI.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
if ! "$PY" -c 'import mpi4py, pytest_mpi' 2>/dev/null; then
  echo "test_mpi.sh: mpi4py / pytest-mpi missing" >&2; exit 1
fi
if ! "$PY" -c 'import arraymorph, sys; sys.exit(0 if arraymorph._core.collective_available() else 3)'; then
  # The test command requires MPI (the bootstrap installs it); by hand a serial build may skip.
  if [[ ${ARRAYMORPH_REQUIRE_MPI:-0} == 1 ]]; then
    echo "test_mpi.sh: arraymorph was built without MPI, but the MPI tests are required" >&2; exit 1
  fi
  echo "test_mpi.sh: arraymorph built without MPI: skipping the MPI tests"; exit 0
fi
MPIEXEC=${MPIEXEC:-mpiexec}
TIMEOUT=${ARRAYMORPH_MPI_TIMEOUT:-900}
for n in ${ARRAYMORPH_MPI_SIZES:-2 4}; do
  echo "== mpiexec -n $n pytest --with-mpi tests/mpi"
  timeout "$TIMEOUT" "$MPIEXEC" -n "$n" "$PY" -m pytest --with-mpi tests/mpi -q -p no:cacheprovider "$@"
done
