"""arraymorph (this repository's, or the published 0.2.0b4 wheel) under plain h5py, over S3."""

from __future__ import annotations

import os


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
        self.name = cfg["key"] + ".h5"
        self.f = None

    def write(self, data) -> None:
        with self.h5py.File(self.name, "w") as f:
            f.create_dataset("data", shape=data.shape, dtype=data.dtype,
                             chunks=(self.cfg["c"], self.cfg["c"]))
            f["data"][...] = data

    def open(self) -> None:
        self.f = self.h5py.File(self.name, "r")
        self.d = self.f["data"]

    def read(self, sel):
        return self.d[sel]

    def close(self) -> None:
        self.f.close()
        self.f = None

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
