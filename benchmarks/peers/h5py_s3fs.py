"""Native h5py over s3fs file objects on one monolithic chunked .h5 object.

Writing (also W11's file and W12's appends): h5py writes a local file (same chunking and
filters), then s3fs uploads it; both are timed: an S3 object cannot be appended to in place.
Reading: ``h5py.File(fs.open(path, "rb"))`` with s3fs's defaults (50 MiB read-ahead blocks).
"""

from __future__ import annotations

import os

from . import variant_key
from ._h5common import H5FilePeer
from .h5py_local import assert_native, local_path


class Peer(H5FilePeer):
    def __init__(self, cfg: dict) -> None:
        assert_native()
        import h5py
        import s3fs

        self.h5py = h5py
        self.cfg = cfg
        self.fs = s3fs.S3FileSystem(
            key=cfg["access_key"], secret=cfg["secret_key"], use_ssl=False,
            client_kwargs={"endpoint_url": cfg["endpoint"], "region_name": cfg["region"]},
            config_kwargs={"s3": {"addressing_style": "path"}})
        self.s3fs = s3fs
        self.fo = None

    def _path(self, variant: str) -> str:
        return f"{self.cfg['bucket']}/{variant_key(self.cfg['key'], variant)}.h5"

    def _file(self, variant: str, mode: str):
        if mode == "w":
            return self.h5py.File(local_path(self.cfg, variant), "w")
        self.fo = self.fs.open(self._path(variant), "rb")
        return self.h5py.File(self.fo, "r")

    def _written(self, variant: str) -> None:
        local = local_path(self.cfg, variant)
        self.fs.put_file(local, self._path(variant))
        os.unlink(local)

    def close(self) -> None:
        super().close()
        self.fo.close()

    def info(self) -> dict:
        return {"h5py": self.h5py.__version__, "s3fs": self.s3fs.__version__,
                "block_size": self.fs.default_block_size}
