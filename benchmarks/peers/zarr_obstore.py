"""zarr-python 3 with ``zarr.storage.ObjectStore`` over obstore's S3Store."""

from __future__ import annotations

from . import _zarrcommon as Z
from . import variant_key


class Peer:
    def __init__(self, cfg: dict) -> None:
        import zarr
        from obstore.store import S3Store

        self.zarr, self.cfg = zarr, cfg
        s3 = S3Store(cfg["bucket"], endpoint=cfg["endpoint"], region=cfg["region"],
                     access_key_id=cfg["access_key"], secret_access_key=cfg["secret_key"],
                     virtual_hosted_style_request=False, client_options={"allow_http": True})
        self.store = zarr.storage.ObjectStore(s3)
        from importlib.metadata import version

        self.versions = {"zarr": zarr.__version__, "obstore": version("obstore")}

    def _path(self, variant: str) -> str:
        return variant_key(self.cfg["key"], variant)

    def write(self, data, variant: str = "plain") -> None:
        Z.write(self.zarr, self.store, self._path(variant), data, variant, self.cfg["c"])

    def open(self, variant: str = "plain") -> None:
        self.a = self.zarr.open_array(self.store, path=self._path(variant), mode="r")

    def read(self, sel):
        return Z.read(self.a, sel)

    def close(self) -> None:
        self.a = None

    def write_many(self, count: int) -> None:
        Z.write_many(self.zarr, self.store, self._path("many"), count)

    def read_many(self, count: int):
        return Z.read_many(self.zarr, self.store, self._path("many"), count)

    def append(self, data, rows: int) -> None:
        Z.append(self.zarr, self.store, self._path("append"), data, rows, self.cfg["c"])

    def info(self) -> dict:
        return self.versions
