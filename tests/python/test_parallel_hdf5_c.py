"""Parallel HDF5's C API through arraymorph (issue 8): examples/c/mpi_write_read.c, built with
mpicc against the installed connector and run with mpiexec -n 2 and -n 4 on the local store.

The program creates the file and dataset on every rank with H5Pset_fapl_mpio, writes interleaved
rows collectively (H5Pset_dxpl_mpio(H5FD_MPIO_COLLECTIVE)), reads overlapping windows, and rank 0
re-reads everything serially. Here we also check the store: one zarr.json per node and every
chunk object written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import arraymorph

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not arraymorph._core.collective_available(),
                                reason="arraymorph built without MPI")


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> Path:
    mpicc = shutil.which("mpicc")
    hdf5 = os.environ.get("HDF5_DIR")
    assert mpicc and hdf5, "needs mpicc and HDF5_DIR (source ~/.cache/arraymorph/env.sh)"
    libdir = arraymorph.get_plugin_path()
    exe = tmp_path_factory.mktemp("mpi-c") / "mpi_write_read"
    cmd = [mpicc, "-std=c99", "-Wall", "-Werror", "-O1", str(ROOT / "examples/c/mpi_write_read.c"), "-o", str(exe),
           f"-I{ROOT / 'include'}", f"-I{hdf5}/include", f"-L{libdir}", "-larraymorph", f"-L{hdf5}/lib",
           "-lhdf5", f"-Wl,-rpath,{libdir}:{hdf5}/lib"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return exe


@pytest.mark.parametrize("ranks", [2, 4])
def test_c_program_with_mpio_fapl_and_collective_dxpl(program, tmp_path, ranks):
    store = tmp_path / "store"
    store.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HDF5_VOL", "ARRAYMORPH_", "STORAGE_"))}
    proc = subprocess.run(["mpiexec", "-n", str(ranks), str(program), str(store)], capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = ranks * 6
    assert proc.stdout.strip() == (
        f"MPI C: {ranks} ranks, dataset field {rows}x10 float64 in 4x10 chunks, collective write + read, "
        "all values OK")
    f = store / "example_mpi.h5"
    meta = json.loads((f / "field" / "zarr.json").read_text())
    assert meta["shape"] == [rows, 10]
    assert meta["attributes"]["ranks"] == ranks
    chunks = sorted(p.relative_to(f / "field" / "c").as_posix() for p in (f / "field" / "c").rglob("*") if p.is_file())
    assert chunks == [f"{i}/0" for i in range(-(-rows // 4))]
    # Only what arraymorph writes: no temporary files left by concurrent writers.
    assert sorted(p.name for p in f.iterdir()) == ["field", "zarr.json"]
