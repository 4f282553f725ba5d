"""Azurite (Azure Blob emulator) for the test suites: started on 127.0.0.1, stopped at the end.

``Azurite`` is a context manager::

    with Azurite() as az:
        az.create_container("data")
        os.environ.update(az.env("data"))   # STORAGE_PLATFORM, BUCKET_NAME, connection string

It runs ``azurite-blob`` (npm ``azurite@3.35.0``, see BOOTSTRAP.md) on a free port with in-memory
persistence, so it leaves nothing on disk beyond a temporary workspace. With ``cert``/``key`` (PEM
files) it serves HTTPS, and ``oauth="basic"`` makes it accept OAuth bearer tokens (Azurite takes
them only over HTTPS; it checks issuer, audience and lifetime, not the signature: see
``servers/azure_tokens.py``). Shared Key checking is on,
with the emulator's published account ``devstoreaccount1`` and its well-known key; a wrong key
gets HTTP 403.

The harness talks to Azurite with a tiny Shared Key signer of its own (``sign``), written from
Azure's "Authorize with Shared Key" rules, so it depends neither on the Azure SDK nor on the C++
code under test.

``AzureBackend`` has the same members as ``conftest.LocalBackend`` (``name``, ``url``, ``root``,
``list_keys``) for the parametrised ``backend`` fixture.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.parse
import xml.etree.ElementTree as ET
from email.utils import formatdate
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ACCOUNT = "devstoreaccount1"
# Published in Azure's emulator documentation: not a secret.
ACCOUNT_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
               "K1SZFPTOtr/KBHBeksoGMGw==")
API_VERSION = "2021-08-06"


def find_azurite() -> str:
    """Path of ``azurite-blob``: $ARRAYMORPH_AZURITE, PATH, then the bootstrap's npm prefix."""
    explicit = os.environ.get("ARRAYMORPH_AZURITE")
    if explicit:
        return explicit
    found = shutil.which("azurite-blob")
    if found:
        return found
    cached = (Path.home() / ".cache/arraymorph/npm/azurite-3.35.0/node_modules/.bin/azurite-blob")
    if cached.exists():
        return str(cached)
    raise RuntimeError("azurite-blob not found: run scripts/bootstrap.sh (npm azurite@3.35.0) "
                       "or set ARRAYMORPH_AZURITE")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def string_to_sign(method: str, path: str, query: Dict[str, str], headers: Dict[str, str],
                   account: str = ACCOUNT) -> str:
    """Shared Key string to sign (Blob service, version 2015-02-21 and later)."""
    h = {k.lower(): v for k, v in headers.items()}
    length = h.get("content-length", "")
    fields = [method, h.get("content-encoding", ""), h.get("content-language", ""),
              "" if length == "0" else length, h.get("content-md5", ""),
              h.get("content-type", ""), h.get("date", ""), h.get("if-modified-since", ""),
              h.get("if-match", ""), h.get("if-none-match", ""),
              h.get("if-unmodified-since", ""), h.get("range", "")]
    canon_headers = "".join(f"{k}:{h[k].strip()}\n" for k in sorted(h) if k.startswith("x-ms-"))
    resource = f"/{account}{path}" + "".join(
        f"\n{k.lower()}:{query[k]}" for k in sorted(query, key=str.lower))
    return "\n".join(fields) + "\n" + canon_headers + resource


def sign(method: str, path: str, query: Dict[str, str], headers: Dict[str, str],
         key: str = ACCOUNT_KEY, account: str = ACCOUNT) -> None:
    """Adds x-ms-date, x-ms-version and Authorization to ``headers`` (in place)."""
    headers.setdefault("x-ms-version", API_VERSION)
    headers["x-ms-date"] = formatdate(usegmt=True)
    mac = hmac.new(base64.b64decode(key),
                   string_to_sign(method, path, query, headers, account).encode(), hashlib.sha256)
    headers["Authorization"] = f"SharedKey {account}:{base64.b64encode(mac.digest()).decode()}"


def account_sas(permissions: str = "rwdlac", expiry: str = "2099-01-01T00:00:00Z",
                key: str = ACCOUNT_KEY, account: str = ACCOUNT) -> str:
    """An account SAS token for the Blob service (no leading '?'), signed per Azure's "Create an
    account SAS" rules for version 2020-12-06 and later (the field list ends with the encryption
    scope and a final newline)."""
    fields = {"sv": API_VERSION, "ss": "b", "srt": "sco", "sp": permissions, "se": expiry}
    to_sign = "\n".join([account, permissions, "b", "sco", "", expiry, "", "", API_VERSION, "",
                         ""])
    mac = hmac.new(base64.b64decode(key), to_sign.encode(), hashlib.sha256)
    fields["sig"] = base64.b64encode(mac.digest()).decode()
    return urllib.parse.urlencode(fields, quote_via=urllib.parse.quote)


