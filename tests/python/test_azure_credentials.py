"""Every Azure credential source ends in a real read of a dataset from Azurite through h5py.

Azurite accepts OAuth bearer tokens only over HTTPS with ``--oauth basic``, so this module starts
its own Azurite with a self-signed certificate for 127.0.0.1 (trusted through
ARRAYMORPH_AZURE_CA_BUNDLE) next to a mock token server of our own (``servers/azure_tokens.py``:
Entra ID, IMDS, App Service). Sources: Shared Key and SAS (connection string), service principal
(AZURE_CLIENT_SECRET), workload identity (AZURE_FEDERATED_TOKEN_FILE), managed identity through
IMDS (AZURE_POD_IDENTITY_AUTHORITY_HOST) and through IDENTITY_ENDPOINT/IDENTITY_HEADER.

Each read runs with ARRAYMORPH_LOG_LEVEL=debug and the test asserts that no secret and no token
appears in anything the process printed. Also: a token refreshed before it expires during a long
job, a wrong client secret reported as such, and bearer tokens refused by the emulator over plain
HTTP (so the HTTPS setup is what makes the read pass).
"""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import h5py
import numpy as np
import pytest

from servers.azure_tokens import TokenServer
from servers.azurite import ACCOUNT, ACCOUNT_KEY, Azurite, account_sas

TENANT = "72f988bf-0000-4000-8000-00000000test"
CLIENT_ID = "0c0e1f00-aaaa-4bbb-8ccc-client000001"
CLIENT_SECRET = "sp-secret-" + uuid.uuid4().hex
ASSERTION = "federated-assertion-" + uuid.uuid4().hex
IDENTITY_HEADER = "identity-header-" + uuid.uuid4().hex
SECRETS = [CLIENT_SECRET, ASSERTION, IDENTITY_HEADER, ACCOUNT_KEY]
DATA = np.arange(600, dtype="f8").reshape(20, 30)


@pytest.fixture(scope="module")
def cert(tmp_path_factory) -> Path:
    """A self-signed certificate for IP 127.0.0.1 (and its key next to it)."""
    d = tmp_path_factory.mktemp("azurite-tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
                   check=True, capture_output=True)
    return d / "cert.pem"


@pytest.fixture(scope="module")
def azurite_tls(cert):
    with Azurite(cert=str(cert), key=str(cert.with_name("key.pem")), oauth="basic") as server:
        yield server


@pytest.fixture(scope="module")
def tokens():
    with TokenServer(TENANT, CLIENT_ID, CLIENT_SECRET, ASSERTION, IDENTITY_HEADER) as server:
        yield server


@pytest.fixture(scope="module")
def container(azurite_tls, cert):
    """A container holding az://<container>/cred.h5 (written with Shared Key over HTTPS)."""
    name = "am-cred-" + uuid.uuid4().hex[:10]
    azurite_tls.create_container(name)
    with pytest.MonkeyPatch.context() as mp:
        _common_env(mp, azurite_tls, cert)
        mp.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_tls.connection_string())
        with h5py.File(f"az://{name}/cred.h5", "w") as f:
            f.create_dataset("d", data=DATA, chunks=(10, 10))
    return name


def _common_env(mp, server: Azurite, cert: Path) -> None:
    mp.setenv("STORAGE_PLATFORM", "Azure")
    mp.setenv("ARRAYMORPH_AZURE_CA_BUNDLE", str(cert))
    mp.setenv("ARRAYMORPH_LOG_LEVEL", "debug")
    mp.setenv("ARRAYMORPH_RETRY_TOTAL_TIMEOUT", "20")
    # Endpoint only: the credential comes from the source under test.
    mp.setenv("AZURE_STORAGE_CONNECTION_STRING", f"BlobEndpoint={server.blob_endpoint}")


def _source_env(source: str, server: Azurite, tokens: TokenServer, tmp_path: Path) -> dict:
    if source == "shared_key":
        return {"AZURE_STORAGE_CONNECTION_STRING": server.connection_string()}
    if source == "sas":
        return {"AZURE_STORAGE_SAS_TOKEN": account_sas()}
    if source == "client_secret":
        return {"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": CLIENT_ID,
                "AZURE_CLIENT_SECRET": CLIENT_SECRET, "AZURE_AUTHORITY_HOST": tokens.url}
    if source == "workload_identity":
        token_file = tmp_path / "azure-identity-token"
        token_file.write_text(ASSERTION + "\n")
        return {"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": CLIENT_ID,
                "AZURE_FEDERATED_TOKEN_FILE": str(token_file), "AZURE_AUTHORITY_HOST": tokens.url}
    if source == "managed_identity_imds":
        return {"ARRAYMORPH_AZURE_CREDENTIAL": "managed_identity",
                "AZURE_POD_IDENTITY_AUTHORITY_HOST": tokens.url}
    if source == "managed_identity_app_service":
        return {"IDENTITY_ENDPOINT": tokens.url + "/msi/token", "IDENTITY_HEADER": IDENTITY_HEADER}
    raise AssertionError(source)


