"""Where a command's arguments point: a native HDF5/netCDF-4 file on disk, or an arraymorph file in
an object store, plus an optional object path inside it (``URL:/group/dataset``).

Rules (docs/cli.md):

- ``s3://``, ``az://``, ``file://`` (and ``mem://``, in-process) URLs are arraymorph stores.
- A plain path that is an existing regular file is a native HDF5 file (checked by signature).
- Any other plain name is a file in the configured store (``STORAGE_PLATFORM``/``BUCKET_NAME``,
  or the local root), exactly as ``h5py.File("name")`` resolves it with arraymorph enabled.
- For ``cp``'s destination, a plain name is a native file when the source is in a store and a
  store name when the source is native (the copy always crosses the boundary it names).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Optional

import h5py
from h5py import h5f, h5p

import arraymorph
from arraymorph import _core

from .errors import EXISTS, NOT_FOUND, USAGE, CliError

STORE_SCHEMES = ("s3", "az", "file", "mem")
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# HDF5 looks for its signature at offset 0, 512, 1024, ... (a user block may precede it).
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


@dataclass(frozen=True)
class Location:
    """``kind`` is "native" (``url`` is a filesystem path) or "store" (``url`` is what
    ``arraymorph.open`` takes); ``path`` is the object inside the file ("/" for the root)."""

    kind: str
    url: str
    path: str = "/"

    @property
    def native(self) -> bool:
        return self.kind == "native"

    def __str__(self) -> str:
        return self.url if self.path == "/" else f"{self.url}:{self.path}"


def split_object_path(text: str) -> tuple:
    """``"s3://b/a.h5:/g/x"`` -> ``("s3://b/a.h5", "/g/x")``; no ``:/`` suffix -> path "/"."""
    scheme = _SCHEME_RE.match(text)
    start = scheme.end() if scheme else 0
    i = text.rfind(":/", start)
    if i <= 0:
        return text, "/"
    path = "/" + text[i + 2:].strip("/")
    return text[:i], path


def is_hdf5_file(path: str) -> bool:
    """True when ``path`` is a regular file carrying the HDF5 signature (also netCDF-4)."""
    try:
        with open(path, "rb") as f:
            offset = 0
            while True:
                f.seek(offset)
                head = f.read(8)
                if len(head) < 8:
                    return False
                if head == _HDF5_SIGNATURE:
                    return True
                offset = 512 if offset == 0 else offset * 2
    except OSError:
        return False


def _store_url(text: str) -> str:
    scheme = _SCHEME_RE.match(text)
    if scheme:
        name = scheme.group(1).lower()
        if name not in STORE_SCHEMES:
            raise CliError(f"unsupported URL scheme '{name}://' in '{text}' (use s3://, az://, "
                           f"file:// or a local .h5/.nc path)", USAGE)
        rest = text[scheme.end():]
        parts = rest.strip("/").split("/", 1)
        if name in ("s3", "az", "mem") and (len(parts) < 2 or not parts[1]):
            raise CliError(f"'{text}' names a bucket or container, not a file inside it "
                           f"(e.g. {name}://{parts[0] or 'bucket'}/data.h5)", USAGE)
    if not text.strip("/"):
        raise CliError("empty file name", USAGE)
    return text.rstrip("/") if not text.endswith(":///") else text


def parse(text: str, prefer: Optional[str] = None) -> Location:
    """Classify one argument. ``prefer`` ("native"/"store") decides plain names that do not exist
    on disk (cp's destination); otherwise a plain name is a store name unless it is a file."""
    if not text:
        raise CliError("empty location", USAGE)
    file_part, path = split_object_path(text)
    if _SCHEME_RE.match(file_part):
        return Location("store", _store_url(file_part), path)
    if os.path.isfile(file_part):
        if not is_hdf5_file(file_part):
            raise CliError(f"'{file_part}' is not an HDF5 or netCDF-4 file", USAGE)
        return Location("native", os.path.abspath(file_part), path)
    if prefer == "native":
        return Location("native", os.path.abspath(file_part), path)
    return Location("store", _store_url(file_part), path)


def exists(loc: Location) -> bool:
    """Whether the file exists (a native file on disk; a store file's root ``zarr.json``)."""
    if loc.native:
        return os.path.exists(loc.url)
    try:
        return _core.store_get(loc.url, "zarr.json") is not None
    except RuntimeError as exc:
        if "does not exist" in str(exc):  # a local store whose directory is not there yet
            return False
        raise


def _register_filter_plugins() -> None:
    """Native files may use zstd/blosc/lz4...: hdf5plugin registers them when installed."""
    try:
        import hdf5plugin  # noqa: F401
    except ImportError:
        pass


def _native_fapl():
    _register_filter_plugins()
    fapl = h5p.create(h5p.FILE_ACCESS)
    _core.set_native_vol(fapl.id)
    fapl.set_fclose_degree(h5f.CLOSE_STRONG)
    return fapl


def open_file(loc: Location, mode: str = "r", track_order: bool = False) -> h5py.File:
    """Open the file of ``loc``. Modes: "r", "r+", "w" (truncate), "x" (fail if it exists).

    Raises CliError (NOT_FOUND / EXISTS) with a one-line message for the common failures.
    """
    if mode == "r" and not exists(loc):
        raise CliError(f"no such file: {loc.url}", NOT_FOUND)
    if mode == "x" and exists(loc):
        raise CliError(f"destination exists: {loc.url} (use --overwrite to replace it, or "
                       f"--resume to complete an interrupted copy)", EXISTS)
    if not loc.native:
        try:
            return arraymorph.open(loc.url, mode)
        except FileNotFoundError:
            raise CliError(f"no such file: {loc.url}", NOT_FOUND) from None
    name = os.fsencode(loc.url)
    fapl = _native_fapl()
    if mode in ("r", "r+"):
        fid = h5f.open(name, h5f.ACC_RDONLY if mode == "r" else h5f.ACC_RDWR, fapl=fapl)
    else:
        fcpl = h5p.create(h5p.FILE_CREATE)
        if track_order:
            fcpl.set_link_creation_order(h5p.CRT_ORDER_TRACKED | h5p.CRT_ORDER_INDEXED)
            fcpl.set_attr_creation_order(h5p.CRT_ORDER_TRACKED | h5p.CRT_ORDER_INDEXED)
        flag = h5f.ACC_TRUNC if mode == "w" else h5f.ACC_EXCL
        fid = h5f.create(name, flag, fapl=fapl, fcpl=fcpl)
    return h5py.File(fid)