class Azurite:
    """One azurite-blob process on a free 127.0.0.1 port; see the module docstring."""

    def __init__(self, startup_timeout: float = 60.0, cert: Optional[str] = None,
                 key: Optional[str] = None, oauth: Optional[str] = None) -> None:
        self.cert, self.key, self.oauth = cert, key, oauth
        self.port = free_port()
        self.host = "127.0.0.1"
        self.startup_timeout = startup_timeout
        self._proc: Optional[subprocess.Popen] = None
        self._workdir: Optional[tempfile.TemporaryDirectory] = None
        self._log = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "Azurite":
        self._workdir = tempfile.TemporaryDirectory(prefix="arraymorph-azurite-")
        log_path = Path(self._workdir.name) / "azurite.log"
        self._log = open(log_path, "wb")
        cmd = [find_azurite(), "--blobHost", self.host, "--blobPort", str(self.port),
               "--inMemoryPersistence", "--disableTelemetry", "--silent", "--skipApiVersionCheck"]
        if self.cert:
            cmd += ["--cert", self.cert, "--key", self.key]
        if self.oauth:
            cmd += ["--oauth", self.oauth]
        # Azurite 3.35 refuses --location together with --inMemoryPersistence; running it in the
        # temporary workspace keeps anything it might still write there.
        self._proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, cwd=self._workdir.name)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"azurite-blob exited with {self._proc.returncode}: "
                                   f"{self._read_log()}")
            try:
                # Any authenticated answer means the blob service is serving requests.
                status, _, _ = self.request("GET", "/", {"comp": "list"})
                if status == 200:
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"azurite-blob not ready on port {self.port} after "
                                   f"{self.startup_timeout:.0f} s")
            time.sleep(0.1)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> "Azurite":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _read_log(self) -> str:
        if self._workdir is None:
            return ""
        try:
            return (Path(self._workdir.name) / "azurite.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    # ------------------------------------------------------------------ addresses
    @property
    def blob_endpoint(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}/{ACCOUNT}"

    @property
    def scheme(self) -> str:
        return "https" if self.cert else "http"

    def connection_string(self, key: str = ACCOUNT_KEY) -> str:
        return (f"DefaultEndpointsProtocol={self.scheme};AccountName={ACCOUNT};AccountKey={key};"
                f"BlobEndpoint={self.blob_endpoint};")

    def sas_connection_string(self, sas: str) -> str:
        """Endpoint and SAS only: no account name or key, as a portal "SAS connection string"."""
        return f"BlobEndpoint={self.blob_endpoint};SharedAccessSignature={sas}"

    def env(self, container: str) -> Dict[str, str]:
        """The connector's environment for this server and container."""
        return {"STORAGE_PLATFORM": "Azure", "BUCKET_NAME": container,
                "AZURE_STORAGE_CONNECTION_STRING": self.connection_string()}

    # ------------------------------------------------------------------ REST helpers
    def request(self, method: str, path: str, query: Optional[Dict[str, str]] = None,
                body: bytes = b"", headers: Optional[Dict[str, str]] = None
                ) -> Tuple[int, Dict[str, str], bytes]:
        """Signed request; ``path`` is below the account ("/container/blob", unencoded)."""
        query = dict(query or {})
        headers = dict(headers or {})
        full_path = urllib.parse.quote(f"/{ACCOUNT}{path}" if path != "/" else f"/{ACCOUNT}/")
        if body or method in ("PUT", "POST"):
            headers["Content-Length"] = str(len(body))
        sign(method, full_path, query, headers)
        url = full_path + ("?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
                           if query else "")
        if self.cert:
            conn = http.client.HTTPSConnection(
                self.host, self.port, timeout=10,
                context=ssl.create_default_context(cafile=self.cert))
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, url, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def create_container(self, name: str) -> None:
        status, _, body = self.request("PUT", f"/{name}", {"restype": "container"})
        if status not in (201, 409):
            raise RuntimeError(f"Create Container {name}: HTTP {status} {body[:200]!r}")

    def put_blob(self, container: str, key: str, data: bytes) -> None:
        status, _, body = self.request("PUT", f"/{container}/{key}", body=data,
                                       headers={"x-ms-blob-type": "BlockBlob"})
        if status != 201:
            raise RuntimeError(f"Put Blob {key}: HTTP {status} {body[:200]!r}")

    def get_blob(self, container: str, key: str) -> Optional[bytes]:
        status, _, body = self.request("GET", f"/{container}/{key}")
        if status == 404:
            return None
        if status != 200:
            raise RuntimeError(f"Get Blob {key}: HTTP {status} {body[:200]!r}")
        return body

    def list_blobs(self, container: str, prefix: str = "") -> List[str]:
        """Every blob name below ``prefix``, following NextMarker."""
        names: List[str] = []
        marker = ""
        while True:
            query = {"restype": "container", "comp": "list"}
            if prefix:
                query["prefix"] = prefix
            if marker:
                query["marker"] = marker
            status, _, body = self.request("GET", f"/{container}", query)
            if status != 200:
                raise RuntimeError(f"List Blobs {container}: HTTP {status} {body[:200]!r}")
            root = ET.fromstring(body)
            names += [b.findtext("Name") or "" for b in root.iter("Blob")]
            marker = root.findtext("NextMarker") or ""
            if not marker:
                return sorted(names)


class AzureBackend:
    """A fresh container on a running Azurite, used as an ``az://`` store by the test suites."""

    name = "azure"

    def __init__(self, server: Azurite, container: str) -> None:
        self.server = server
        self.container = container
        self.root = container
        server.create_container(container)

    def url(self, name: str) -> str:
        return f"az://{self.container}/{name}"

    def env(self) -> Dict[str, str]:
        return self.server.env(self.container)

    def list_keys(self, prefix: str = "") -> List[str]:
        return self.server.list_blobs(self.container, prefix)
