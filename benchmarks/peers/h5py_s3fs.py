"""Native h5py over s3fs file objects on one monolithic chunked .h5 object.

Writing: h5py writes a local file (same chunking, no compression), then s3fs uploads it;
both are timed. Reading: ``h5py.File(fs.open(path, "rb"))`` with s3fs's defaults.
"""

from __future__ import annotations

import os

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
        self.path = f"{cfg['bucket']}/{cfg['key']}.h5"
        self.local = os.path.join(cfg["tmpdir"], os.path.basename(cfg["key"]) + ".h5")
        self.s3fs = s3fs

    def write(self, data) -> None:
        with self.h5py.File(self.local, "w") as f:
            f.create_dataset("data", data=data, chunks=(self.cfg["c"], self.cfg["c"]))
        self.fs.put_file(self.local, self.path)
        os.unlink(self.local)

    def open(self) -> None:
        self.fo = self.fs.open(self.path, "rb")
        self.f = self.h5py.File(self.fo, "r")
        self.d = self.f["data"]

    def read(self, sel):
        return self.d[sel]

    def close(self) -> None:
        self.f.close()
        self.fo.close()

    def info(self) -> dict:
        return {"h5py": self.h5py.__version__, "s3fs": self.s3fs.__version__,
                "block_size": self.fs.default_block_size}
