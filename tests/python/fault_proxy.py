"""A fault-injecting HTTP/1.1 proxy for the reliability suite (loopback only).

Sits between arraymorph and a test server (SeaweedFS, Azurite) and forwards each request whole:
it reads the request (headers, then a ``Content-Length`` or chunked body, answering
``Expect: 100-continue`` first), sends it upstream on its own connection, reads the whole
response, and writes it back with a ``Content-Length`` (for HEAD: the upstream's, and no body).
Client connections are kept alive as the client asks. Signed requests stay valid because the
request line, the signed headers and the body are forwarded byte for byte (``Host`` included)
unless a fault changes them on purpose.

The proxy runs in a child process of its own (``FaultProxy`` starts it): h5py holds the GIL
while HDF5 runs arraymorph's requests, so a proxy thread inside the test process would not get
to answer them. The test process sets rules and reads the request log over a second (control)
port of the child.

Faults are chosen per request by ``Rule``s, first match wins; a rule matches a method and a
regular expression on the path (``?query`` included) and fires ``times`` times (``None``: every
time) with probability ``p`` drawn from a seeded ``random.Random``, so a failing run replays:

- ``status``: answer ``code`` (503, 500, 429, ...) without forwarding;
- ``reset``: close the connection without answering (the client sees a reset / empty reply);
- ``truncate``: forward, then send the response headers and only half the body, and close;
- ``stall``: forward after sleeping ``seconds`` (the client's timeout fires first, usually);
- ``flip``: forward, then flip one bit of the response body (a corrupt GET);
- ``flip_request``: flip one bit of the request body before forwarding (a corrupt PUT).

``count()`` reads the log of ``(method, path, fault)`` of every request, for assertions such as
"the root zarr.json was PUT at most N times".

    with FaultProxy(("127.0.0.1", port), seed=1) as proxy:
        proxy.rules = [Rule("PUT", r"/zarr\\.json$", "status", code=503)]
        os.environ["AWS_ENDPOINT_URL_S3"] = proxy.endpoint
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import random
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import List, Optional, Tuple


@dataclass
class Rule:
    method: str                 # "GET", "PUT", ... or "*"
    path: str                   # regular expression searched in the request path
    fault: str                  # status | reset | truncate | stall | flip | flip_request
    times: Optional[int] = None  # how many times it fires (None: unlimited)
    p: float = 1.0              # probability of firing when it matches
    code: int = 503             # for "status"
    seconds: float = 5.0        # for "stall"
    fired: int = field(default=0, init=False)

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method) and re.search(self.path, path) is not None
                and (self.times is None or self.fired < self.times))


FAULTS = {"status", "reset", "truncate", "stall", "flip", "flip_request"}


# ================================================================================ test side
class FaultProxy:
    """Starts the proxy child process; a context manager that stops it on exit."""

    def __init__(self, upstream: Tuple[str, int], seed: int = 0) -> None:
        assert upstream[0] in ("127.0.0.1", "localhost"), "loopback only"
        self.upstream = upstream
        self.seed = seed
        self._proc: Optional[subprocess.Popen] = None
        self.port = 0
        self._control = 0
        self._rules: List[Rule] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "FaultProxy":
        self._proc = subprocess.Popen(
            [sys.executable, __file__, "--upstream-port", str(self.upstream[1]), "--seed", str(self.seed)],
            stdout=subprocess.PIPE, text=True)
        line = self._proc.stdout.readline()  # "PORTS <proxy> <control>"
        if not line.startswith("PORTS "):
            self._proc.kill()
            raise RuntimeError(f"fault proxy did not start: {line!r}")
        self.port, self._control = (int(x) for x in line.split()[1:3])
        return self

    def __exit__(self, *exc) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=30)
            self._proc.stdout.close()
            self._proc = None

    def _call(self, method: str, path: str, body: Optional[bytes] = None):
        conn = http.client.HTTPConnection("127.0.0.1", self._control, timeout=30)
        try:
            conn.request(method, path, body=body)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"fault proxy control {method} {path}: {resp.status} {data!r}")
            return json.loads(data)
        finally:
            conn.close()

    @property
    def rules(self) -> List[Rule]:
        return self._rules

    @rules.setter
    def rules(self, rules: List[Rule]) -> None:
        for r in rules:
            assert r.fault in FAULTS, r.fault
        self._call("PUT", "/rules", json.dumps([dataclasses.asdict(r) for r in rules]).encode())
        self._rules = list(rules)

    @property
    def log(self) -> List[Tuple[str, str, str]]:
        return [tuple(x) for x in self._call("GET", "/log")]

    def count(self, method: str, path_regex: str, fault: Optional[str] = None) -> int:
        return sum(1 for m, p, f in self.log
                   if m == method and re.search(path_regex, p) and (fault is None or f == fault))


# ================================================================================ proxy side
_STATUS_BODY = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code>'
                b'<Message>injected by fault_proxy</Message></Error>')
_CODES = {503: b"SlowDown", 500: b"InternalError", 429: b"TooManyRequests", 412: b"PreconditionFailed"}
# Not forwarded either way: connection management is per hop, bodies are re-framed.
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "expect", "te",
               "trailer", "upgrade"}


class _State:
    def __init__(self, upstream_port: int, seed: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.rng = random.Random(seed)
        self.rules: List[Rule] = []
        self.log: List[Tuple[str, str, str]] = []
        self.lock = threading.Lock()

    def pick(self, method: str, path: str) -> Optional[Rule]:
        with self.lock:
            for rule in self.rules:
                if rule.matches(method, path) and self.rng.random() < rule.p:
                    rule.fired += 1
                    return rule
        return None

    def flip(self, body: bytes) -> bytes:
        if not body:
            return body
        with self.lock:
            i = self.rng.randrange(len(body))
            bit = 1 << self.rng.randrange(8)
        return body[:i] + bytes([body[i] ^ bit]) + body[i + 1:]


def _read_body(h: BaseHTTPRequestHandler) -> bytes:
    """The request body, de-chunked; Expect: 100-continue was answered by parse_request."""
    if "chunked" in (h.headers.get("Transfer-Encoding") or "").lower():
        parts = []
        while True:
            size = int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while h.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                return b"".join(parts)
            parts.append(h.rfile.read(size))
            h.rfile.readline()  # CRLF after each chunk
    length = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(length) if length else b""


def _serve(state: _State, h: BaseHTTPRequestHandler) -> None:
    method, path = h.command, h.path
    body = _read_body(h)
    chunked = "chunked" in (h.headers.get("Transfer-Encoding") or "").lower()
    rule = state.pick(method, path)
    fault = rule.fault if rule else "-"
    with state.lock:
        state.log.append((method, path, fault))
    if rule and rule.fault == "status":
        payload = _STATUS_BODY % _CODES.get(rule.code, b"Injected")
        h.send_response(rule.code)
        h.send_header("Content-Type", "application/xml")
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        if method != "HEAD":
            h.wfile.write(payload)
        return
    if rule and rule.fault == "reset":
        h.close_connection = True
        # SO_LINGER {on, 0 s}: close() sends RST instead of FIN.
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        return
    if rule and rule.fault == "stall":
        time.sleep(rule.seconds)
    if rule and rule.fault == "flip_request":
        body = state.flip(body)
    conn = http.client.HTTPConnection(*state.upstream, timeout=120)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in h.headers.items():
            if k.lower() not in _HOP_BY_HOP and not (chunked and k.lower() == "content-length"):
                conn.putheader(k, v)
        if chunked or (body and "Content-Length" not in h.headers):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body if body else None)
        resp = conn.getresponse()
        data = resp.read()  # http.client knows a HEAD response has no body
        status, reason, rheaders = resp.status, resp.reason, resp.getheaders()
    except (OSError, http.client.HTTPException):
        h.close_connection = True  # upstream gone (killed server): the client sees a dropped connection
        return
    finally:
        conn.close()
    if rule and rule.fault == "flip" and method == "GET" and status in (200, 206):
        data = state.flip(data)
    h.send_response_only(status, reason)
    length = str(len(data))
    for k, v in rheaders:
        kl = k.lower()
        if kl == "content-length":
            if method == "HEAD":
                length = v  # the size of the object a GET would return
        elif kl not in _HOP_BY_HOP:
            h.send_header(k, v)
    h.send_header("Content-Length", length)
    h.end_headers()
    if method == "HEAD":
        return
    if rule and rule.fault == "truncate":
        h.wfile.write(data[: len(data) // 2])
        h.wfile.flush()
        h.close_connection = True
        return
    h.wfile.write(data)


def _proxy_handler(state: _State):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive; Expect: 100-continue answered

        def log_message(self, *args) -> None:  # quiet
            pass

        def _handle(self) -> None:
            try:
                _serve(state, self)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (its timeout): nothing to answer

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle
    return Handler


def _control_handler(state: _State):
    class Control(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def _reply(self, obj) -> None:
            data = json.dumps(obj).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_PUT(self) -> None:  # /rules
            rules = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with state.lock:
                state.rules = [Rule(**{k: v for k, v in r.items() if k != "fired"}) for r in rules]
            self._reply(len(rules))

        def do_GET(self) -> None:  # /log
            with state.lock:
                self._reply(list(state.log))
    return Control


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream-port", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    state = _State(args.upstream_port, args.seed)
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _proxy_handler(state))
    control = ThreadingHTTPServer(("127.0.0.1", 0), _control_handler(state))
    proxy.daemon_threads = control.daemon_threads = True
    threading.Thread(target=control.serve_forever, daemon=True).start()
    print(f"PORTS {proxy.server_address[1]} {control.server_address[1]}", flush=True)
    proxy.serve_forever()


if __name__ == "__main__":
    main()
