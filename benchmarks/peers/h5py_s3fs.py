"""Native h5py over s3fs file objects on one monolithic chunked .h5 object.

Writing (also W11's file and W12's appends): h5py writes a local file (same chunking and
filters), then s3fs uploads it; both are timed: an S3 object cannot be appended to in place.
Reading: ``h5py.File(fs.open(path, "rb"))`` with s3fs's defaults (50 MiB read-ahead blocks).
"""

from __future__ import annotations

import os

from . import _h5common as H
from . import variant_key
from .h5py_local import assert_native


class Peer:
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

    def _path(self, variant: str) -> str:
        return f"{self.cfg['bucket']}/{variant_key(self.cfg['key'], variant)}.h5"

    def _local(self, variant: str) -> str:
        return os.path.join(self.cfg["tmpdir"],
                            os.path.basename(variant_key(self.cfg["key"], variant)) + ".h5")

    def _upload(self, variant: str, fill) -> None:
        local = self._local(variant)
        with self.h5py.File(local, "w") as f:
            fill(f)
        self.fs.put_file(local, self._path(variant))
        os.unlink(local)

    def write(self, data, variant: str = "plain") -> None:
        kw = H.dataset_kwargs(variant, self.cfg["c"])
        self._upload(variant, lambda f: f.create_dataset("data", data=data, **kw))

    def _open(self, variant: str):
        self.fo = self.fs.open(self._path(variant), "rb")
        self.f = self.h5py.File(self.fo, "r")
        return self.f

    def open(self, variant: str = "plain") -> None:
        H.dataset_kwargs(variant, self.cfg["c"])  # N/A for shards
        self.d = self._open(variant)["data"]

    def read(self, sel):
        return self.d[sel]

    def close(self) -> None:
        self.f.close()
        self.fo.close()

    def write_many(self, count: int) -> None:
        self._upload("many", lambda f: H.write_many(f, count))

    def read_many(self, count: int):
        try:
            return H.read_many(self._open("many"), count)
        finally:
            self.close()

    def append(self, data, rows: int) -> None:
        self._upload("append", lambda f: H.append(f, data, rows, self.cfg["c"]))

    def info(self) -> dict:
        return {"h5py": self.h5py.__version__, "s3fs": self.s3fs.__version__,
                "block_size": self.fs.default_block_size}
