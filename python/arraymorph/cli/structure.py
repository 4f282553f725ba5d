"""Create the destination's groups, datasets, soft links, dimension scales and attributes from a
:class:`~arraymorph.cli.plan.Plan` (no chunk data: that is :mod:`chunk_copy`'s job).

Creating is idempotent so ``--resume`` can run it again: an existing group is reused, an existing
dataset is reused when its shape, dtype and chunking match the plan (otherwise an error says what
differs), an existing soft link is kept, attributes are rewritten.

Features the destination may not accept (object references, dimension scales and creation order
in stores before the connector supports them, region references) are reported in ``warnings``;
the rest of the copy goes on. Object references are translated: a reference to ``/x`` in the
source becomes a reference to ``/x`` in the destination.
"""

from __future__ import annotations

from typing import Dict, List, Set

import h5py
import numpy as np
from h5py import h5p

from arraymorph import _core
from arraymorph._h5py_refs import old_style_attribute_refs

from .errors import EXISTS, CliError
from .plan import DatasetPlan, Plan

# Maintained by the dimension-scale API (H5DS), re-created by attach_scale, never copied as data.
_DIMSCALE_ATTRS = {"DIMENSION_LIST", "REFERENCE_LIST"}


def _require_group(dst: h5py.File, path: str, track_order: bool, warnings: List[str]) -> h5py.Group:
    if path == "/":
        return dst["/"]
    if path in dst:
        obj = dst[path]
        if not isinstance(obj, h5py.Group):
            raise CliError(f"destination {path} exists and is not a group", EXISTS)
        return obj
    if track_order:
        try:
            return dst.create_group(path, track_order=True)
        except Exception as exc:  # noqa: BLE001 - destination cannot track creation order
            warnings.append(f"{path}: creation order not kept ({exc})")
    return dst.create_group(path)


def _create_kwargs(p: DatasetPlan) -> Dict[str, object]:
    kw: Dict[str, object] = {"shape": p.shape, "dtype": p.dtype}
    if p.maxshape is not None and tuple(p.maxshape) != tuple(p.shape):
        kw["maxshape"] = p.maxshape
    if p.chunks is not None:
        kw["chunks"] = p.chunks
    kw.update(p.filters)
    if p.pipeline:
        dcpl = h5p.create(h5p.DATASET_CREATE)
        for code, flags, values, _name in p.pipeline:
            dcpl.set_filter(code, flags, values)
        kw["dcpl"] = dcpl
    if p.fillvalue is not None:
        kw["fillvalue"] = p.fillvalue
    return kw


def _require_dataset(dst: h5py.File, p: DatasetPlan) -> h5py.Dataset:
    if p.path in dst:
        d = dst[p.path]
        problems = []
        if not isinstance(d, h5py.Dataset):
            problems.append("it is not a dataset")
        else:
            if d.shape != p.shape:
                problems.append(f"shape {d.shape} != {p.shape}")
            if d.dtype != p.dtype:
                problems.append(f"dtype {d.dtype} != {p.dtype}")
            if p.chunks is not None and d.chunks is not None and tuple(d.chunks) != tuple(p.chunks):
                problems.append(f"chunks {d.chunks} != {p.chunks}")
        if problems:
            raise CliError(f"destination {p.path} exists but differs from the source "
                           f"({'; '.join(problems)}); use --overwrite", EXISTS)
        return d
    if p.shape is None:
        return dst.create_dataset(p.path, data=h5py.Empty(p.dtype))
    return dst.create_dataset(p.path, **_create_kwargs(p))


