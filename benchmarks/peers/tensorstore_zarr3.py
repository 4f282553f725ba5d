"""TensorStore, zarr3 driver on its s3 kvstore (credentials from AWS_* variables)."""

from __future__ import annotations

import os


class Peer:
    def __init__(self, cfg: dict) -> None:
        import tensorstore as ts

        self.ts, self.cfg = ts, cfg
        os.environ["AWS_ACCESS_KEY_ID"] = cfg["access_key"]
        os.environ["AWS_SECRET_ACCESS_KEY"] = cfg["secret_key"]
        os.environ["AWS_REGION"] = cfg["region"]
        self.kvstore = {"driver": "s3", "bucket": cfg["bucket"], "path": cfg["key"] + "/",
                        "endpoint": cfg["endpoint"], "aws_region": cfg["region"],
                        "aws_credentials": {"type": "environment"}}
        self.ctx = None

    def _spec(self, shape=None):
        spec = {"driver": "zarr3", "kvstore": self.kvstore}
        if shape is not None:
            c = self.cfg["c"]
            spec["metadata"] = {
                "shape": list(shape), "data_type": "float32",
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [c, c]}},
                "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
                "fill_value": 0}
        return spec

    def write(self, data) -> None:
        a = self.ts.open(self._spec(data.shape), create=True, delete_existing=True,
                         context=self.ts.Context()).result()
        a.write(data).result()

    def open(self) -> None:
        self.a = self.ts.open(self._spec(), open=True, read=True,
                              context=self.ts.Context()).result()

    def read(self, sel):
        return self.a[sel].read().result()

    def close(self) -> None:
        self.a = None

    def info(self) -> dict:
        from importlib.metadata import version

        return {"tensorstore": version("tensorstore")}
