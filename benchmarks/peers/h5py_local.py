"""Native h5py (no arraymorph) on a chunked file on the local disk: a reference, not S3."""

from __future__ import annotations

import os

from . import _h5common as H
from . import variant_key


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

    def _path(self, variant: str) -> str:
        return os.path.join(self.cfg["tmpdir"],
                            os.path.basename(variant_key(self.cfg["key"], variant)) + ".h5")

    def write(self, data, variant: str = "plain") -> None:
        kw = H.dataset_kwargs(variant, self.cfg["c"])
        with self.h5py.File(self._path(variant), "w") as f:
            f.create_dataset("data", data=data, **kw)

    def open(self, variant: str = "plain") -> None:
        H.dataset_kwargs(variant, self.cfg["c"])  # N/A for shards
        self.f = self.h5py.File(self._path(variant), "r")
        self.d = self.f["data"]

    def read(self, sel):
        return self.d[sel]

    def close(self) -> None:
        self.f.close()

    def write_many(self, count: int) -> None:
        with self.h5py.File(self._path("many"), "w") as f:
            H.write_many(f, count)

    def read_many(self, count: int):
        with self.h5py.File(self._path("many"), "r") as f:
            return H.read_many(f, count)

    def append(self, data, rows: int) -> None:
        with self.h5py.File(self._path("append"), "w") as f:
            H.append(f, data, rows, self.cfg["c"])

    def info(self) -> dict:
        return {"h5py": self.h5py.__version__, "hdf5": self.h5py.version.hdf5_version}
