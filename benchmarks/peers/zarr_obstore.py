"""zarr-python 3 with ``zarr.storage.ObjectStore`` over obstore's S3Store (uncompressed)."""

from __future__ import annotations


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

    def write(self, data) -> None:
        a = self.zarr.create_array(self.store, name=self.cfg["key"], shape=data.shape,
                                   chunks=(self.cfg["c"], self.cfg["c"]), dtype=data.dtype,
                                   compressors=None, filters=None, fill_value=0,
                                   overwrite=True)
        a[...] = data

    def open(self) -> None:
        self.a = self.zarr.open_array(self.store, path=self.cfg["key"], mode="r")

    def read(self, sel):
        return self.a[sel]

    def close(self) -> None:
        self.a = None

    def info(self) -> dict:
        return self.versions
