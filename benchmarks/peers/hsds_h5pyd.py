"""h5pyd (the h5py API over HTTP) against HSDS: a service node and a data node started by run.py
(hsds_service.py) on unix sockets, storing into the benchmark's bucket through the latency
proxy. The proxy sits between the data node and S3, where HSDS's storage requests go; the
client's requests to the service node are local and not delayed (a service deployed next to
its storage, the way HSDS is meant to run). Client CPU is h5pyd's; the service's own CPU is
recorded by run.py separately (``service_cpu_s``).

h5pyd's close sends the client's pending changes to the service; the data node writes them to
S3 later (``s3_sync_interval``). Writes here end with the domain flush HSDS provides
(``PUT /?flush=1``), which returns once the data node has written every dirty object to S3:
durable, as for the other peers (without it, a restarted service lost the data).
"""

from __future__ import annotations

from . import variant_key
from ._h5common import H5FilePeer


class Peer(H5FilePeer):
    zstd_by_name = True

    def __init__(self, cfg: dict) -> None:
        import h5pyd

        self.h5pyd, self.cfg = h5pyd, cfg
        self.kw = {"endpoint": cfg["hsds_endpoint"], "username": cfg["hsds_user"],
                   "password": cfg["hsds_password"]}
        self.folder = "/" + cfg["key"].split("/", 1)[0] + "/"

    def _domain(self, variant: str) -> str:
        return "/" + variant_key(self.cfg["key"], variant) + ".h5"

    def _file(self, variant: str, mode: str):
        if mode == "w":
            try:
                self.h5pyd.Folder(self.folder, mode="r", **self.kw)
            except OSError:
                self.h5pyd.Folder(self.folder, mode="w", **self.kw)
        return self.h5pyd.File(self._domain(variant), mode, **self.kw)

    def _written(self, variant: str) -> None:
        """Until the data node has written every dirty object of the domain to S3."""
        from h5pyd.httpconn import HttpConn

        conn = HttpConn(self._domain(variant), mode="a", **self.kw)
        conn.open()
        try:
            rsp = conn.PUT("/", params={"flush": 1})
            if rsp.status_code not in (200, 204):
                raise OSError(f"HSDS flush of {self._domain(variant)}: HTTP {rsp.status_code}")
        finally:
            conn.close()

    def info(self) -> dict:
        from importlib.metadata import version

        return {"h5pyd": version("h5pyd"), "hsds": version("hsds")}
