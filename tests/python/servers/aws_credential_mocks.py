"""Small AWS credential endpoints of our own, on 127.0.0.1, for the credential-chain tests.

* ``EcsEndpoint``: the ECS/EKS container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI,
  optional AWS_CONTAINER_AUTHORIZATION_TOKEN checked on every request).
* ``ImdsEndpoint``: EC2 instance metadata, IMDSv2 only (PUT /latest/api/token first; every GET
  must carry the token) -- AWS_EC2_METADATA_SERVICE_ENDPOINT.
* ``StsEndpoint``: STS AssumeRoleWithWebIdentity (AWS_ENDPOINT_URL_STS=localhost) and
  ``SsoPortal``: the IAM Identity Center portal's GetRoleCredentials (AWS_ENDPOINT_URL_SSO).
  aws-c-auth reaches both only over HTTPS on port 443, so they listen on 127.0.0.1:443 (one at
  a time per machine, under a lock file) with a certificate of a test CA (``TlsFiles``) that
  the client trusts through AWS_CA_BUNDLE.
* ``TokenGateway``: an S3 front for SeaweedFS that accepts temporary credentials. SeaweedFS
  refuses a request carrying x-amz-security-token unless its own STS issued the token, so
  credentials with a session token (IMDS always has one) are checked here as AWS would: the
  request's SigV4 signature is recomputed with the temporary secret and must match, and the
  token must be the one issued; the request is then re-signed with the server's permanent keys
  and forwarded. A wrong secret or token gets 403 like AWS.

Each endpoint hands out the credentials of ``issue`` in turn (the last one repeats; for the ECS
endpoint an entry ``{"HttpStatus": 500}`` is an outage), counts its requests in ``hits``, and
runs in a daemon thread until ``stop()``.
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import hmac
import json
import ssl
import subprocess
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def expiring_in(seconds: float) -> str:
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Server:
    def __init__(self, handler_cls, port: int = 0, tls: "TlsFiles | None" = None):
        self._port_lock = None
        if port:
            # A fixed port (443): one server at a time on this machine, whichever checkout runs it.
            self._port_lock = open(f"/tmp/arraymorph-loopback-{port}.lock", "w")
            fcntl.flock(self._port_lock, fcntl.LOCK_EX)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler_cls)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls.cert, tls.key)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]
        self.hits = 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._port_lock:
            self._port_lock.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class _CredentialServer(_Server):
    def __init__(self, handler_cls, issue: list[dict], port: int = 0, tls=None):
        super().__init__(handler_cls, port, tls)
        self.issue = list(issue)
        self.served = 0

    def next_credentials(self) -> dict:
        """The next credentials, their Expiration counted from now (``credential_json``)."""
        with self.lock:
            creds = dict(self.issue[min(self.served, len(self.issue) - 1)])
            self.served += 1
        if "ExpiresIn" in creds:
            creds["Expiration"] = expiring_in(creds.pop("ExpiresIn"))
        return creds


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def reply(self, status: int, body: bytes, ctype: str = "application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def credential_json(access_key: str, secret_key: str, token: str | None, expires_in: float,
                    **extra) -> dict:
    """A credentials document; the server that hands it out sets Expiration = now + expires_in."""
    doc = {"AccessKeyId": access_key, "SecretAccessKey": secret_key, "ExpiresIn": expires_in,
           **extra}
    if token:
        doc["Token"] = token
    return doc


class _EcsHandler(_Handler):
    def do_GET(self):
        owner = self.server.owner
        with owner.lock:
            owner.hits += 1
        if owner.auth_token and self.headers.get("Authorization") != owner.auth_token:
            return self.reply(401, b'{"message":"bad authorization token"}')
        if self.path != owner.path:
            return self.reply(404, b"{}")
        creds = owner.next_credentials()
        if "HttpStatus" in creds:  # an outage of the endpoint
            return self.reply(creds["HttpStatus"], b'{"message":"unavailable"}')
        self.reply(200, json.dumps(creds).encode())


class EcsEndpoint(_CredentialServer):
    """GET <path> -> {"AccessKeyId", "SecretAccessKey", "Token"?, "Expiration"}."""

    def __init__(self, issue: list[dict], auth_token: str = "", path: str = "/v2/credentials/task"):
        super().__init__(_EcsHandler, issue)
        self.auth_token = auth_token
        self.path = path

    @property
    def full_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"


class _ImdsHandler(_Handler):
    def do_PUT(self):
        owner = self.server.owner
        with owner.lock:
            owner.hits += 1
        if self.path != "/latest/api/token" or not self.headers.get(
                "X-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(400, b"")
        self.reply(200, owner.session_token.encode(), "text/plain")

    def do_GET(self):
        owner = self.server.owner
        with owner.lock:
            owner.hits += 1
        if self.headers.get("X-aws-ec2-metadata-token") != owner.session_token:
            return self.reply(401, b"", "text/plain")  # IMDSv2 only: no token, no answer
        base = "/latest/meta-data/iam/security-credentials/"
        if self.path == base:
            return self.reply(200, owner.role.encode(), "text/plain")
        if self.path == base + owner.role:
            creds = dict(owner.next_credentials(), Code="Success", Type="AWS-HMAC")
            return self.reply(200, json.dumps(creds).encode())
        self.reply(404, b"", "text/plain")


class ImdsEndpoint(_CredentialServer):
    """IMDSv2: PUT /latest/api/token, then GET .../iam/security-credentials/[<role>]."""

    def __init__(self, issue: list[dict], role: str = "arraymorph-test-role"):
        super().__init__(_ImdsHandler, issue)
        self.role = role
        self.session_token = "imds-session-" + role[::-1]
        self.url = f"http://127.0.0.1:{self.port}"


# ------------------------------------------------------------------------------ HTTPS on :443

class TlsFiles:
    """A test CA and a server certificate for localhost / 127.0.0.1, made with the openssl CLI."""

    def __init__(self, directory):
        d = str(directory)
        self.ca, self.cert, self.key = f"{d}/ca.pem", f"{d}/server.pem", f"{d}/server.key"
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)  # noqa
        run("req", "-x509", *ec, "-keyout", f"{d}/ca.key", "-out", self.ca, "-days", "2",
            "-subj", "/CN=arraymorph test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        run("req", *ec, "-keyout", self.key, "-out", f"{d}/server.csr", "-subj", "/CN=localhost")
        with open(f"{d}/ext.cnf", "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        run("x509", "-req", "-in", f"{d}/server.csr", "-CA", self.ca, "-CAkey", f"{d}/ca.key",
            "-CAcreateserial", "-out", self.cert, "-days", "2", "-extfile", f"{d}/ext.cnf")


class _StsHandler(_Handler):
    def do_POST(self):
        owner = self.server.owner
        with owner.lock:
            owner.hits += 1
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        form = dict(urllib.parse.parse_qsl(body))
        if (form.get("Action") != "AssumeRoleWithWebIdentity" or form.get("RoleArn") != owner.role_arn
                or form.get("WebIdentityToken") != owner.web_identity_token):
            return self.reply(403, b"<ErrorResponse><Error><Code>AccessDenied</Code></Error>"
                                   b"</ErrorResponse>", "text/xml")
        c = owner.next_credentials()
        xml = ("<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
               f"<AccessKeyId>{c['AccessKeyId']}</AccessKeyId>"
               f"<SecretAccessKey>{c['SecretAccessKey']}</SecretAccessKey>"
               f"<SessionToken>{c['Token']}</SessionToken><Expiration>{c['Expiration']}</Expiration>"
               "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>")
        self.reply(200, xml.encode(), "text/xml")


class StsEndpoint(_CredentialServer):
    """HTTPS 127.0.0.1:443: AssumeRoleWithWebIdentity for `role_arn` and `web_identity_token`."""

    def __init__(self, issue: list[dict], tls: TlsFiles, role_arn: str, web_identity_token: str):
        super().__init__(_StsHandler, issue, port=443, tls=tls)
        self.role_arn = role_arn
        self.web_identity_token = web_identity_token


class _SsoHandler(_Handler):
    def do_GET(self):
        owner = self.server.owner
        with owner.lock:
            owner.hits += 1
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if (url.path != "/federation/credentials" or q.get("account_id") != owner.account_id
                or q.get("role_name") != owner.role_name
                or self.headers.get("x-amz-sso_bearer_token") != owner.access_token):
            return self.reply(401, b'{"message":"Session token not found or invalid"}')
        c = owner.next_credentials()
        expires_ms = int(datetime.datetime.strptime(c["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp() * 1000)
        doc = {"roleCredentials": {"accessKeyId": c["AccessKeyId"],
                                   "secretAccessKey": c["SecretAccessKey"],
                                   "sessionToken": c["Token"], "expiration": expires_ms}}
        self.reply(200, json.dumps(doc).encode())


class SsoPortal(_CredentialServer):
    """HTTPS 127.0.0.1:443: GET /federation/credentials with the cached SSO access token."""

    def __init__(self, issue: list[dict], tls: TlsFiles, account_id: str, role_name: str,
                 access_token: str):
        super().__init__(_SsoHandler, issue, port=443, tls=tls)
        self.account_id, self.role_name, self.access_token = account_id, role_name, access_token


# ------------------------------------------------------------------------------ SigV4 gateway

def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sign(secret: str, date8: str, region: str, string_to_sign: str) -> str:
    key = ("AWS4" + secret).encode()
    for part in (date8, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _canonical_query(query: str) -> str:
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    enc = [(urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~")) for k, v in pairs]
    return "&".join(f"{k}={v}" for k, v in sorted(enc))


def sigv4(method: str, path: str, query: str, headers: dict, signed: list[str],
          payload_hash: str, amz_date: str, region: str, access_key: str, secret: str) -> str:
    """The Authorization header value for the request (headers: lower-case names)."""
    canonical_headers = "".join(f"{h}:{' '.join(headers[h].split())}\n" for h in signed)
    creq = "\n".join([method, path, _canonical_query(query), canonical_headers, ";".join(signed),
                      payload_hash])
    scope = f"{amz_date[:8]}/{region}/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, _sha256(creq.encode())])
    sig = _sign(secret, amz_date[:8], region, sts)
    return (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
            f"SignedHeaders={';'.join(signed)}, Signature={sig}")


class _GatewayHandler(_Handler):
    protocol_version = "HTTP/1.1"

    def _handle(self):
        gw = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        auth = headers.get("authorization", "")
        with gw.lock:
            gw.hits += 1
        try:
            fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
            access_key, _, region, _, _ = fields["Credential"].split("/")
            signed = fields["SignedHeaders"].split(";")
        except (ValueError, KeyError):
            return self.reply(403, b"<Error><Code>AccessDenied</Code></Error>", "application/xml")
        with gw.lock:
            gw.regions.add(region)
        secret = gw.temporary.get((access_key, headers.get("x-amz-security-token", "")))
        url = urllib.parse.urlsplit(self.path)
        if secret is None:
            with gw.lock:
                gw.refused += 1
            return self.reply(403, b"<Error><Code>InvalidToken</Code></Error>", "application/xml")
        expected = sigv4(self.command, url.path, url.query, headers, signed,
                         headers["x-amz-content-sha256"], headers["x-amz-date"], region,
                         access_key, secret)
        if not hmac.compare_digest(expected, auth):
            with gw.lock:
                gw.refused += 1
            return self.reply(403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>",
                              "application/xml")
        # Forward the signed headers (but the token), re-signed with the permanent keys.
        fwd = {h: headers[h] for h in signed if h != "x-amz-security-token"}
        fwd["host"] = gw.upstream_authority
        names = sorted(fwd)
        fwd["authorization"] = sigv4(self.command, url.path, url.query, fwd, names,
                                     fwd["x-amz-content-sha256"], fwd["x-amz-date"], region,
                                     gw.upstream_key, gw.upstream_secret)
        req = urllib.request.Request(f"http://{gw.upstream_authority}{self.path}", data=body or None,
                                     method=self.command, headers=fwd)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, rbody, rheaders = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, rbody, rheaders = e.code, e.read(), e.headers
        self.send_response(status)
        for k, v in rheaders.items():
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "server",
                                 "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(rbody)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(rbody)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


class TokenGateway(_Server):
    """S3 on 127.0.0.1 accepting the temporary credentials registered with ``allow``."""

    def __init__(self, upstream_endpoint: str, upstream_key: str, upstream_secret: str):
        super().__init__(_GatewayHandler)
        self.upstream_authority = urllib.parse.urlsplit(upstream_endpoint).netloc
        self.upstream_key = upstream_key
        self.upstream_secret = upstream_secret
        self.temporary: dict[tuple[str, str], str] = {}
        self.refused = 0
        self.regions: set[str] = set()  # signing regions of the requests seen

    def allow(self, access_key: str, secret_key: str, token: str) -> None:
        self.temporary[(access_key, token)] = secret_key

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"
