"""Dimension scales (h5py ``dims``, ``make_scale``, h5netcdf) on arraymorph files.

h5py's dimension-scale API calls HDF5_HL's ``H5DS*`` functions (``h5py.h5ds``). For a non-native
VOL connector HDF5 1.14's H5DS switches to new-style references (``H5T_STD_REF``, whose in-memory
form holds process-local pointers), and h5py cannot read those back; netCDF-4 readers (h5netcdf,
netCDF-C) expect the classic layout with old-style object references. For arraymorph datasets
this module replaces the ``h5py.h5ds`` functions with a Python implementation of the same
specification (HDF5 Dimension Scales, section 4.2) writing exactly the attributes native HDF5
writes by default:

- ``CLASS`` = "DIMENSION_SCALE" and ``NAME`` (fixed-length NUL-terminated ASCII strings) on a scale;
- ``DIMENSION_LIST`` on a dataset: one variable-length list of object references per dimension;
- ``REFERENCE_LIST`` on a scale: compound {``dataset``: object reference, ``dimension``: uint32}
  per attachment;
- ``DIMENSION_LABELS``: one variable-length string per dimension (null when unset), written by
  HDF5_HL's own ``H5DSset_label``.

References are arraymorph's (see _h5py_refs). Native datasets take h5py's original functions.
After every change the dataset's Zarr ``dimension_names`` is refreshed (``core.sync_dimension_names``;
the connector also does it by itself whenever these attributes change, for C callers).
"""

from __future__ import annotations

import numpy as np

import h5py
from h5py import h5a, h5ds, h5s, h5t

from ._h5py_refs import _decode

_MARK = "_arraymorph_dims"
_CLASS = b"DIMENSION_SCALE"
# H5DS's ds_list_t {hobj_ref_t ref; unsigned int dim_idx;}: 16 bytes with the C padding.
_REFLIST_DT = np.dtype({"names": ["dataset", "dimension"], "formats": [h5py.ref_dtype, "<u4"],
                        "offsets": [0, 8], "itemsize": 16})


