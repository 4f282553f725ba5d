"""Azure Blob through unchanged h5py, against the session's Azurite (SharedKey enforced).

- A wrong account key and a missing container: h5py raises OSError naming the account or the
  container, never showing the key, within 30 s.
- An unreachable endpoint: OSError naming host and port, within 30 s.
- SAS authorisation (SAS connection string; endpoint + AZURE_STORAGE_SAS_TOKEN), as
  docs/configuration.md shows it, and a SAS without write permission refused cleanly.
- A read touching 1,600 chunks (the published connector hung above 256), values checked, and a
  strided read across all of them.
"""

from __future__ import annotations

import time
import uuid

import h5py
import numpy as np
import pytest

import arraymorph
from failure_checks import DEADLINE_S, expect_clean_oserror
from servers.azurite import ACCOUNT, ACCOUNT_KEY, account_sas, free_port

# base64 of "not-a-real-key-0123456789": well-formed, wrong.
WRONG_KEY = "bm90LWEtcmVhbC1rZXktMDEyMzQ1Njc4OQ=="


@pytest.fixture
def container(azurite, monkeypatch):
    name = "am-h5py-" + uuid.uuid4().hex[:12]
    azurite.create_container(name)
    monkeypatch.delenv("AZURE_STORAGE_SAS_TOKEN", raising=False)
    for k, v in azurite.env(name).items():
        monkeypatch.setenv(k, v)
    return name


def _expect_clean_oserror(url: str, mode: str, must_name: list) -> str:
    return expect_clean_oserror(url, mode, must_name, [ACCOUNT_KEY, WRONG_KEY])


@pytest.mark.timeout(60)
def test_wrong_key(azurite, container, monkeypatch):
    with h5py.File(f"az://{container}/there.h5", "w") as f:
        f["d"] = np.arange(10)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string(WRONG_KEY))
    for name, mode in (("new.h5", "w"), ("there.h5", "r")):
        msg = _expect_clean_oserror(f"az://{container}/{name}", mode, [container])
        assert ACCOUNT in msg or "403" in msg, msg


@pytest.mark.timeout(60)
def test_wrong_key_through_configure_azure(azurite, container):
    arraymorph.configure_azure(container, azurite.connection_string(WRONG_KEY))
    _expect_clean_oserror("cfg.h5", "w", [container])


@pytest.mark.timeout(60)
def test_missing_container(azurite, container):
    missing = "no-such-container-" + uuid.uuid4().hex[:8]
    for mode in ("w", "r"):
        _expect_clean_oserror(f"az://{missing}/x.h5", mode, [missing])


@pytest.mark.timeout(60)
def test_server_down(azurite, container, monkeypatch):
    port = free_port()  # nothing listens there
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING",
                       azurite.connection_string().replace(str(azurite.port), str(port)))
    for mode in ("w", "r"):
        _expect_clean_oserror(f"az://{container}/down.h5", mode, [f"127.0.0.1:{port}"])


@pytest.mark.timeout(120)
def test_sas_connection_string_and_sas_token_variable(azurite, container, monkeypatch):
    data = np.arange(60.0).reshape(6, 10)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING",
                       azurite.sas_connection_string(account_sas()))
    with h5py.File(f"az://{container}/sas.h5", "w") as f:
        f.create_dataset("d", data=data, chunks=(3, 5))
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", f"BlobEndpoint={azurite.blob_endpoint}")
    monkeypatch.setenv("AZURE_STORAGE_SAS_TOKEN", "?" + account_sas(permissions="rl"))
    with h5py.File(f"az://{container}/sas.h5", "r") as f:
        np.testing.assert_array_equal(f["d"][...], data)
    # A read-only SAS cannot create a file: a clean error, the token not echoed.
    read_only = account_sas(permissions="rl")
    monkeypatch.setenv("AZURE_STORAGE_SAS_TOKEN", read_only)
    t0 = time.monotonic()
    with pytest.raises(OSError) as e:
        with h5py.File(f"az://{container}/sas2.h5", "w") as f:
            f["d"] = np.arange(3)
    assert time.monotonic() - t0 < DEADLINE_S
    assert container in str(e.value)
    assert read_only.split("sig=")[1] not in str(e.value)


@pytest.mark.timeout(300)
def test_read_touching_1600_chunks(container):
    url = f"az://{container}/many.h5"
    data = np.arange(40 * 40, dtype="<i4").reshape(40, 40) * 7 - 3
    with h5py.File(url, "w") as f:
        f.create_dataset("d", data=data, chunks=(1, 1))
    arraymorph.reset_stats()
    with h5py.File(url, "r") as f:
        t0 = time.monotonic()
        np.testing.assert_array_equal(f["d"][...], data)  # 1,600 chunks in one read
        elapsed = time.monotonic() - t0
        np.testing.assert_array_equal(f["d"][::3, 1::2], data[::3, 1::2])
    assert elapsed < 120, f"1,600-chunk read took {elapsed:.1f} s"
    gets = arraymorph.stats()["get"]["requests"]
    assert gets >= 1600, arraymorph.stats()
