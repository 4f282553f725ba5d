"""A fault-injecting HTTP/1.1 proxy for the reliability suite (loopback only).

Sits between arraymorph and a test server (SeaweedFS, Azurite) and forwards each request whole:
it reads the request (headers and ``Content-Length`` body, ``Expect: 100-continue`` included),
sends it upstream on its own connection, reads the whole response, and writes it back. Signed
requests stay valid because the request line, headers and body are forwarded byte for byte
(the ``Host`` header included) unless a fault changes them on purpose.

Faults are chosen per request by ``Rule``s, first match wins; a rule matches a method and a
regular expression on the path (``?query`` included) and fires ``times`` times (``None``: every
time) with probability ``p`` drawn from a seeded ``random.Random``, so a failing run replays:

- ``status``: answer ``code`` (503, 500, 429, ...) without forwarding;
- ``reset``: close the connection without answering (the client sees a reset / empty reply);
- ``truncate``: forward, then send the response headers and only half the body, and close;
- ``stall``: forward after sleeping ``seconds`` (the client's timeout fires first, usually);
- ``flip``: forward, then flip one bit of the response body (a corrupt GET);
- ``flip_request``: flip one bit of the request body before forwarding (a corrupt PUT).

``log`` records ``(method, path, fault)`` for every request, for assertions such as "the root
zarr.json was PUT at most N times".

    with FaultProxy(("127.0.0.1", port), seed=1) as proxy:
        proxy.rules = [Rule("PUT", r"/zarr\\.json$", "status", code=503)]
        os.environ["AWS_ENDPOINT_URL_S3"] = proxy.endpoint
"""

from __future__ import annotations

import http.client
import random
import re
import socket
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


_STATUS_BODY = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code>'
                b'<Message>injected by fault_proxy</Message></Error>')
_CODES = {503: b"SlowDown", 500: b"InternalError", 429: b"TooManyRequests", 412: b"PreconditionFailed"}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection"}


class FaultProxy:
    """The proxy; a context manager that serves on its own thread until closed."""

    def __init__(self, upstream: Tuple[str, int], seed: int = 0) -> None:
        assert upstream[0] in ("127.0.0.1", "localhost"), "loopback only"
        self.upstream = upstream
        self.rng = random.Random(seed)
        self.rules: List[Rule] = []
        self.log: List[Tuple[str, str, str]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _handle(self) -> None:
                proxy._serve(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "FaultProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def count(self, method: str, path_regex: str, fault: Optional[str] = None) -> int:
        with self._lock:
            return sum(1 for m, p, f in self.log
                       if m == method and re.search(path_regex, p) and (fault is None or f == fault))

    # ------------------------------------------------------------------------------ serving
    def _pick(self, method: str, path: str) -> Optional[Rule]:
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, path) and self.rng.random() < rule.p:
                    rule.fired += 1
                    return rule
        return None

    def _flip(self, body: bytes) -> bytes:
        if not body:
            return body
        with self._lock:
            i = self.rng.randrange(len(body))
            bit = 1 << self.rng.randrange(8)
        return body[:i] + bytes([body[i] ^ bit]) + body[i + 1:]

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        method, path = h.command, h.path
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        rule = self._pick(method, path)
        fault = rule.fault if rule else "-"
        with self._lock:
            self.log.append((method, path, fault))
        if rule and rule.fault == "status":
            payload = _STATUS_BODY % _CODES.get(rule.code, b"Injected")
            h.send_response(rule.code)
            h.send_header("Content-Type", "application/xml")
            h.send_header("Content-Length", str(len(payload) if method != "HEAD" else 0))
            h.end_headers()
            if method != "HEAD":
                h.wfile.write(payload)
            return
        if rule and rule.fault == "reset":
            h.close_connection = True
            try:
                h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            except OSError:
                pass
            return
        if rule and rule.fault == "stall":
            time.sleep(rule.seconds)
        if rule and rule.fault == "flip_request":
            body = self._flip(body)
        headers = {k: v for k, v in h.headers.items() if k.lower() not in _HOP_BY_HOP and k.lower() != "expect"}
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v)
            conn.endheaders(body if body else None)
            resp = conn.getresponse()
            data = resp.read()
            status, reason, rheaders = resp.status, resp.reason, resp.getheaders()
        finally:
            conn.close()
        if rule and rule.fault == "flip" and method == "GET" and status in (200, 206):
            data = self._flip(data)
        h.send_response(status, reason)
        for k, v in rheaders:
            if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length":
                h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)) if method != "HEAD" else
                      dict((k.lower(), v) for k, v in rheaders).get("content-length", "0"))
        h.end_headers()
        if method == "HEAD":
            return
        if rule and rule.fault == "truncate":
            h.wfile.write(data[: len(data) // 2])
            h.wfile.flush()
            h.close_connection = True
            return
        h.wfile.write(data)
