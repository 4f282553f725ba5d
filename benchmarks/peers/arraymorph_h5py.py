"""arraymorph (this repository's, or the published 0.2.0b4 wheel) under plain h5py, over S3."""

from __future__ import annotations

import os

import workloads as W

from . import variant_key
from ._h5common import H5FilePeer


class Peer(H5FilePeer):
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

    def _file(self, variant: str, mode: str):
        return self.h5py.File(variant_key(self.cfg["key"], variant) + ".h5", mode)

    def _kwargs(self, variant: str) -> dict:
        if variant != "shard":
            return super()._kwargs(variant)
        if not hasattr(self.am, "shards"):
            raise W.Unsupported("this arraymorph has no shards (arraymorph.shards)")
        return {"chunks": (self.cfg["c"], self.cfg["c"])}

    def _creating(self, variant: str):
        return self.am.shards(W.SHARD) if variant == "shard" else super()._creating(variant)

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
