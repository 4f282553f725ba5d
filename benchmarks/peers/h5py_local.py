"""Native h5py (no arraymorph) on a chunked file on the local disk: a reference, not S3."""

from __future__ import annotations

import os


def assert_native() -> None:
    """The native peers must not go through any VOL connector."""
    if os.environ.get("HDF5_VOL_CONNECTOR") or "arraymorph" in __import__("sys").modules:
        raise RuntimeError("native h5py peer would go through a VOL connector")


class Peer:
    def __init__(self, cfg: dict) -> None:
        assert_native()
        import h5py

        self.h5py = h5py
        self.cfg = cfg
        self.path = os.path.join(cfg["tmpdir"], os.path.basename(cfg["key"]) + ".h5")

    def write(self, data) -> None:
        with self.h5py.File(self.path, "w") as f:
            f.create_dataset("data", data=data, chunks=(self.cfg["c"], self.cfg["c"]))

    def open(self) -> None:
        self.f = self.h5py.File(self.path, "r")
        self.d = self.f["data"]

    def read(self, sel):
        return self.d[sel]

    def close(self) -> None:
        self.f.close()

    def info(self) -> dict:
        return {"h5py": self.h5py.__version__, "hdf5": self.h5py.version.hdf5_version}
