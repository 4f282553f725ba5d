"""Mock Azure token endpoints on 127.0.0.1 for the credential tests: Microsoft Entra ID's
client-credentials grant, the VM Instance Metadata Service (IMDS) and App Service's
IDENTITY_ENDPOINT, in one small HTTP server of our own.

It runs in its own process (``TokenServer`` is a context manager that starts it): the code under
test fetches tokens while h5py holds the GIL, so a server thread of the test process could never
answer.

Endpoints (each checks what the real service checks that matters here, and answers 400/401 with
an OAuth error body otherwise):

- ``POST /{tenant}/oauth2/v2.0/token``: form with grant_type=client_credentials, client_id,
  scope=https://storage.azure.com/.default and either client_secret or client_assertion (+ its
  jwt-bearer type);
- ``GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=...``: header
  ``Metadata: true``;
- ``GET /msi/token?api-version=2019-08-01&resource=...``: header ``X-IDENTITY-HEADER``;
- ``GET /_stats``: JSON ``{"<endpoint>": count of tokens issued}``.

Tokens are unsigned JWTs with the issuer, audience and lifetime Azurite's ``--oauth basic``
checks (``iss`` https://sts.windows.net/<tenant>/, ``aud`` https://storage.azure.com), valid for
``expires_in`` seconds.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Optional

SCOPE = "https://storage.azure.com/.default"
RESOURCE = "https://storage.azure.com/"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(tenant: str, lifetime_s: int, subject: str) -> str:
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256"}
    claims = {"aud": "https://storage.azure.com", "iss": f"https://sts.windows.net/{tenant}/",
              "iat": now, "nbf": now - 60, "exp": now + lifetime_s, "sub": subject,
              "oid": subject, "tid": tenant}
    return ".".join([_b64url(json.dumps(header).encode()), _b64url(json.dumps(claims).encode()),
                     _b64url(b"not-a-signature")])


class _Handler(BaseHTTPRequestHandler):
    config: Dict[str, object] = {}
    issued: Dict[str, int] = {}

    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, status: int, body: Dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, error: str, description: str) -> None:
        self._send(status, {"error": error, "error_description": description})

    def _token(self, endpoint: str, subject: str, as_strings: bool) -> None:
        lifetime = int(self.config.get("expires_in", 3600))
        self.issued[endpoint] = self.issued.get(endpoint, 0) + 1
        token = make_jwt(str(self.config["tenant"]), lifetime, subject)
        if as_strings:  # IMDS and App Service send numbers as strings
            self._send(200, {"access_token": token, "expires_in": str(lifetime),
                             "expires_on": str(int(time.time()) + lifetime),
                             "resource": RESOURCE, "token_type": "Bearer"})
        else:
            self._send(200, {"access_token": token, "expires_in": lifetime,
                             "ext_expires_in": lifetime, "token_type": "Bearer"})

    def do_GET(self) -> None:  # noqa: N802
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/_stats":
            return self._send(200, dict(self.issued))
        if url.path == "/metadata/identity/oauth2/token":
            if self.headers.get("Metadata") != "true":
                return self._error(400, "invalid_request", "Required metadata header not specified")
            if query.get("api-version") != "2018-02-01" or query.get("resource") != RESOURCE:
                return self._error(400, "invalid_request", "bad api-version or resource")
            return self._token("imds", query.get("client_id", "system-assigned"), True)
        if url.path == "/msi/token":
            if self.headers.get("X-IDENTITY-HEADER") != self.config["identity_header"]:
                return self._error(401, "unauthorized", "X-IDENTITY-HEADER is missing or wrong")
            if query.get("api-version") != "2019-08-01" or query.get("resource") != RESOURCE:
                return self._error(400, "invalid_request", "bad api-version or resource")
            return self._token("app_service", query.get("client_id", "system-assigned"), True)
        self._error(404, "not_found", url.path)

    def do_POST(self) -> None:  # noqa: N802
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length", "0"))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        tenant = str(self.config["tenant"])
        if url.path != f"/{tenant}/oauth2/v2.0/token":
            return self._error(400, "invalid_tenant", f"AADSTS90002: tenant not found ({url.path})")
        if form.get("grant_type") != "client_credentials" or form.get("scope") != SCOPE:
            return self._error(400, "invalid_request", "grant_type or scope")
        if form.get("client_id") != self.config["client_id"]:
            return self._error(400, "unauthorized_client", "AADSTS700016: application not found")
        if "client_secret" in form:
            if form["client_secret"] != self.config["client_secret"]:
                return self._error(401, "invalid_client",
                                   "AADSTS7000215: Invalid client secret provided.")
            return self._token("client_secret", form["client_id"], False)
        if form.get("client_assertion_type") == ASSERTION_TYPE:
            if form.get("client_assertion") != self.config["assertion"]:
                return self._error(401, "invalid_client", "AADSTS700211: assertion rejected")
            return self._token("workload_identity", form["client_id"], False)
        self._error(400, "invalid_request", "no client credential")


def serve(config: Dict[str, object]) -> None:
    _Handler.config = config
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


class TokenServer:
    """Starts this module as a server process; ``url`` is its base, ``issued()`` its counters."""

    def __init__(self, tenant: str, client_id: str, client_secret: str, assertion: str,
                 identity_header: str, expires_in: int = 3600) -> None:
        self.config = {"tenant": tenant, "client_id": client_id, "client_secret": client_secret,
                       "assertion": assertion, "identity_header": identity_header,
                       "expires_in": expires_in}
        self._proc: Optional[subprocess.Popen] = None
        self.url = ""

    def __enter__(self) -> "TokenServer":
        self._proc = subprocess.Popen([sys.executable, os.path.abspath(__file__),
                                       json.dumps(self.config)],
                                      stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        assert self._proc.stdout is not None
        port = self._proc.stdout.readline().strip()
        if not port:
            raise RuntimeError("the mock token server did not start")
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
            self._proc = None

    def issued(self) -> Dict[str, int]:
        with urllib.request.urlopen(self.url + "/_stats", timeout=10) as r:
            return json.loads(r.read())


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]))
