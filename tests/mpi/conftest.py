"""Shared set-up of the MPI suite (scripts/test_mpi.sh runs it under mpiexec -n 2 and -n 4).

Rank 0 starts one SeaweedFS (S3, SigV4) for the session and broadcasts its settings; every rank
points arraymorph at it through the environment.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

MPI = pytest.importorskip("mpi4py.MPI")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mpi_helpers import COMM, RANK  # noqa: E402


@pytest.fixture(scope="session")
def s3():
    """Settings of a SeaweedFS started by rank 0 (None elsewhere), applied on every rank."""
    server, env, error = None, None, None
    if RANK == 0:
        try:
            from servers.seaweedfs import SeaweedFS

            server = SeaweedFS().start()
            env = server.env()
            env.update({"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
                        "AWS_CONFIG_FILE": "/nonexistent/config"})
        except Exception as exc:  # noqa: BLE001 - reported on every rank
            error = f"{type(exc).__name__}: {exc}"
    env, error = COMM.bcast((env, error), root=0)
    if error:
        pytest.fail(f"SeaweedFS did not start on rank 0: {error}")
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    prefix = COMM.bcast(f"mpi-{uuid.uuid4().hex[:10]}" if RANK == 0 else None, root=0)
    try:
        yield f"s3://{env['BUCKET_NAME']}/{prefix}"
    finally:
        COMM.Barrier()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if server is not None:
            server.stop()
