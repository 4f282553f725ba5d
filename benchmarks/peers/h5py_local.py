"""Native h5py (no arraymorph) on a chunked file on the local disk: a reference, not S3."""

from __future__ import annotations

import os

from . import variant_key
from ._h5common import H5FilePeer


def assert_native() -> None:
    """The native peers must not go through any VOL connector."""
    if os.environ.get("HDF5_VOL_CONNECTOR") or "arraymorph" in __import__("sys").modules:
        raise RuntimeError("native h5py peer would go through a VOL connector")


def local_path(cfg: dict, variant: str) -> str:
    return os.path.join(cfg["tmpdir"], os.path.basename(variant_key(cfg["key"], variant)) + ".h5")


class Peer(H5FilePeer):
    def __init__(self, cfg: dict) -> None:
        assert_native()
        import h5py

        self.h5py = h5py
        self.cfg = cfg

    def _file(self, variant: str, mode: str):
        return self.h5py.File(local_path(self.cfg, variant), mode)

    def info(self) -> dict:
        return {"h5py": self.h5py.__version__, "hdf5": self.h5py.version.hdf5_version}