def create(src: h5py.File, dst: h5py.File, plan: Plan, warnings: List[str], errors: List[str],
           interrupted=lambda: False) -> Set[str]:
    """Create every object of ``plan`` in ``dst``; returns the dataset paths created or reused."""
    for path, track in plan.groups:
        if interrupted():
            return set()
        _require_group(dst, path, track, warnings)
    ready: Set[str] = set()
    for p in plan.datasets:
        if interrupted():
            return ready
        try:
            _require_dataset(dst, p)
            ready.add(p.path)
        except CliError:
            raise
        except Exception as exc:  # noqa: BLE001 - reported, the rest is copied
            errors.append(f"{p.path}: not created: {exc}")
    for path, target in plan.links:
        if path in dst or _is_link(dst, path):
            continue
        try:
            dst[path] = h5py.SoftLink(target)
        except Exception as exc:  # noqa: BLE001
            warnings.append(f"{path}: soft link -> {target} not copied ({exc})")
    scales = _dimension_scales(src, dst, plan, ready, warnings)
    targets = [g for g, _ in plan.groups if _is_subset_root(plan, g)]
    targets += [p.path for p in plan.datasets if p.path in ready]
    for path in targets:
        copy_attrs(src[path], dst[path], path, warnings, skip=_skipped_attrs(path, scales))
    return ready


def _is_subset_root(plan: Plan, path: str) -> bool:
    """Groups below the subset root get their attributes; the subset's ancestors do not."""
    root = plan.root.rstrip("/")
    return path == root or path.startswith(root + "/")


def _skipped_attrs(path: str, scales: Set[str]) -> Set[str]:
    return _DIMSCALE_ATTRS | ({"CLASS", "NAME"} if path in scales else set())


def _is_link(f: h5py.File, path: str) -> bool:
    try:
        return f.get(path, getlink=True) is not None
    except Exception:  # noqa: BLE001
        return False


def _dimension_scales(src, dst, plan: Plan, ready: Set[str], warnings: List[str]) -> Set[str]:
    """Make scales and attach them as in the source; returns the paths made scales."""
    made: Set[str] = set()
    for p in plan.datasets:
        if p.path not in ready:
            continue
        try:
            if h5py.h5ds.is_scale(src[p.path].id):
                name = src[p.path].attrs.get("NAME", b"")
                name = name.decode() if isinstance(name, bytes) else str(name)
                dst[p.path].make_scale(name)
                made.add(p.path)
        except Exception as exc:  # noqa: BLE001
            warnings.append(f"{p.path}: dimension scale not kept ({exc})")
    for p in plan.datasets:
        if p.path not in ready or not p.shape:
            continue
        s = src[p.path]
        try:
            for i, dim in enumerate(s.dims):
                if dim.label:
                    dst[p.path].dims[i].label = dim.label
                for scale in dim.values():
                    if scale.name in made:
                        dst[p.path].dims[i].attach_scale(dst[scale.name])
        except Exception as exc:  # noqa: BLE001
            warnings.append(f"{p.path}: dimension scales not attached ({exc})")
    return made


def translate_refs(values, src: h5py.File, dst: h5py.File):
    """Object references into ``src`` -> the same paths in ``dst`` (null stays null)."""
    out = np.empty(np.shape(values), dtype=h5py.ref_dtype)
    flat_in = np.asarray(values, dtype=object).reshape(-1)
    flat_out = out.reshape(-1)
    for i, ref in enumerate(flat_in):
        if isinstance(ref, h5py.RegionReference):
            raise ValueError("region references cannot be copied")
        flat_out[i] = dst[src[ref].name].ref if ref else h5py.Reference()
    return out if np.ndim(values) else out[()]


def copy_attrs(s, d, path: str, warnings: List[str], skip=frozenset()) -> None:
    """Every attribute of ``s`` onto ``d`` with its exact dtype and shape."""
    for name in s.attrs:
        if name in skip:
            continue
        try:
            # The attribute's type as h5py understands it: references old-style (see
            # arraymorph._h5py_refs), as h5py's own attribute reads see them.
            with old_style_attribute_refs(_core):
                aid = s.attrs.get_id(name)
                value = s.attrs[name]
                dtype = aid.dtype
            if h5py.check_ref_dtype(dtype) is not None:
                value = translate_refs(value, s.file, d.file)
            if isinstance(value, h5py.Empty):
                d.attrs.create(name, value)
            else:
                d.attrs.create(name, value, shape=aid.shape, dtype=dtype)
        except Exception as exc:  # noqa: BLE001
            warnings.append(f"{path}: attribute '{name}' not copied ({exc})")
