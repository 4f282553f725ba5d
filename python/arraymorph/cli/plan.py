"""What ``arraymorph cp`` will create: the source tree walked once into groups, datasets (with the
creation settings the destination gets) and soft links, before anything is written.

Destination settings (docs/cli.md, "What is copied"):

- dtype, shape, maxshape, fill value (when the source defines one), attributes: as in the source.
- chunks: ``--chunks`` for that dataset, else ``--rechunk`` (the rule below), else the source's
  chunk shape. A contiguous or compact source dataset (no chunks) stays unchunked for HDF5: in a
  store the connector splits it with its documented rule (docs/format.md: chunks of at most 4 MiB,
  halving dimensions round-robin from the first); a native destination keeps it contiguous.
- filters: ``--compression`` if given, else the source's whole filter pipeline (gzip, shuffle,
  zstd, blosc, lzf, fletcher32, nbit, scale-offset, any registered plugin), filter by filter with
  the same flags and parameters (the connector runs every HDF5 filter, docs/format.md).
"""

from __future__ import annotations

import math
import posixpath
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import h5py
import numpy as np
from h5py import h5d, h5p

from .errors import NOT_FOUND, USAGE, CliError

ZSTD_FILTER = 32015
BLOSC_FILTER = 32001
DEFAULT_CHUNK_BYTES = 4 << 20  # the connector's own rule for unchunked datasets


@dataclass
class DatasetPlan:
    path: str
    shape: Optional[Tuple[int, ...]]  # None: null dataspace (h5py.Empty)
    maxshape: Optional[Tuple[Optional[int], ...]]
    dtype: np.dtype
    src_chunks: Optional[Tuple[int, ...]]
    chunks: Optional[Tuple[int, ...]]  # what the destination is created with
    filters: Dict[str, object]  # --compression as create_dataset keywords (compression, ..., shuffle)
    pipeline: List[Tuple[int, int, tuple, str]] = field(default_factory=list)  # kept source filters
    fillvalue: object = None
    layout: str = "chunked"  # source layout: chunked | contiguous | compact | virtual | external
    nbytes: int = 0

    @property
    def compressed(self) -> bool:
        """Whether stored chunks may differ in size from the raw chunk bytes."""
        return bool(self.filters) or bool(self.pipeline)

    @property
    def fixed_size(self) -> bool:
        """Elements of a fixed size (numeric, fixed strings, compounds of those): copied in slabs
        through shared memory; variable-length data goes through Python objects."""
        return not self.dtype.hasobject and h5py.check_vlen_dtype(self.dtype) is None


@dataclass
class Plan:
    root: str  # the subset path ("/" for the whole file)
    groups: List[Tuple[str, bool]] = field(default_factory=list)  # (path, track_order)
    datasets: List[DatasetPlan] = field(default_factory=list)
    links: List[Tuple[str, str]] = field(default_factory=list)  # (path, soft link target)
    warnings: List[str] = field(default_factory=list)

    @property
    def nbytes(self) -> int:
        return sum(d.nbytes for d in self.datasets)


def parse_shape(text: str) -> Tuple[int, ...]:
    """``"64,64"`` / ``"64x64"`` -> (64, 64); raises CliError(USAGE)."""
    try:
        shape = tuple(int(p) for p in text.replace("x", ",").split(",") if p.strip())
    except ValueError:
        shape = ()
    if not shape or any(n <= 0 for n in shape):
        raise CliError(f"bad chunk shape '{text}' (expected positive integers like 64,64)", USAGE)
    return shape


def parse_chunks_options(values: List[str]) -> Tuple[Dict[str, tuple], Dict[int, tuple]]:
    """``--chunks`` values: ``PATH=SHAPE`` for one dataset or ``SHAPE`` for every dataset of
    that rank. Returns (by path, by rank)."""
    by_path, by_rank = {}, {}
    for v in values:
        if "=" in v:
            path, shape = v.split("=", 1)
            by_path["/" + path.strip("/")] = parse_shape(shape)
        else:
            s = parse_shape(v)
            by_rank[len(s)] = s
    return by_path, by_rank


def parse_compression(text: Optional[str]) -> Optional[Dict[str, object]]:
    """``--compression``: None/"keep" -> None (keep the source's), "none", "gzip[:N]", "zstd[:N]"."""
    if text is None or text == "keep":
        return None
    name, _, level = text.partition(":")
    name = name.lower()
    try:
        lvl = int(level) if level else None
    except ValueError:
        raise CliError(f"bad compression level in '{text}'", USAGE) from None
    if name == "none":
        return {}
    if name == "gzip":
        lvl = 4 if lvl is None else lvl
        if not 0 <= lvl <= 9:
            raise CliError(f"gzip level must be 0..9, got {lvl}", USAGE)
        return {"compression": "gzip", "compression_opts": lvl}
    if name == "zstd":
        require_filter_plugins("zstd")
        return {"compression": ZSTD_FILTER, "compression_opts": (3 if lvl is None else lvl,)}
    raise CliError(f"unknown compression '{text}' (keep, none, gzip[:0-9], zstd[:level])", USAGE)


def require_filter_plugins(what: str) -> None:
    """h5py only accepts filters registered with HDF5; hdf5plugin registers zstd and blosc."""
    try:
        import hdf5plugin  # noqa: F401 - registers the filters
    except ImportError:
        raise CliError(f"{what} needs the hdf5plugin package (pip install hdf5plugin)", USAGE) from None


