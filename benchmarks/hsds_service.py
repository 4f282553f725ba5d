"""HSDS (the HDF Group's Highly Scalable Data Service) for the h5pyd peer: one service node and
one data node, talking to each other and to the client over unix sockets only (no TCP port),
storing into the benchmark's S3 bucket through the latency proxy.

run.py starts it before each repetition of the h5pyd peer and stops it after (``restart()``), so
no chunk or metadata cache of the data node survives between repetitions, as for every other
peer (each repetition is a fresh process). The two processes are started and stopped by their own
PIDs (SIGTERM, then SIGKILL after a grace period).

This is what ``hsds --socket_dir DIR`` does, minus its fixed 10 s start-up limit (too short on
a loaded 2-core machine) and minus its default of 4 data nodes.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

USER = PASSWORD = "bench"


class HsdsService:
    def __init__(self, venv: Path, s3: dict, min_chunk_size: str = "64k") -> None:
        """``s3``: endpoint (the proxy), bucket, region, access_key, secret_key."""
        self.venv = Path(venv)
        self.s3 = s3
        self.dir = tempfile.mkdtemp(prefix="hsds-")  # short path: unix socket names <= 107 bytes
        sock = self.dir + "/"
        self.sn_url = "http+unix://" + quote(sock, safe="") + "sn_1.sock"
        self.dn_url = "http+unix://" + quote(sock, safe="") + "dn_1.sock"
        self.sockets = [sock + "sn_1.sock", sock + "dn_1.sock"]
        # config.yml keys are read from upper-case environment variables by hsds.config
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("AWS_", "AZURE_", "BUCKET", "ROOT_DIR"))}
        self.env.update({
            "AWS_S3_GATEWAY": s3["endpoint"], "AWS_ACCESS_KEY_ID": s3["access_key"],
            "AWS_SECRET_ACCESS_KEY": s3["secret_key"], "AWS_REGION": s3["region"],
            "BUCKET_NAME": s3["bucket"], "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARN",
            "CONFIG_OVERRIDE_PATH": os.path.join(self.dir, "override.yml"),
            "PATH": str(self.venv / "bin") + os.pathsep + os.environ.get("PATH", "")})
        # Typed settings go in an override file (environment values arrive as strings, which
        # HSDS compares with numbers and fails on):
        # - HSDS enlarges chunks below min_chunk_size (default 1 MiB): keep the benchmark's
        #   256 KiB chunks so every peer stores the same chunk shape;
        # - the data node's write-back polls every 1 s by default and a flush waits for it
        #   (a 256 KiB write took ~8 s): 0.1 s here, HSDS at its best.
        Path(self.dir, "override.yml").write_text(
            f"min_chunk_size: {min_chunk_size}\ns3_sync_interval: 0.1\n"
            "flush_sleep_interval: 0.1\n")
        self.procs: list[subprocess.Popen] = []

    @property
    def endpoint(self) -> str:
        return self.sn_url

    def _args(self, node: str) -> list[str]:
        common = ["--standalone", f"--dn_urls={self.dn_url}", f"--hsds_endpoint={self.sn_url}",
                  "--use_socket", "--log_level=WARN"]
        exe = [str(self.venv / "bin" / "python"), str(self.venv / "bin" / "hsds-node")]
        if node == "sn":
            return exe + ["--node_type=sn", "--log_prefix=sn ", f"--hs_username={USER}",
                          f"--admin_user={USER}", f"--hs_password={PASSWORD}",
                          "--password_file=", f"--sn_url={self.sn_url}",
                          "--logfile=sn1.log"] + common
        return exe + ["--node_type=dn", "--log_prefix=dn1 ", f"--dn_urls={self.dn_url}",
                      "--node_number=0"] + common

    def start(self, timeout: float = 120.0) -> "HsdsService":
        for s in self.sockets:
            if os.path.exists(s):
                os.unlink(s)
        log = open(os.path.join(self.dir, "hsds.log"), "a")
        for node in ("dn", "sn"):
            self.procs.append(subprocess.Popen(self._args(node), cwd=self.dir, env=self.env,
                                               stdout=log, stderr=subprocess.STDOUT,
                                               stdin=subprocess.DEVNULL,
                                               start_new_session=True))
        log.close()
        deadline = time.monotonic() + timeout
        while not all(os.path.exists(s) for s in self.sockets):
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"HSDS node exited with {p.returncode}: {self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"HSDS not ready within {timeout:.0f} s: {self.log_tail()}")
            time.sleep(0.2)
        self._wait_ready(deadline)
        return self

    def _wait_ready(self, deadline: float) -> None:
        """The service node answers /about with state READY once it has seen the data node."""
        import http.client
        import json
        import socket

        class Conn(http.client.HTTPConnection):
            def __init__(self, path):
                super().__init__("localhost", timeout=5)
                self.path = path

            def connect(self):
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.settimeout(5)
                self.sock.connect(self.path)

        def get(path: str, headers=None):
            c = Conn(self.sockets[0])
            try:
                c.request("GET", path, headers=headers or {})
                r = c.getresponse()
                return r.status, r.read()
            finally:
                c.close()

        last = ""
        while time.monotonic() < deadline:
            try:
                status, body = get("/about")
                if status == 200 and json.loads(body).get("state") == "READY":
                    break
                last = f"HTTP {status} {body[:200]!r}"
            except (OSError, ValueError) as e:
                last = repr(e)
            time.sleep(0.3)
        else:
            raise RuntimeError(f"HSDS service node not READY: {last}; {self.log_tail()}")
        # Warm-up, before the worker starts (not counted): the data node's first storage access
        # sets up its S3 client, seconds on this machine that no repetition should pay.
        auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        try:
            get("/?domain=/benchmark-warm-up/none.h5", {"Authorization": "Basic " + auth})
        except OSError:
            pass

    def log_tail(self, n: int = 3000) -> str:
        try:
            return Path(self.dir, "hsds.log").read_text()[-n:]
        except OSError:
            return ""

    def cpu_seconds(self) -> float:
        """user+sys CPU seconds used so far by the service and data node processes."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for p in self.procs:
            try:
                fields = Path(f"/proc/{p.pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
            except (OSError, IndexError, ValueError):
                pass
        return total

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.procs = []

    def restart(self) -> None:
        self.stop()
        self.start()

    def worker_cfg(self) -> dict:
        """What the h5pyd worker needs to reach the service node."""
        return {"hsds_endpoint": self.sn_url, "hsds_user": USER, "hsds_password": PASSWORD}

    def cleanup(self) -> None:
        self.stop()
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)
