"""Icechunk (transactional Zarr v3 storage) with zarr-python, its S3 storage on the same server.

Each variant of the array is its own Icechunk repository (prefix ``<key>-<variant>``): a write
opens (or creates) the repository, writes in a writable session on branch ``main`` and commits
(the commit is the durable point, inside the timed region); a read opens a read-only session of
``main``. Icechunk keeps every chunk of a commit in its own objects plus a manifest, so its
requests differ from plain zarr's: it is measured as it is used.
"""

from __future__ import annotations

from . import _zarrcommon as Z
from . import variant_key


class Peer:
    def __init__(self, cfg: dict) -> None:
        import icechunk
        import zarr

        self.ic, self.zarr, self.cfg = icechunk, zarr, cfg
        self.session = None

    def _repo(self, variant: str, create: bool):
        storage = self.ic.s3_storage(
            bucket=self.cfg["bucket"], prefix=variant_key(self.cfg["key"], variant),
            region=self.cfg["region"], endpoint_url=self.cfg["endpoint"], allow_http=True,
            access_key_id=self.cfg["access_key"], secret_access_key=self.cfg["secret_key"],
            force_path_style=True)
        if create:
            return self.ic.Repository.open_or_create(storage)
        return self.ic.Repository.open(storage)

    def _write(self, variant: str, fill) -> None:
        session = self._repo(variant, True).writable_session("main")
        fill(session.store)
        session.commit(f"benchmark {variant}")

    def write(self, data, variant: str = "plain") -> None:
        self._write(variant, lambda store: Z.write(self.zarr, store, "data", data, variant,
                                                   self.cfg["c"]))

    def _store(self, variant: str):
        return self._repo(variant, False).readonly_session(branch="main").store

    def open(self, variant: str = "plain") -> None:
        self.a = self.zarr.open_array(self._store(variant), path="data", mode="r")

    def read(self, sel):
        return Z.read(self.a, sel)

    def close(self) -> None:
        self.a = None

    def write_many(self, count: int) -> None:
        self._write("many", lambda store: Z.write_many(self.zarr, store, "g", count))

    def read_many(self, count: int):
        return Z.read_many(self.zarr, self._store("many"), "g", count)

    def append(self, data, rows: int) -> None:
        self._write("append", lambda store: Z.append(self.zarr, store, "data", data, rows,
                                                     self.cfg["c"]))

    def info(self) -> dict:
        from importlib.metadata import version

        return {"icechunk": version("icechunk"), "zarr": self.zarr.__version__}
