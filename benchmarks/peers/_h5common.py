"""What the h5py-like peers (arraymorph, native h5py, h5py on s3fs, h5pyd) share: dataset creation
options per variant, and every operation on a file object (``H5FilePeer``); a peer says how it
opens a file (``_file``) and what follows a write (``_written``)."""

from __future__ import annotations

import contextlib

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


class H5FilePeer:
    """The benchmark's operations on an h5py-like File; the dataset is ``data``."""

    zstd_by_name = False

    def _file(self, variant: str, mode: str):
        raise NotImplementedError

    def _written(self, variant: str) -> None:
        """After a write's file is closed (upload, flush): still inside the timed region."""

    def _kwargs(self, variant: str) -> dict:
        return dataset_kwargs(variant, self.cfg["c"], self.zstd_by_name)

    def _creating(self, variant: str):
        """Context around dataset creation (arraymorph's shards)."""
        return contextlib.nullcontext()

    def write(self, data, variant: str = "plain") -> None:
        kw = self._kwargs(variant)
        with self._file(variant, "w") as f, self._creating(variant):
            f.create_dataset("data", shape=data.shape, dtype=data.dtype, **kw)
            f["data"][...] = data
        self._written(variant)

    def open(self, variant: str = "plain") -> None:
        self._kwargs(variant)  # N/A where the variant cannot exist
        self.f = self._file(variant, "r")
        self.d = self.f["data"]

    def read(self, sel):
        return self.d[sel]

    def close(self) -> None:
        self.f.close()
        self.f = None

    def write_many(self, count: int) -> None:
        with self._file("many", "w") as f:
            for k in range(count):
                f.create_dataset(W.many_name(k), data=W.many_values(k), chunks=(W.MANY_LEN,))
        self._written("many")

    def read_many(self, count: int) -> np.ndarray:
        with self._file("many", "r") as f:
            return np.array([f[W.many_name(k)][k % W.MANY_LEN] for k in range(count)],
                            dtype=np.float32)

    def append(self, data: np.ndarray, rows: int) -> None:
        n, m = data.shape
        with self._file("append", "w") as f:
            d = f.create_dataset("data", shape=(0, m), maxshape=(None, m), dtype=data.dtype,
                                 chunks=(self.cfg["c"], self.cfg["c"]))
            for i in range(0, n, rows):
                d.resize(i + rows, axis=0)
                d[i:i + rows] = data[i:i + rows]
        self._written("append")
