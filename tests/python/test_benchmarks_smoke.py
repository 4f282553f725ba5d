"""The benchmark harness's latency proxy (benchmarks/proxy.py) against a tiny local HTTP server.

The proxy is part of our measuring tools: it must add at least the configured latency to every
request (also on a kept-alive connection, with Expect: 100-continue and chunked bodies), delay
concurrent connections independently, and count requests, methods (listings as LIST) and bytes
exactly. run.py turns those counts into a dollar cost and reports client CPU: checked end to end
at a tiny size. No timing assertion on arraymorph itself.
"""

from __future__ import annotations

import http.client
import http.server
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from proxy import LatencyProxy, RequestParser  # noqa: E402

LATENCY = 0.05


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like every S3 client

    def log_message(self, *a):  # quiet
        pass

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.read(2)
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def _reply(self, payload: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        self._reply(b"x" * 1000)

    def do_PUT(self):
        self._reply(str(len(self._body())).encode())

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture()
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_parser_finds_every_request_start():
    get = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
    put = b"PUT /b HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello"
    chunked = (b"PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n")
    stream = get + put + chunked + get
    want = [0, len(get), len(get) + len(put), len(get) + len(put) + len(chunked)]
    whole = RequestParser()
    assert whole.feed(stream) == want
    assert whole.methods == ["GET", "PUT", "PUT", "GET"]
    bytewise = RequestParser()  # same answer whatever the segmentation
    starts = [i + off for i in range(len(stream)) for off in bytewise.feed(stream[i:i + 1])]
    assert starts == want and bytewise.methods == whole.methods


@pytest.mark.timeout(60)
def test_proxy_adds_latency_and_counts(server):
    with LatencyProxy("127.0.0.1", server.server_address[1], latency=LATENCY) as proxy:
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        before = proxy.snapshot()
        times = []
        for i in range(6):  # one kept-alive connection: GET, PUT, HEAD, chunked PUT, ...
            t0 = time.perf_counter()
            if i % 3 == 0:
                conn.request("GET", f"/k{i}")
                assert conn.getresponse().read() == b"x" * 1000
            elif i % 3 == 1:
                conn.request("PUT", f"/k{i}", body=b"y" * 5000,
                             headers={"Expect": "100-continue"} if i == 1 else {})
                assert conn.getresponse().read() == b"5000"
            else:
                conn.request("PUT", f"/k{i}", body=iter([b"ab", b"cde"]),
                             encode_chunked=True)
                assert conn.getresponse().read() == b"5"
            times.append(time.perf_counter() - t0)
        conn.request("HEAD", "/h")
        conn.getresponse().read()
        conn.close()
        d = LatencyProxy.diff(proxy.snapshot(), before)
        assert min(times) >= LATENCY * 0.98, times
        assert d["requests"] == 7, d
        assert d["by_method"] == {"GET": 2, "PUT": 4, "HEAD": 1}, d
        assert d["connections"] == 1
        assert d["bytes_up"] >= 2 * 5000 + 2 * 5
        assert d["bytes_down"] >= 2 * 1000
        assert d["delayed_s"] >= 7 * LATENCY * 0.98

    # Concurrent connections are delayed independently: 8 at once take about one latency, where
    # delays served one after another would take at least 8. A long latency keeps the two cases
    # apart by seconds even on a loaded machine (the bound is on the proxy's structure, not speed).
    slow = 1.0
    with LatencyProxy("127.0.0.1", server.server_address[1], latency=slow) as proxy:
        def one(i):
            c = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=30)
            c.request("GET", f"/p{i}")
            c.getresponse().read()
            c.close()

        t0 = time.perf_counter()
        with ThreadPoolExecutor(8) as ex:
            list(ex.map(one, range(8)))
        elapsed = time.perf_counter() - t0
        assert slow * 0.98 <= elapsed < 4 * slow, elapsed
        snap = proxy.snapshot()
        assert snap["requests"] == 8 and snap["connections"] == 8

        # Latency 0: no delay is recorded, counting goes on.
        proxy.latency = 0.0
        proxy.reset()
        one(99)
        assert proxy.snapshot()["requests"] == 1 and proxy.snapshot()["delayed_s"] == 0.0


