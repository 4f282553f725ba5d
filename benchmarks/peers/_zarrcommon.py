"""What the zarr-python peers (zarr-python on obstore, Icechunk) share: array options per
variant, reads (orthogonal indexing for W9's row lists), W11 and W12 on a zarr store."""

from __future__ import annotations

import numpy as np

import workloads as W


def array_kwargs(zarr, variant: str, c: int) -> dict:
    kw = {"chunks": (c, c), "compressors": None, "filters": None, "fill_value": 0}
    if variant == "gzip":
        kw["compressors"] = zarr.codecs.GzipCodec(level=W.GZIP_LEVEL)
    elif variant == "zstd":
        kw["compressors"] = zarr.codecs.ZstdCodec(level=W.ZSTD_LEVEL)
    elif variant == "shard":
        kw["shards"] = (W.SHARD * c, W.SHARD * c)
    return kw


def write(zarr, store, path: str, data: np.ndarray, variant: str, c: int) -> None:
    a = zarr.create_array(store, name=path, shape=data.shape, dtype=data.dtype,
                          overwrite=True, **array_kwargs(zarr, variant, c))
    a[...] = data


def read(a, sel):
    if any(isinstance(s, np.ndarray) for s in sel):
        return a.oindex[sel]
    return a[sel]


def write_many(zarr, store, path: str, count: int) -> None:
    g = zarr.create_group(store, path=path, overwrite=True)
    for k in range(count):
        a = g.create_array(W.many_name(k), shape=(W.MANY_LEN,), chunks=(W.MANY_LEN,),
                           dtype="float32", compressors=None, filters=None, fill_value=0)
        a[...] = W.many_values(k)


def read_many(zarr, store, path: str, count: int) -> np.ndarray:
    g = zarr.open_group(store, path=path, mode="r")
    return np.array([g[W.many_name(k)][k % W.MANY_LEN] for k in range(count)],
                    dtype=np.float32)


def append(zarr, store, path: str, data: np.ndarray, rows: int, c: int) -> None:
    n, m = data.shape
    a = zarr.create_array(store, name=path, shape=(0, m), dtype=data.dtype, overwrite=True,
                          **array_kwargs(zarr, "plain", c))
    for i in range(0, n, rows):
        a.append(data[i:i + rows], axis=0)
