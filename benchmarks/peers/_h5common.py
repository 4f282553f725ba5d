"""What the h5py-like peers (arraymorph, native h5py, h5pyd) share: dataset creation options per
variant, and W11/W12 on an open file object."""

from __future__ import annotations

import numpy as np

import workloads as W


def dataset_kwargs(variant: str, c: int, zstd_by_name: bool = False) -> dict:
    """create_dataset options of a variant; HDF5 has no shards."""
    if variant == "shard":
        raise W.Unsupported("HDF5 datasets have no shards")
    kw = {"chunks": (c, c)}
    if variant == "gzip":
        kw.update(compression="gzip", compression_opts=W.GZIP_LEVEL)
    elif variant == "zstd":
        if zstd_by_name:  # h5pyd: HSDS names its compressors
            kw.update(compression="zstd", compression_opts=W.ZSTD_LEVEL)
        else:
            import hdf5plugin  # registers HDF5 filter 32015 (zstd)

            kw.update(hdf5plugin.Zstd(clevel=W.ZSTD_LEVEL))
    return kw


def write_many(f, count: int) -> None:
    for k in range(count):
        f.create_dataset(W.many_name(k), data=W.many_values(k), chunks=(W.MANY_LEN,))


def read_many(f, count: int) -> np.ndarray:
    return np.array([f[W.many_name(k)][k % W.MANY_LEN] for k in range(count)], dtype=np.float32)


def append(f, data: np.ndarray, rows: int, c: int) -> None:
    n, m = data.shape
    d = f.create_dataset("data", shape=(0, m), maxshape=(None, m), dtype=data.dtype,
                         chunks=(c, c))
    for i in range(0, n, rows):
        d.resize(i + rows, axis=0)
        d[i:i + rows] = data[i:i + rows]
