"""TensorStore, zarr3 driver on its s3 kvstore (credentials from AWS_* variables).

W11 uses TensorStore as it is meant to be used: the 1,000 opens are issued together, then the
1,000 one-element reads (futures), where the h5py and zarr-python peers go one after another.
"""

from __future__ import annotations

import os

import numpy as np

import workloads as W

from . import variant_key

BYTES = {"name": "bytes", "configuration": {"endian": "little"}}


def codecs(variant: str, c: int) -> tuple[list, list]:
    """(chunk_shape of the chunk grid, codec chain) of a variant."""
    if variant == "gzip":
        return [c, c], [BYTES, {"name": "gzip", "configuration": {"level": W.GZIP_LEVEL}}]
    if variant == "zstd":
        return [c, c], [BYTES, {"name": "zstd", "configuration": {"level": W.ZSTD_LEVEL}}]
    if variant == "shard":
        return [W.SHARD * c] * 2, [{"name": "sharding_indexed", "configuration": {
            "chunk_shape": [c, c], "codecs": [BYTES],
            "index_codecs": [BYTES, {"name": "crc32c"}], "index_location": "end"}}]
    return [c, c], [BYTES]


class Peer:
    def __init__(self, cfg: dict) -> None:
        import tensorstore as ts

        self.ts, self.cfg = ts, cfg
        os.environ["AWS_ACCESS_KEY_ID"] = cfg["access_key"]
        os.environ["AWS_SECRET_ACCESS_KEY"] = cfg["secret_key"]
        os.environ["AWS_REGION"] = cfg["region"]
        self.ctx = None

    def _spec(self, path: str, shape=None, variant: str = "plain", chunk=None):
        kvstore = {"driver": "s3", "bucket": self.cfg["bucket"], "path": path + "/",
                   "endpoint": self.cfg["endpoint"], "aws_region": self.cfg["region"],
                   "aws_credentials": {"type": "environment"}}
        spec = {"driver": "zarr3", "kvstore": kvstore}
        if shape is not None:
            grid, chain = codecs(variant, self.cfg["c"])
            spec["metadata"] = {
                "shape": list(shape), "data_type": "float32",
                "chunk_grid": {"name": "regular",
                               "configuration": {"chunk_shape": chunk or grid}},
                "codecs": chain, "fill_value": 0}
        return spec

    def _create(self, path: str, shape, variant: str = "plain", ctx=None, chunk=None):
        return self.ts.open(self._spec(path, shape, variant, chunk), create=True,
                            delete_existing=True, context=ctx or self.ts.Context())

    def write(self, data, variant: str = "plain") -> None:
        a = self._create(variant_key(self.cfg["key"], variant), data.shape, variant).result()
        a.write(data).result()

    def open(self, variant: str = "plain") -> None:
        self.a = self.ts.open(self._spec(variant_key(self.cfg["key"], variant)), open=True,
                              read=True, context=self.ts.Context()).result()

    def read(self, sel):
        if any(isinstance(s, np.ndarray) for s in sel):
            return self.a.oindex[sel].read().result()
        return self.a[sel].read().result()

    def close(self) -> None:
        self.a = None

    def _many_path(self, k: int) -> str:
        return f"{variant_key(self.cfg['key'], 'many')}/{W.many_name(k)}"

    def write_many(self, count: int) -> None:
        ctx = self.ts.Context()
        opened = [self._create(self._many_path(k), (W.MANY_LEN,), ctx=ctx,
                               chunk=[W.MANY_LEN]) for k in range(count)]
        writes = [f.result().write(W.many_values(k)) for k, f in enumerate(opened)]
        for w in writes:
            w.result()

    def read_many(self, count: int):
        ctx = self.ts.Context()
        opened = [self.ts.open(self._spec(self._many_path(k)), open=True, read=True,
                               context=ctx) for k in range(count)]
        reads = [f.result()[k % W.MANY_LEN].read() for k, f in enumerate(opened)]
        return np.array([r.result() for r in reads], dtype=np.float32)

    def append(self, data, rows: int) -> None:
        n, m = data.shape
        a = self._create(variant_key(self.cfg["key"], "append"), (0, m)).result()
        for i in range(0, n, rows):
            a = a.resize(exclusive_max=[i + rows, m]).result()
            a[i:i + rows].write(data[i:i + rows]).result()

    def info(self) -> dict:
        from importlib.metadata import version

        return {"tensorstore": version("tensorstore")}
