"""The Azure Blob backend against a real Azurite started by this module (SharedKey enforced).

- The C++ store conformance suite (``test_store_conformance``, doctest) on ``az://<container>``.
- ``azure_store_probe smoke``: 1,200-chunk put_many/get_many batches with absent chunks, a block
  upload, ranged reads across a block boundary, paginated listing and delete_prefix.
- A wrong account key and a missing container give the right error, quickly, without the key.

Both executables come from the CMake build directory named by ``ARRAYMORPH_BUILD_DIR`` (default:
``build`` in the repository); a missing executable is a failure, never a skip.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers.azurite import ACCOUNT, ACCOUNT_KEY, Azurite, account_sas  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
# base64 of "not-a-real-key-0123456789": well-formed, wrong.
WRONG_KEY = "bm90LWEtcmVhbC1rZXktMDEyMzQ1Njc4OQ=="
# Errors must come back well within this; retries apply only to 429/5xx/timeouts.
ERROR_DEADLINE_S = 20.0


def _build_dir() -> Path:
    return Path(os.environ.get("ARRAYMORPH_BUILD_DIR", REPO / "build"))


def _executable(name: str) -> Path:
    build = _build_dir()
    direct = build / "tests" / "cpp" / name  # where tests/cpp/CMakeLists.txt puts them
    if direct.is_file() and os.access(direct, os.X_OK):
        return direct
    found = sorted((p for p in build.rglob(name) if p.is_file() and os.access(p, os.X_OK)),
                   key=lambda p: (len(p.parts), str(p)))
    if not found:
        pytest.fail(f"{name} not found under {build} (build it, or set ARRAYMORPH_BUILD_DIR)")
    return found[0]


@pytest.fixture(scope="module")
def azurite():
    with Azurite() as server:
        yield server


@pytest.fixture(scope="module")
def container(azurite):
    name = "am-" + uuid.uuid4().hex[:12]
    azurite.create_container(name)
    return name


def _env(azurite, container, **overrides):
    env = dict(os.environ)
    for var in ("AZURE_STORAGE_SAS_TOKEN", "AWS_ENDPOINT_URL_S3", "ARRAYMORPH_LOCAL_ROOT"):
        env.pop(var, None)
    env.update(azurite.env(container))
    env.update(overrides)
    return env


def _run(args, env, timeout):
    start = time.monotonic()
    proc = subprocess.run([str(a) for a in args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    return proc, time.monotonic() - start


def test_store_conformance_suite(azurite, container):
    env = _env(azurite, container, ARRAYMORPH_TEST_STORE_URL=f"az://{container}")
    proc, _ = _run([_executable("test_store_conformance"),
                    "--test-case=store at ARRAYMORPH_TEST_STORE_URL conforms"], env, 600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    # The Azure case must actually have run (the other, filtered-out cases count as "skipped").
    assert re.search(r"test cases:\s+1 \|\s+1 passed \| 0 failed", out), out[-2000:]
    # The suite left nothing behind.
    assert azurite.list_blobs(container, "conformance-") == []


def test_store_conformance_suite_with_sas(azurite, container):
    sas = account_sas()
    env = _env(azurite, container, ARRAYMORPH_TEST_STORE_URL=f"az://{container}",
               AZURE_STORAGE_CONNECTION_STRING=azurite.sas_connection_string(sas))
    proc, _ = _run([_executable("test_store_conformance"),
                    "--test-case=store at ARRAYMORPH_TEST_STORE_URL conforms"], env, 600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert re.search(r"test cases:\s+1 \|\s+1 passed \| 0 failed", out), out[-2000:]


def test_sas_token_variable_and_its_errors(azurite, container):
    azurite.put_blob(container, "sas/x", b"abc")
    endpoint_only = f"BlobEndpoint={azurite.blob_endpoint}"
    probe = _executable("azure_store_probe")
    # AZURE_STORAGE_SAS_TOKEN supplies the credential (with or without the leading '?').
    env = _env(azurite, container, AZURE_STORAGE_CONNECTION_STRING=endpoint_only,
               AZURE_STORAGE_SAS_TOKEN="?" + account_sas(permissions="rl"))
    proc, _ = _run([probe, "get", container, "sas/x"], env, 60)
    assert proc.stdout.strip() == "ok size 3", proc.stdout + proc.stderr
    # A SAS signed with another key is refused with the same hint, and the token is not echoed.
    bad = account_sas(key=WRONG_KEY)
    env = _env(azurite, container, AZURE_STORAGE_CONNECTION_STRING=endpoint_only,
               AZURE_STORAGE_SAS_TOKEN=bad)
    proc, elapsed = _run([probe, "get", container, "sas/x"], env, 60)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and out.startswith("error permission_denied:"), out
    assert elapsed < ERROR_DEADLINE_S
    assert "SAS" in out and f"container '{container}'" in out
    assert bad.split("sig=")[1] not in out
    # Neither key nor SAS: a configuration error naming both variables.
    env = _env(azurite, container, AZURE_STORAGE_CONNECTION_STRING=endpoint_only)
    proc, _ = _run([probe, "get", container, "sas/x"], env, 60)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and out.startswith("error invalid_argument:"), out
    assert "AZURE_STORAGE_SAS_TOKEN" in out and "AccountKey" in out


def test_smoke_batches_blocks_listing(azurite, container):
    proc, _ = _run([_executable("azure_store_probe"), "smoke", container, "smoke/"],
                   _env(azurite, container), 600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert proc.stdout.startswith("ok "), proc.stdout
    assert azurite.list_blobs(container, "smoke/") == []


def test_reads_what_the_harness_wrote(azurite, container):
    azurite.put_blob(container, "interop/a b+c.bin", b"0123456789")
    proc, _ = _run([_executable("azure_store_probe"), "get", container, "interop/a b+c.bin"],
                   _env(azurite, container), 60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "ok size 10"
    proc, _ = _run([_executable("azure_store_probe"), "get", container, "interop/never-written"],
                   _env(azurite, container), 60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "ok missing"


def test_wrong_key_is_a_clean_permission_error(azurite, container):
    env = _env(azurite, container,
               AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string(key=WRONG_KEY))
    proc, elapsed = _run([_executable("azure_store_probe"), "get", container, "any/key"], env, 60)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert elapsed < ERROR_DEADLINE_S
    assert out.startswith("error permission_denied:"), out
    assert ACCOUNT in out and f"container '{container}'" in out
    assert "clock" in out and "key" in out
    assert WRONG_KEY not in out and ACCOUNT_KEY not in out


def test_missing_container_is_named(azurite, container):
    proc, elapsed = _run([_executable("azure_store_probe"), "get", "no-such-container", "k"],
                         _env(azurite, "no-such-container"), 60)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert elapsed < ERROR_DEADLINE_S
    assert out.startswith("error not_found:"), out
    assert "container 'no-such-container' does not exist" in out
    assert ACCOUNT_KEY not in out


def test_unreachable_endpoint_fails_in_bounded_time(azurite, container):
    # Nothing listens on a freshly closed port: the transport reports "connection refused" (final
    # or retried, as the transport classifies it) and the store fails within the retry budget.
    from servers.azurite import free_port

    dead = azurite.connection_string().replace(str(azurite.port), str(free_port()))
    env = _env(azurite, container, AZURE_STORAGE_CONNECTION_STRING=dead,
               ARRAYMORPH_RETRY_MAX_ATTEMPTS="3")
    proc, elapsed = _run([_executable("azure_store_probe"), "get", container, "k"], env, 60)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert elapsed < ERROR_DEADLINE_S
    assert out.startswith("error unavailable"), out
    assert f"az://{ACCOUNT}/{container}" in out
    assert re.search(r"after [123] attempts?\)", out), out