def auto_chunks(shape: Tuple[int, ...], itemsize: int, target: int = DEFAULT_CHUNK_BYTES) -> Tuple[int, ...]:
    """The connector's rule for unchunked datasets (docs/format.md): start from the full shape
    and halve dimensions round-robin from the first until a chunk holds at most ``target`` bytes."""
    chunks = [max(1, n) for n in shape]
    d = 0
    while math.prod(chunks) * itemsize > target and any(c > 1 for c in chunks):
        if chunks[d] > 1:
            chunks[d] = (chunks[d] + 1) // 2
        d = (d + 1) % len(chunks)
    return tuple(chunks)


def _layout(dset: h5py.Dataset) -> str:
    try:
        layout = dset.id.get_create_plist().get_layout()
    except Exception:  # noqa: BLE001 - connectors that do not report a layout
        return "chunked" if dset.chunks else "contiguous"
    return {h5d.CHUNKED: "chunked", h5d.CONTIGUOUS: "contiguous", h5d.COMPACT: "compact",
            getattr(h5d, "VIRTUAL", -99): "virtual"}.get(layout, "contiguous")


def source_pipeline(dset: h5py.Dataset) -> List[Tuple[int, int, tuple, str]]:
    """The source's filter pipeline: (filter id, flags, client data, name) per filter, in order."""
    try:
        dcpl = dset.id.get_create_plist()
        out = []
        for i in range(dcpl.get_nfilters()):
            code, flags, values, name = dcpl.get_filter(i)
            out.append((int(code), int(flags), tuple(int(v) for v in values),
                        name.decode(errors="replace") if isinstance(name, bytes) else str(name)))
        return out
    except Exception:  # noqa: BLE001 - a dataset without a pipeline
        return []


def _fillvalue(dset: h5py.Dataset):
    try:
        dcpl = dset.id.get_create_plist()
        if dcpl.fill_value_defined() != h5d.FILL_VALUE_USER_DEFINED:
            return None
    except Exception:  # noqa: BLE001
        pass
    fv = dset.fillvalue
    if dset.dtype.hasobject:
        return None
    return fv


def _track_order(group: h5py.Group) -> bool:
    try:
        return bool(group.id.get_create_plist().get_link_creation_order() & h5p.CRT_ORDER_TRACKED)
    except Exception:  # noqa: BLE001
        return False


def dataset_plan(dset: h5py.Dataset, path: str, warnings: List[str], chunks_by_path=None,
                 chunks_by_rank=None, rechunk_bytes: Optional[int] = None,
                 compression: Optional[Dict[str, object]] = None) -> DatasetPlan:
    shape = dset.shape
    layout = _layout(dset)
    maxshape = dset.maxshape if shape is not None else None
    src_chunks = dset.chunks
    chunks = src_chunks
    rank = len(shape) if shape else 0
    if rank > 0:
        want = (chunks_by_path or {}).get(path) or (chunks_by_rank or {}).get(rank)
        if want is not None:
            if len(want) != rank:
                raise CliError(f"--chunks for {path}: {len(want)} dimensions given, the dataset "
                               f"has {rank}", USAGE)
            chunks = want
        elif rechunk_bytes:
            chunks = auto_chunks(shape, dset.dtype.itemsize, rechunk_bytes)
    else:
        chunks = None
    filters = dict(compression) if compression is not None else {}
    pipeline = source_pipeline(dset) if compression is None and rank > 0 else []
    if rank == 0:
        filters = {}
    elif (filters or pipeline) and chunks is None:
        chunks = auto_chunks(shape, dset.dtype.itemsize)
    if any(code in (ZSTD_FILTER, BLOSC_FILTER) for code, *_ in pipeline) or \
            filters.get("compression") in (ZSTD_FILTER, BLOSC_FILTER):
        require_filter_plugins("zstd/blosc")
    if layout in ("virtual", "external"):
        warnings.append(f"{path}: {layout} dataset copied as a regular dataset")
    size = 0 if shape is None else math.prod(shape)
    return DatasetPlan(path=path, shape=shape, maxshape=maxshape, dtype=dset.dtype,
                       src_chunks=src_chunks, chunks=chunks, filters=filters, pipeline=pipeline,
                       fillvalue=_fillvalue(dset), layout=layout,
                       nbytes=size * dset.dtype.itemsize)


def build(f: h5py.File, root: str = "/", **options) -> Plan:
    """Walk ``f`` from ``root`` (a group or a dataset) depth-first in name order (creation order
    where the source tracks it)."""
    plan = Plan(root=root)
    if root != "/" and root not in f:
        raise CliError(f"no object '{root}' in {f.filename}", NOT_FOUND)
    # The subset's ancestors exist in the destination as (attribute-less) groups.
    parts = [p for p in root.split("/") if p]
    for i in range(1, len(parts)):
        plan.groups.append(("/" + "/".join(parts[:i]), False))
    obj = f[root]
    if isinstance(obj, h5py.Dataset):
        plan.datasets.append(dataset_plan(obj, root, plan.warnings, **options))
        return plan
    _walk(obj, root, plan, options)
    return plan


def _walk(group: h5py.Group, path: str, plan: Plan, options) -> None:
    plan.groups.append((path, _track_order(group)))
    for name in group:
        child = posixpath.join(path, name)
        link = group.get(name, getlink=True)
        if isinstance(link, h5py.SoftLink):
            plan.links.append((child, link.path))
            continue
        if isinstance(link, h5py.ExternalLink):
            plan.warnings.append(f"{child}: external link to {link.filename}:{link.path} not copied")
            continue
        obj = group.get(name)
        if isinstance(obj, h5py.Group):
            _walk(obj, child, plan, options)
        elif isinstance(obj, h5py.Dataset):
            plan.datasets.append(dataset_plan(obj, child, plan.warnings, **options))
        elif isinstance(obj, h5py.Datatype):
            plan.warnings.append(f"{child}: committed datatype not copied")
