"""arraymorph (this repository's, or the published 0.2.0b4 wheel) under plain h5py, over S3."""

from __future__ import annotations

import contextlib
import os

import workloads as W

from . import _h5common as H
from . import variant_key


class Peer:
    def __init__(self, cfg: dict) -> None:
        import arraymorph

        self.cfg = cfg
        self.am = arraymorph
        kw = dict(bucket=cfg["bucket"], access_key=cfg["access_key"],
                  secret_key=cfg["secret_key"], endpoint=cfg["endpoint"], region=cfg["region"],
                  use_tls=False, addressing_style=True,
                  use_signed_payloads=bool(cfg.get("published")))
        if cfg.get("published"):
            # 0.2.0b4: configure_s3 only sets environment variables read when the connector
            # initialises, so it must run before h5py/HDF5 is imported.
            arraymorph.configure_s3(**kw)
            arraymorph.enable()
            if cfg.get("plugin_dir"):
                # the wheel's plugin re-linked to the HDF5 h5py uses (see setup_peers.sh)
                os.environ["HDF5_PLUGIN_PATH"] = cfg["plugin_dir"]
        else:
            arraymorph.enable()
            arraymorph.configure_s3(**kw)
            if cfg.get("settings"):
                arraymorph.configure(**cfg["settings"])
        import h5py

        self.h5py = h5py
        self.f = None

    def _name(self, variant: str) -> str:
        return variant_key(self.cfg["key"], variant) + ".h5"

    def _kwargs(self, variant: str) -> dict:
        if variant != "shard":
            return H.dataset_kwargs(variant, self.cfg["c"])
        if not hasattr(self.am, "shards"):
            raise W.Unsupported("this arraymorph has no shards (arraymorph.shards)")
        return {"chunks": (self.cfg["c"], self.cfg["c"])}

    def write(self, data, variant: str = "plain") -> None:
        kw = self._kwargs(variant)
        with self.h5py.File(self._name(variant), "w") as f, (
                self.am.shards(W.SHARD) if variant == "shard" else contextlib.nullcontext()):
            f.create_dataset("data", shape=data.shape, dtype=data.dtype, **kw)
            f["data"][...] = data

    def open(self, variant: str = "plain") -> None:
        self._kwargs(variant)  # N/A where shards are not there
        self.f = self.h5py.File(self._name(variant), "r")
        self.d = self.f["data"]

    def read(self, sel):
        return self.d[sel]

    def close(self) -> None:
        self.f.close()
        self.f = None

    def write_many(self, count: int) -> None:
        with self.h5py.File(self._name("many"), "w") as f:
            H.write_many(f, count)

    def read_many(self, count: int):
        with self.h5py.File(self._name("many"), "r") as f:
            return H.read_many(f, count)

    def append(self, data, rows: int) -> None:
        with self.h5py.File(self._name("append"), "w") as f:
            H.append(f, data, rows, self.cfg["c"])

    def stats_reset(self) -> None:
        if hasattr(self.am, "reset_stats"):
            self.am.reset_stats()

    def stats(self):
        return self.am.stats() if hasattr(self.am, "stats") else None

    def info(self) -> dict:
        return {"version": getattr(self.am, "__version__", "?"), "file": self.am.__file__,
                "vol": os.environ.get("HDF5_VOL_CONNECTOR"),
                "plugin_path": os.environ.get("HDF5_PLUGIN_PATH"),
                "h5py": self.h5py.__file__, "hdf5": self.h5py.version.hdf5_version}
