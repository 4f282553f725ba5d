"""``ls``, ``tree``, ``info`` and ``du``: what a file holds, from h5py plus (for stores) the object
listing of the file's key prefix.

Per dataset: shape, dtype, HDF5 chunks (``-`` when the program asked for none), the codecs
(filters), and with ``-l`` the stored objects (chunk objects) and bytes with the compression
ratio (stored / logical bytes). A store file's ``_arraymorph_cp_incomplete`` root attribute (an
interrupted ``cp``) is reported.
"""

from __future__ import annotations

import json
import math
import posixpath
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import h5py
import numpy as np
from h5py._hl import filters as h5filters

from arraymorph import _core
from arraymorph._h5py_refs import old_style_attribute_refs

from .copy import MARKER
from .errors import NOT_FOUND, CliError
from .locations import Location, open_file
from .progress import human_bytes


@dataclass
class Entry:
    path: str
    kind: str  # group | dataset | link
    shape: Optional[tuple] = None
    dtype: str = ""
    chunks: Optional[tuple] = None
    codecs: List[str] = field(default_factory=list)
    target: str = ""
    objects: int = 0
    stored: int = 0
    logical: int = 0

    def ratio(self) -> Optional[float]:
        return self.stored / self.logical if self.logical else None


def codecs_of(dset: h5py.Dataset) -> List[str]:
    try:
        pipeline = h5filters.get_filters(dset.id.get_create_plist())
    except Exception:  # noqa: BLE001
        return []
    out = []
    for name, opts in pipeline.items():
        name = {32015: "zstd", "32015": "zstd"}.get(name, name)
        if isinstance(opts, (tuple, list)):
            opts = opts[0] if opts else None
        out.append(f"{name}({opts})" if opts not in (None, (), "") and name != "shuffle" else str(name))
    return out


def dtype_text(dt: np.dtype) -> str:
    vlen = h5py.check_vlen_dtype(dt)
    if vlen is str:
        return "string (variable length)"
    if vlen is bytes:
        return "bytes (variable length)"
    if vlen is not None:
        return f"vlen {vlen}"
    if h5py.check_enum_dtype(dt) is not None:
        return f"enum {dt} {dict(h5py.check_enum_dtype(dt))}"
    if h5py.check_ref_dtype(dt) is not None:
        return "object reference"
    if dt.names:
        return "compound {" + ", ".join(f"{n}: {dtype_text(dt.fields[n][0])}" for n in dt.names) + "}"
    if dt.kind == "S":
        return f"string ({dt.itemsize} bytes)"
    return str(dt)


def _is_chunk_key(parts: List[str], i: int) -> bool:
    return parts[i] == "c" and all(p.isdigit() for p in parts[i + 1:])


def store_usage(loc: Location, datasets: List[str]) -> Tuple[Dict[str, Tuple[int, int]], int, int]:
    """Chunk objects and bytes per dataset path (keys below ``<path>/c``), plus the file's total
    objects and bytes (metadata included)."""
    known = {d.strip("/") for d in datasets}
    per: Dict[str, Tuple[int, int]] = {}
    total_n = total_b = 0
    for key, size in _core.store_list(loc.url):
        total_n += 1
        total_b += size
        parts = key.split("/")
        for i in range(len(parts)):
            if _is_chunk_key(parts, i) and "/".join(parts[:i]) in known:
                name = "/" + "/".join(parts[:i])
                n, b = per.get(name, (0, 0))
                per[name] = (n + 1, b + size)
                break
    return per, total_n, total_b


def native_usage(dset: h5py.Dataset) -> Tuple[int, int]:
    try:
        n = dset.id.get_num_chunks() if dset.chunks else (1 if dset.id.get_storage_size() else 0)
    except Exception:  # noqa: BLE001
        n = 0
    return n, dset.id.get_storage_size()


def entries(f: h5py.File, loc: Location, recursive: bool, long: bool) -> List[Entry]:
    start = loc.path
    if start != "/" and start not in f:
        raise CliError(f"no object '{start}' in {loc.url}", NOT_FOUND)
    out: List[Entry] = []
    obj = f[start]

    def visit(group: h5py.Group, path: str) -> None:
        for name in group:
            child = posixpath.join(path, name)
            link = group.get(name, getlink=True)
            if isinstance(link, h5py.SoftLink):
                out.append(Entry(child, "link", target=link.path))
                continue
            if isinstance(link, h5py.ExternalLink):
                out.append(Entry(child, "link", target=f"{link.filename}:{link.path}"))
                continue
            o = group.get(name)
            if isinstance(o, h5py.Group):
                out.append(Entry(child, "group"))
                if recursive:
                    visit(o, child)
            elif isinstance(o, h5py.Dataset):
                out.append(dataset_entry(o, child))

    if isinstance(obj, h5py.Dataset):
        out.append(dataset_entry(obj, start))
    else:
        visit(obj, start)
    if long:
        dsets = [e for e in out if e.kind == "dataset"]
        if loc.native:
            for e in dsets:
                e.objects, e.stored = native_usage(f[e.path])
        else:
            per, _, _ = store_usage(loc, [e.path for e in dsets])
            for e in dsets:
                e.objects, e.stored = per.get(e.path, (0, 0))
    return out


