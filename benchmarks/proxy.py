"""A small latency-injecting HTTP/1.x TCP proxy (asyncio) that counts requests and bytes.

It forwards bytes both ways between a client and one upstream server, and parses the
client-to-server stream just enough to find where each HTTP request starts (request line,
headers, then a ``Content-Length`` or ``Transfer-Encoding: chunked`` body). The first byte of
every request is held back for ``latency`` seconds before it is forwarded, so each request pays
one extra round trip of that length on its own connection; requests on different connections
are delayed independently (concurrent requests overlap their delays, as on a real WAN).
``Expect: 100-continue`` bodies are recognised as the body of the same request.

Counters (``requests``, ``requests_by_method``, ``bytes_up``, ``bytes_down``, ``connections``)
are updated on the proxy's event loop; ``snapshot()`` copies them from any thread.

Usage in a program::

    proxy = LatencyProxy("127.0.0.1", upstream_port, latency=0.020).start()  # own thread
    proxy.port, proxy.latency = 0.0, proxy.snapshot(), proxy.stop()

From a shell::

    python benchmarks/proxy.py --target 127.0.0.1:8333 --latency-ms 20 [--port 0]
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from collections import Counter

LIST_QUERY = (b"list-type=", b"prefix=", b"delimiter=", b"uploads", b"versions")


def request_class(header: bytes) -> str:
    """The request's method, except ``LIST`` for a GET that lists a bucket (S3 bills LIST
    like PUT, 12.5x a GET). Path-style or virtual-hosted: a listing is told by its query."""
    method, _, rest = header.partition(b" ")
    name = method.decode("latin-1")
    if name == "GET":
        query = rest.split(b" ", 1)[0].partition(b"?")[2]
        if any(q in query for q in LIST_QUERY):
            return "LIST"
    return name


class RequestParser:
    """Incremental parser of an HTTP/1.x request stream (client to server direction).

    ``feed(data)`` returns the offsets in ``data`` where new requests start; the method of each
    request (``request_class``: GET listings as ``LIST``) is appended to ``methods`` once its
    header block is complete. Bodies are skipped by
    Content-Length or chunked framing.
    """

    HEAD, BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_CRLF, TRAILERS = range(6)

    def __init__(self) -> None:
        self.state = self.HEAD
        self.buf = bytearray()      # header / size-line bytes not yet complete
        self.remaining = 0          # body or chunk bytes still to skip
        self.in_request = False     # inside the header block of a request that started
        self.methods: list[str] = []  # methods of requests whose header block completed

    def feed(self, data: bytes) -> list[int]:
        starts: list[int] = []
        i, n = 0, len(data)
        while i < n:
            if self.state == self.HEAD:
                if not self.in_request:
                    if data[i:i + 1] in (b"\r", b"\n"):
                        i += 1  # stray CRLF between requests (allowed by RFC 9112)
                        continue
                    self.in_request = True
                    starts.append(i)
                prev = len(self.buf)
                self.buf += data[i:]
                k = self.buf.find(b"\r\n\r\n", max(0, prev - 3))
                if k < 0:
                    if len(self.buf) > 1 << 20:
                        raise ValueError("HTTP header block larger than 1 MiB")
                    i = n
                    break
                i += k + 4 - prev
                header = bytes(self.buf[:k + 4])
                self.buf.clear()
                self.in_request = False
                self.methods.append(request_class(header))
                self._start_body(header)
            elif self.state == self.BODY:
                take = min(self.remaining, n - i)
                self.remaining -= take
                i += take
                if self.remaining == 0:
                    self.state = self.HEAD
            elif self.state in (self.CHUNK_SIZE, self.TRAILERS):
                j = data.find(b"\n", i)
                if j < 0:
                    self.buf += data[i:]
                    i = n
                    break
                line = bytes(self.buf + data[i:j]).strip()
                self.buf.clear()
                i = j + 1
                if self.state == self.CHUNK_SIZE:
                    size = int(line.split(b";", 1)[0] or b"0", 16)
                    if size == 0:
                        self.state = self.TRAILERS
                    else:
                        self.remaining = size
                        self.state = self.CHUNK_DATA
                elif not line:  # empty line ends the trailers
                    self.state = self.HEAD
            elif self.state == self.CHUNK_DATA:
                take = min(self.remaining, n - i)
                self.remaining -= take
                i += take
                if self.remaining == 0:
                    self.state = self.CHUNK_CRLF
                    self.remaining = 2
            elif self.state == self.CHUNK_CRLF:
                take = min(self.remaining, n - i)
                self.remaining -= take
                i += take
                if self.remaining == 0:
                    self.state = self.CHUNK_SIZE
        return starts

    def _start_body(self, header: bytes) -> None:
        length = 0
        chunked = False
        for line in header.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip() or b"0")
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            self.state = self.CHUNK_SIZE
        elif length > 0:
            self.state = self.BODY
            self.remaining = length
        else:
            self.state = self.HEAD


class LatencyProxy:
    """The proxy; ``start()`` runs it on its own event loop thread."""

    def __init__(self, target_host: str, target_port: int, latency: float = 0.0,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.target = (target_host, target_port)
        self.latency = latency
        self.host, self.port = host, port
        self._lock = threading.Lock()
        self.reset()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------------- counters
    def reset(self) -> None:
        with self._lock:
            self.requests = 0
            self.requests_by_method: Counter = Counter()
            self.bytes_up = 0
            self.bytes_down = 0
            self.connections = 0
            self.delayed_s = 0.0

    def snapshot(self) -> dict:
        with self._lock:
            return {"requests": self.requests, "by_method": dict(self.requests_by_method),
                    "bytes_up": self.bytes_up, "bytes_down": self.bytes_down,
                    "connections": self.connections, "delayed_s": self.delayed_s}

    @staticmethod
    def diff(after: dict, before: dict) -> dict:
        out = {k: after[k] - before[k] for k in ("requests", "bytes_up", "bytes_down",
                                                 "connections", "delayed_s")}
        out["by_method"] = {m: after["by_method"].get(m, 0) - before["by_method"].get(m, 0)
                            for m in after["by_method"]
                            if after["by_method"].get(m, 0) != before["by_method"].get(m, 0)}
        return out

    # ----------------------------------------------------------------------- proxying
    async def _client_to_server(self, reader, writer) -> None:
        parser = RequestParser()
        try:
            while True:
                data = await reader.read(1 << 16)
                if not data:
                    break
                starts = parser.feed(data)
                if parser.methods:
                    with self._lock:
                        self.requests_by_method.update(parser.methods)
                    parser.methods.clear()
                pos = 0
                for off in starts:
                    if off > pos:
                        writer.write(data[pos:off])
                    with self._lock:
                        self.requests += 1
                    if self.latency > 0:
                        await writer.drain()
                        t0 = time.perf_counter()
                        await asyncio.sleep(self.latency)
                        with self._lock:
                            self.delayed_s += time.perf_counter() - t0
                    pos = off
                writer.write(data[pos:])
                with self._lock:
                    self.bytes_up += len(data)
                await writer.drain()
        except (ConnectionError, ValueError):
            pass
        finally:
            try:
                writer.write_eof()
            except (OSError, RuntimeError):
                pass

    async def _server_to_client(self, reader, writer) -> None:
        try:
            while True:
                data = await reader.read(1 << 16)
                if not data:
                    break
                writer.write(data)
                with self._lock:
                    self.bytes_down += len(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            try:
                writer.write_eof()
            except (OSError, RuntimeError):
                pass

    async def _handle(self, c_reader, c_writer) -> None:
        with self._lock:
            self.connections += 1
        try:
            s_reader, s_writer = await asyncio.open_connection(*self.target)
        except OSError:
            c_writer.close()
            return
        try:
            await asyncio.gather(self._client_to_server(c_reader, s_writer),
                                 self._server_to_client(s_reader, c_writer))
        finally:
            for w in (s_writer, c_writer):
                w.close()

    async def _serve(self, started: threading.Event) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port,
                                                  reuse_address=True, backlog=512)
        self.port = self._server.sockets[0].getsockname()[1]
        started.set()
        async with self._server:
            await self._server.serve_forever()

    def start(self) -> "LatencyProxy":
        started = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._serve(started))
            except asyncio.CancelledError:
                pass

        self._thread = threading.Thread(target=run, name="latency-proxy", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("latency proxy did not start")
        return self

    def stop(self) -> None:
        if self._loop and self._server:
            async def close() -> None:
                self._server.close()
                for task in asyncio.all_tasks():
                    if task is not asyncio.current_task():
                        task.cancel()
            asyncio.run_coroutine_threadsafe(close(), self._loop)
        if self._thread:
            self._thread.join(10)
        self._thread = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> "LatencyProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", required=True, help="HOST:PORT of the upstream server")
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    host, port = a.target.rsplit(":", 1)
    p = LatencyProxy(host, int(port), a.latency_ms / 1000.0, port=a.port).start()
    print(f"proxy on {p.endpoint} -> {a.target}, {a.latency_ms} ms per request", flush=True)
    try:
        while True:
            time.sleep(10)
            print(p.snapshot(), flush=True)
    except KeyboardInterrupt:
        p.stop()


if __name__ == "__main__":
    main()