def test_listings_are_billed_as_list():
    """S3 bills a LIST like a PUT: the proxy must tell a bucket listing from an object GET."""
    from proxy import request_class

    assert request_class(b"GET /bench/a/zarr.json HTTP/1.1\r\n\r\n") == "GET"
    assert request_class(b"GET /bench/a/c/0/0?x-id=GetObject HTTP/1.1\r\n\r\n") == "GET"
    assert request_class(b"GET /bench?list-type=2&prefix=a%2F HTTP/1.1\r\n\r\n") == "LIST"
    assert request_class(b"GET /?list-type=2&delimiter=%2F HTTP/1.1\r\n\r\n") == "LIST"
    assert request_class(b"PUT /bench/a HTTP/1.1\r\n\r\n") == "PUT"
    parser = RequestParser()
    parser.feed(b"GET /bench?prefix=x HTTP/1.1\r\nHost: h\r\n\r\nHEAD /bench/k HTTP/1.1\r\n\r\n")
    assert parser.methods == ["LIST", "HEAD"]


def test_cost_of_requests_and_egress():
    import run

    # 1,000 GETs + 1,000 HEADs (GET class), 1,000 PUTs + 1,000 LISTs (PUT class), 10 DELETEs
    # (free) and 1 GB sent to the client.
    p = {"by_method": {"GET": 1000, "HEAD": 1000, "PUT": 1000, "LIST": 1000, "DELETE": 10},
         "bytes_down": 10**9}
    assert run.cost_usd(p) == pytest.approx(2 * 0.0004 + 2 * 0.005 + 0.09)


@pytest.mark.timeout(900)
def test_run_reports_cost_cpu_and_new_workloads(tmp_path):
    """run.py end to end at a tiny size on SeaweedFS: W9 (random batches), W11 (many datasets,
    20 here) and W12 (appends) are measured and checked for arraymorph and zarr-python, and every
    cell carries requests, cost and client CPU; the targets table is computed."""
    import json
    import subprocess

    import arraymorph

    site = Path(arraymorph.__file__).resolve().parents[1]  # this arraymorph, for the worker
    root = Path(__file__).resolve().parents[2]
    wls = "write_all,random_batches,many_open,append,write_shard"
    proc = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "run.py"), "--n", "128", "--c", "32",
         "--reps", "1", "--latencies", "0", "--many", "20", "--peers", "arraymorph,zarr-obstore",
         "--workloads", wls, "--out", str(tmp_path), "--arraymorph-env", f"PYTHONPATH={site}"],
        capture_output=True, text=True, timeout=840)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    res = json.loads((tmp_path / "latest.json").read_text())["results"]
    for peer in ("arraymorph", "zarr-obstore"):
        for wl in ("write_all", "random_batches", "many_open", "append"):
            r = res[f"0|{peer}|{wl}"]
            assert r["status"] == "OK", (peer, wl, r)
            assert r["requests"] > 0 and r["cpu_s"] > 0 and r["maxrss_mb"] > 0, (peer, wl, r)
            assert r["cost_usd"] == pytest.approx(run_cost(r)), (peer, wl, r)
        assert res[f"0|{peer}|write_all"]["by_method"].get("PUT", 0) >= 16  # 4x4 chunks
        assert res[f"0|{peer}|random_batches"]["by_method"].get("GET", 0) >= 4
    assert res["0|zarr-obstore|write_shard"]["status"] == "OK"
    assert res["0|arraymorph|write_shard"]["status"] in ("OK", "N/A")
    md = (tmp_path / "latest.md").read_text()
    assert "| $ | CPU s |" in md
    assert re.search(r"^\| 0 \| random_batches \| [\d.]+ \| zarr-obstore ", md, re.M), md


def run_cost(r: dict) -> float:
    import run

    return run.cost_usd({"by_method": r["by_method"], "bytes_down": r["bytes_down"]})