def dataset_entry(d: h5py.Dataset, path: str) -> Entry:
    shape = d.shape
    logical = (math.prod(shape) if shape is not None else 0) * d.dtype.itemsize
    return Entry(path, "dataset", shape=shape, dtype=dtype_text(d.dtype), chunks=d.chunks,
                 codecs=codecs_of(d), logical=logical)


def format_entry(e: Entry, long: bool, name: Optional[str] = None) -> str:
    name = name or e.path
    if e.kind == "group":
        return f"group    {name}/"
    if e.kind == "link":
        return f"link     {name} -> {e.target}"
    chunks = "x".join(map(str, e.chunks)) if e.chunks else "-"
    text = (f"dataset  {name}  {e.shape if e.shape is not None else 'empty'}  {e.dtype}  "
            f"chunks {chunks}  {','.join(e.codecs) or 'raw'}")
    if long:
        ratio = e.ratio()
        text += f"  {e.objects} objects  {human_bytes(e.stored)}" + (f"  ratio {ratio:.2f}" if ratio is not None else "")
    return text


def incomplete_note(f: h5py.File) -> Optional[str]:
    if MARKER not in f.attrs:
        return None
    raw = f.attrs[MARKER]
    try:
        info = json.loads(raw)
    except (TypeError, ValueError):
        return "incomplete copy"
    parts = [f"incomplete copy from {info.get('source', '?')} ({info.get('state', '?')})"]
    if info.get("partial"):
        parts.append("partial: " + ", ".join(info["partial"]))
    if info.get("not_started"):
        parts.append("not started: " + ", ".join(info["not_started"]))
    return "; ".join(parts)


def tree_lines(f: h5py.File, loc: Location) -> List[str]:
    lines = [f"{loc}"]

    def visit(group: h5py.Group, prefix: str) -> None:
        names = list(group)
        for i, name in enumerate(names):
            last = i == len(names) - 1
            branch = "└── " if last else "├── "
            link = group.get(name, getlink=True)
            if isinstance(link, (h5py.SoftLink, h5py.ExternalLink)):
                target = link.path if isinstance(link, h5py.SoftLink) else f"{link.filename}:{link.path}"
                lines.append(f"{prefix}{branch}{name} -> {target}")
                continue
            o = group.get(name)
            if isinstance(o, h5py.Group):
                lines.append(f"{prefix}{branch}{name}/")
                visit(o, prefix + ("    " if last else "│   "))
            elif isinstance(o, h5py.Dataset):
                e = dataset_entry(o, name)
                lines.append(f"{prefix}{branch}{name}  {e.shape}  {e.dtype}  {','.join(e.codecs) or 'raw'}")

    obj = f[loc.path]
    if isinstance(obj, h5py.Group):
        visit(obj, "")
    return lines


def _jsonable(value):
    if isinstance(value, h5py.Empty):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()] if value.dtype.hasobject else _jsonable(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, h5py.Reference):
        return "<reference>"
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def info(f: h5py.File, loc: Location) -> dict:
    path = loc.path
    if path != "/" and path not in f:
        raise CliError(f"no object '{path}' in {loc.url}", NOT_FOUND)
    obj = f[path]
    out: dict = {"file": loc.url, "path": path, "storage": "native" if loc.native else "store"}
    attrs = {}
    for name in obj.attrs:
        try:
            with old_style_attribute_refs(_core):  # references typed as h5py reads them
                attrs[name] = {"value": _jsonable(obj.attrs[name]),
                               "dtype": dtype_text(obj.attrs.get_id(name).dtype)}
        except Exception as exc:  # noqa: BLE001
            attrs[name] = {"error": str(exc)}
    if isinstance(obj, h5py.Dataset):
        e = dataset_entry(obj, path)
        out.update(kind="dataset", shape=list(obj.shape) if obj.shape is not None else None,
                   maxshape=[m if m is not None else -1 for m in obj.maxshape] if obj.maxshape else None,
                   dtype=e.dtype, numpy_dtype=str(obj.dtype), chunks=list(obj.chunks) if obj.chunks else None,
                   codecs=e.codecs, fillvalue=_jsonable(obj.fillvalue) if not obj.dtype.hasobject else None,
                   logical_bytes=e.logical)
        if loc.native:
            n, b = native_usage(obj)
        else:
            per, _, _ = store_usage(loc, [path])
            n, b = per.get(path, (0, 0))
            raw = _core.store_get(loc.url, path.strip("/") + "/zarr.json")
            if raw:
                meta = json.loads(raw)
                out["storage_chunks"] = meta.get("chunk_grid", {}).get("configuration", {}).get("chunk_shape")
                out["zarr_codecs"] = [c.get("name") for c in meta.get("codecs", [])]
        out.update(stored_objects=n, stored_bytes=b,
                   compression_ratio=(b / e.logical) if e.logical else None)
    else:
        members = []
        for name in obj:
            link = obj.get(name, getlink=True)
            if isinstance(link, h5py.SoftLink):
                members.append({"name": name, "kind": "link", "target": link.path})
            else:
                o = obj.get(name)
                members.append({"name": name, "kind": "group" if isinstance(o, h5py.Group) else "dataset"})
        out.update(kind="group", members=members)
    out["attributes"] = attrs
    note = incomplete_note(f) if path == "/" else None
    if note:
        out["incomplete_copy"] = note
    return out