# source -> the token server's counter it must have moved (None: no token involved)
SOURCES = {"shared_key": None, "sas": None, "client_secret": "client_secret",
           "workload_identity": "workload_identity", "managed_identity_imds": "imds",
           "managed_identity_app_service": "app_service"}


def _assert_no_secret(text: str) -> None:
    for secret in SECRETS + [account_sas().split("sig=")[1]]:
        assert secret not in text
    # Tokens are JWTs: their header's base64 starts with "eyJ".
    assert "eyJ0eXAi" not in text, text[-2000:]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("source", list(SOURCES))
def test_each_source_reads_a_dataset(source, azurite_tls, cert, tokens, container, monkeypatch,
                                     tmp_path, capfd):
    _common_env(monkeypatch, azurite_tls, cert)
    for k, v in _source_env(source, azurite_tls, tokens, tmp_path).items():
        monkeypatch.setenv(k, v)
    before = tokens.issued().get(SOURCES[source] or "", 0)
    with h5py.File(f"az://{container}/cred.h5", "r") as f:
        np.testing.assert_array_equal(f["d"][...], DATA)
    counter = SOURCES[source]
    if counter:
        assert tokens.issued().get(counter, 0) == before + 1
    out, err = capfd.readouterr()
    if counter:
        assert "new access token from Azure" in err  # the debug line was written ...
    _assert_no_secret(out + err)                  # ... and nothing secret with it


@pytest.mark.timeout(120)
def test_token_refreshed_before_expiry(azurite_tls, cert, container, monkeypatch, capfd):
    """Tokens valid for 6 s are refreshed 3 s before expiry; a job outliving one keeps reading."""
    with TokenServer(TENANT, CLIENT_ID, CLIENT_SECRET, ASSERTION, IDENTITY_HEADER,
                     expires_in=6) as short:
        _common_env(monkeypatch, azurite_tls, cert)
        monkeypatch.setenv("ARRAYMORPH_AZURE_CREDENTIAL", "managed_identity")
        monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", short.url)
        with h5py.File(f"az://{container}/cred.h5", "r") as f:
            np.testing.assert_array_equal(f["d"][:10], DATA[:10])
            assert short.issued()["imds"] == 1
            time.sleep(3.5)  # inside the refresh margin, before expiry
            np.testing.assert_array_equal(f["d"][10:], DATA[10:])
            assert short.issued()["imds"] == 2
            np.testing.assert_array_equal(f["d"][...], DATA)
            assert short.issued()["imds"] == 2  # cached again
    _assert_no_secret("".join(capfd.readouterr()))


@pytest.mark.timeout(120)
def test_wrong_client_secret_is_named_not_shown(azurite_tls, cert, tokens, container, monkeypatch,
                                                capfd):
    _common_env(monkeypatch, azurite_tls, cert)
    wrong = "wrong-secret-" + uuid.uuid4().hex
    monkeypatch.setenv("AZURE_TENANT_ID", TENANT)
    monkeypatch.setenv("AZURE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", wrong)
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", tokens.url)
    with pytest.raises(OSError) as info:
        with h5py.File(f"az://{container}/cred.h5", "r") as f:
            f["d"][...]
    out, err = capfd.readouterr()
    text = str(info.value) + out + err
    assert "service principal" in text and "HTTP 401" in text and "invalid_client" in text, text
    assert wrong not in text
    _assert_no_secret(text)


@pytest.mark.timeout(120)
def test_bearer_needs_https_so_the_setup_is_what_passes(azurite_tls, cert, tokens, container):
    """Control: the emulator refuses a valid bearer token over plain HTTP. The reads above pass
    because of the token over HTTPS, not because the emulator ignores authorization."""
    with Azurite(oauth="basic") as plain:
        plain.create_container("plain-c")
        with pytest.MonkeyPatch.context() as mp:
            _common_env(mp, plain, cert)
            mp.setenv("ARRAYMORPH_AZURE_CREDENTIAL", "managed_identity")
            mp.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", tokens.url)
            with pytest.raises(OSError) as info:
                h5py.File("az://plain-c/plain.h5", "w").close()
    assert "HTTP 401" in str(info.value) or "HTTP 403" in str(info.value), str(info.value)
    assert "plain-c" in str(info.value)