def install(core) -> None:
    """Patch h5py.h5ds for arraymorph datasets (idempotent)."""
    if getattr(h5ds, _MARK, False):
        return
    orig = {n: getattr(h5ds, n) for n in ("set_scale", "is_scale", "attach_scale", "is_attached", "detach_scale",
                                          "get_num_scales", "set_label", "get_label", "get_scale_name", "iterate")}

    def owned(dsid) -> bool:
        try:
            return bool(core.is_arraymorph_object(dsid.id))
        except Exception:
            return False

    def ds(dsid):
        return h5py.Dataset(dsid)

    def sync(dsid):
        with h5py._objects.phil:
            core.sync_dimension_names(dsid.id)

    def set_string(dsid, name: bytes, value: bytes) -> None:
        """A scalar fixed-length NUL-terminated ASCII string attribute (H5LT_set_attribute_string)."""
        tid = h5t.C_S1.copy()
        tid.set_size(len(value) + 1)
        tid.set_strpad(h5t.STR_NULLTERM)
        if h5a.exists(dsid, name):
            h5a.delete(dsid, name)
        aid = h5a.create(dsid, name, tid, h5s.create(h5s.SCALAR))
        aid.write(np.array(value, dtype=f"S{len(value) + 1}"), mtype=tid)

    def get_string(dsid, name: bytes):
        if not h5a.exists(dsid, name):
            return None
        v = ds(dsid).attrs[name.decode()]
        return v if isinstance(v, bytes) else str(v).encode()

    def rank(dsid) -> int:
        return dsid.rank

    def check_dim(dsid, idx) -> None:
        if idx < 0 or idx >= rank(dsid):
            raise ValueError(f"dimension index {idx} is out of range for a dataset of rank {rank(dsid)}")

    def dimension_list(dsid):
        """DIMENSION_LIST as a list (per dimension) of lists of Reference."""
        r = rank(dsid)
        if not h5a.exists(dsid, b"DIMENSION_LIST"):
            return [[] for _ in range(r)]
        v = ds(dsid).attrs["DIMENSION_LIST"]
        return [list(v[i]) for i in range(r)]

    def write_dimension_list(dsid, lists) -> None:
        exists = h5a.exists(dsid, b"DIMENSION_LIST")
        if exists and not any(lists):
            h5a.delete(dsid, b"DIMENSION_LIST")  # as H5DSdetach_scale of the last scale
        if not any(lists):
            return
        dt = h5py.vlen_dtype(h5py.ref_dtype)
        arr = np.empty(len(lists), dtype=object)
        for i, refs in enumerate(lists):
            arr[i] = np.array(refs, dtype=h5py.ref_dtype)
        if not exists:
            ds(dsid).attrs.create("DIMENSION_LIST", arr, dtype=dt)
            return
        # Rewritten in place, as H5DSattach_scale/H5DSdetach_scale do (its creation order stays).
        h5a.open(dsid, b"DIMENSION_LIST").write(arr, mtype=h5t.py_create(dt))

    def reference_list(scale):
        if not h5a.exists(scale, b"REFERENCE_LIST"):
            return []
        return [(row["dataset"], int(row["dimension"])) for row in ds(scale).attrs["REFERENCE_LIST"]]

    def write_reference_list(scale, entries) -> None:
        if h5a.exists(scale, b"REFERENCE_LIST"):
            h5a.delete(scale, b"REFERENCE_LIST")
        if not entries:
            return
        arr = np.empty(len(entries), dtype=_REFLIST_DT)
        for i, (ref, dim) in enumerate(entries):
            arr[i] = (ref, dim)
        ds(scale).attrs.create("REFERENCE_LIST", arr)

    def ref_of(dsid):
        return h5py.h5r.create(dsid, b".", h5py.h5r.OBJECT)

    def same(a, b) -> bool:
        return core.object_id(a.id, ".") == core.object_id(b.id, ".")

    def target_id(_dsid, ref) -> int:
        return _decode(ref)[0]  # an arraymorph reference holds the object's id

    def pair_ids(dset, dscale, idx):
        """(dataset id, scale id) after checking the dimension index."""
        check_dim(dset, idx)
        return core.object_id(dset.id, "."), core.object_id(dscale.id, ".")

    # ---------------------------------------------------------------- the h5ds functions
    def set_scale(dset, dimname=b""):
        if not owned(dset):
            return orig["set_scale"](dset, dimname)
        with h5py._objects.phil:
            if h5a.exists(dset, b"DIMENSION_LIST"):
                raise ValueError("a dataset with attached dimension scales cannot be a dimension scale")
            set_string(dset, b"CLASS", _CLASS)
            set_string(dset, b"NAME", dimname if isinstance(dimname, bytes) else dimname.encode())
        sync(dset)

    def is_scale(dset):
        if not owned(dset):
            return orig["is_scale"](dset)
        with h5py._objects.phil:
            return get_string(dset, b"CLASS") == _CLASS

    def attach_scale(dset, dscale, idx):
        if not owned(dset) or not owned(dscale):
            return orig["attach_scale"](dset, dscale, idx)
        with h5py._objects.phil:
            check_dim(dset, idx)
            if same(dset, dscale):
                raise ValueError("a dataset cannot be its own dimension scale")
            if is_scale(dset):
                raise ValueError("a dimension scale cannot have dimension scales attached")
            if h5a.exists(dscale, b"DIMENSION_LIST"):
                raise ValueError("a dataset with attached dimension scales cannot be a dimension scale")
            lists = dimension_list(dset)
            sid = core.object_id(dscale.id, ".")
            if any(target_id(dset, r) == sid for r in lists[idx]):
                return None  # already attached (as H5DSattach_scale: nothing changes)
            old_entries = reference_list(dscale)
            was_scale = is_scale(dscale)
            lists[idx].append(ref_of(dscale))
            entries = old_entries + [(ref_of(dset), idx)]
            # The scale's side first, undone when the dataset's side fails: nothing half-made.
            write_reference_list(dscale, entries)
            try:
                if not was_scale:
                    set_string(dscale, b"CLASS", _CLASS)
                write_dimension_list(dset, lists)
            except BaseException:
                write_reference_list(dscale, old_entries)
                if not was_scale and h5a.exists(dscale, b"CLASS"):
                    h5a.delete(dscale, b"CLASS")
                raise
        sync(dset)
        sync(dscale)
        return None

    def is_attached(dset, dscale, idx):
        if not owned(dset) or not owned(dscale):
            return orig["is_attached"](dset, dscale, idx)
        with h5py._objects.phil:
            did, sid = pair_ids(dset, dscale, idx)
            in_dset = any(target_id(dset, r) == sid for r in dimension_list(dset)[idx])
            in_scale = any(target_id(dscale, r) == did and d == idx for r, d in reference_list(dscale))
            return in_dset and in_scale

    def detach_scale(dset, dscale, idx):
        if not owned(dset) or not owned(dscale):
            return orig["detach_scale"](dset, dscale, idx)
        with h5py._objects.phil:
            did, sid = pair_ids(dset, dscale, idx)
            lists = dimension_list(dset)
            kept = [r for r in lists[idx] if target_id(dset, r) != sid]
            if len(kept) == len(lists[idx]):
                raise ValueError("the dimension scale is not attached to this dimension")
            lists[idx] = kept
            entries = [(r, d) for r, d in reference_list(dscale) if not (target_id(dscale, r) == did and d == idx)]
            write_dimension_list(dset, lists)
            write_reference_list(dscale, entries)
        sync(dset)

    def get_num_scales(dset, dim):
        if not owned(dset):
            return orig["get_num_scales"](dset, dim)
        with h5py._objects.phil:
            check_dim(dset, dim)
            return len(dimension_list(dset)[dim])

    def set_label(dset, idx, label):
        if not owned(dset):
            return orig["set_label"](dset, idx, label)
        with h5py._objects.phil:
            check_dim(dset, idx)
        # HDF5_HL's own H5DSset_label (no references involved): unset labels stay NULL strings, as
        # natively; the connector refreshes dimension_names.
        return orig["set_label"](dset, idx, label)

    def get_label(dset, idx):
        if not owned(dset):
            return orig["get_label"](dset, idx)
        with h5py._objects.phil:
            check_dim(dset, idx)
            if not h5a.exists(dset, b"DIMENSION_LABELS"):
                return b""
            v = ds(dset).attrs["DIMENSION_LABELS"][idx]
            return v if isinstance(v, bytes) else (v or "").encode()

    def get_scale_name(dscale):
        if not owned(dscale):
            return orig["get_scale_name"](dscale)
        with h5py._objects.phil:
            v = get_string(dscale, b"NAME")
            return v if v is not None else b""

    def iterate(dset, dim, func, startidx=0):
        if not owned(dset):
            return orig["iterate"](dset, dim, func, startidx)
        if startidx < 0:
            raise ValueError("Starting index must be non-negative")
        with h5py._objects.phil:
            check_dim(dset, dim)
            refs = dimension_list(dset)[dim]
        for ref in refs[startidx:]:
            with h5py._objects.phil:
                scale = h5py.h5r.dereference(ref, dset)
            r = func(scale)
            if r is not None:
                return r
        return None

    for name, fn in (("set_scale", set_scale), ("is_scale", is_scale), ("attach_scale", attach_scale),
                     ("is_attached", is_attached), ("detach_scale", detach_scale),
                     ("get_num_scales", get_num_scales), ("set_label", set_label), ("get_label", get_label),
                     ("get_scale_name", get_scale_name), ("iterate", iterate)):
        setattr(h5ds, name, fn)
    setattr(h5ds, _MARK, True)
