"""Object and region references for h5py on arraymorph files.

h5py makes and follows references with HDF5's old-style reference API (``H5Rcreate``,
``H5Rdereference2``, ``H5Rget_region``, ``H5Rget_name``, ``H5Rget_obj_type2``), which HDF5 1.14
refuses inside the library for any non-native VOL connector ("must use native VOL connector to
create reference"). This module replaces those five functions of ``h5py.h5r`` (which h5py's own
``obj.ref``, ``obj.regionref[...]``, ``f[ref]``, ``dset[regionref]`` and ``h5py.h5r`` users all
call) with versions that, for arraymorph objects only, use arraymorph's C API; native objects
take h5py's original functions.

The bytes of a reference are what arraymorph stores (docs/format.md, "Object identity and
references"): an object reference is the object's stable 8-byte id, a region reference that id
and a 4-byte index into the dataset's recorded selections. Storing references in datasets and
attributes (``h5py.ref_dtype``, ``h5py.regionref_dtype``, compound members) needs nothing here:
the connector keeps those bytes. h5py's ``Reference`` objects have no public constructor, so
they are made by h5py's own registered HDF5 conversion from those bytes (``_reference``).
"""

from __future__ import annotations

import contextlib
import ctypes
import struct

import numpy as np

import h5py
from h5py import h5a, h5o, h5r, h5s, h5t

_MARK = "_arraymorph_refs"


def _owned(oid, core) -> bool:
    try:
        return bool(core.is_arraymorph_object(oid.id))
    except Exception:
        return False


def _reference(raw: bytes, region: bool):
    """An h5py Reference/RegionReference holding ``raw`` (8 or 12 bytes).

    HDF5 converts the raw reference type to h5py's Python-object type by calling h5py's own
    conversion function, which builds the Reference (with one reference count that we take
    over: the object pointer is read back from the buffer)."""
    src = h5t.STD_REF_DSETREG if region else h5t.STD_REF_OBJ
    buf = np.zeros(16, dtype=np.uint8)
    buf[: len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    bkg = np.zeros(16, dtype=np.uint8)
    h5t.convert(src, h5t.PYTHON_OBJECT, 1, buf, bkg)
    ptr = int(buf[:8].view(np.uint64)[0])
    obj = ctypes.cast(ptr, ctypes.py_object).value  # a new reference
    ctypes.pythonapi.Py_DecRef(ctypes.py_object(obj))  # drop the conversion's own
    return obj


def _raw(ref) -> bytes:
    """The stored bytes of an h5py Reference (the inverse conversion of ``_reference``)."""
    region = isinstance(ref, h5r.RegionReference)
    buf = np.zeros(16, dtype=np.uint8)
    buf[:8] = np.frombuffer(struct.pack("<Q", id(ref)), dtype=np.uint8)
    h5t.convert(h5t.PYTHON_OBJECT, h5t.STD_REF_DSETREG if region else h5t.STD_REF_OBJ, 1, buf, np.zeros(16, np.uint8))
    return buf[: 12 if region else 8].tobytes()


def _decode(ref):
    """(object id, region index or None) of an arraymorph reference."""
    raw = _raw(ref)
    oid = struct.unpack("<Q", raw[:8])[0]
    return oid, (struct.unpack("<I", raw[8:12])[0] if len(raw) == 12 else None)


@contextlib.contextmanager
def old_style_attribute_refs(core):
    """Within: the connector reports references in attributes as old-style ones (hobj_ref_t),
    which h5py reads and writes; outside, H5R_ref_t, which C callers (HDF5_HL's H5DS*) need
    (arraymorph.h, arraymorph_set_attribute_reference_style). Holds h5py's lock."""
    with h5py._objects.phil:
        before = core.set_attribute_reference_style(False)
        try:
            yield
        finally:
            core.set_attribute_reference_style(before)


def install(core) -> None:
    """Patch h5py.h5r for arraymorph objects (idempotent)."""
    if getattr(h5r, _MARK, False):
        return
    orig_create = h5r.create
    orig_dereference = h5r.dereference
    orig_get_region = h5r.get_region
    orig_get_name = h5r.get_name
    orig_get_obj_type = h5r.get_obj_type

    def create(loc, name, ref_type, space=None):
        if not _owned(loc, core):
            return orig_create(loc, name, ref_type, space)
        name = name.decode("utf-8") if isinstance(name, bytes) else name
        with h5py._objects.phil:
            if ref_type == h5r.OBJECT:
                return _reference(struct.pack("<Q", core.object_id(loc.id, name)), region=False)
            if ref_type == h5r.DATASET_REGION:
                if space is None:
                    raise ValueError("Dataspace required for region reference")
                oid, index = core.region_create(loc.id, name, space.id)
                return _reference(struct.pack("<QI", oid, index), region=True)
        raise ValueError("Unknown reference typecode")

    def _path(ref, loc):
        oid, _ = _decode(ref)
        with h5py._objects.phil:
            return core.object_path(loc.id, oid)

    def dereference(ref, loc, oapl=None):
        if not _owned(loc, core):
            return orig_dereference(ref, loc, oapl)
        if not ref:
            return None
        return h5o.open(loc, _path(ref, loc).encode("utf-8"))

    def get_region(ref, loc):
        if not _owned(loc, core):
            return orig_get_region(ref, loc)
        if not isinstance(ref, h5r.RegionReference) or not ref:
            return None
        oid, index = _decode(ref)
        with h5py._objects.phil:
            return h5s.SpaceID(core.region_space(loc.id, oid, index))

    def get_name(ref, loc):
        if not _owned(loc, core):
            return orig_get_name(ref, loc)
        if not ref:
            return None
        return _path(ref, loc).encode("utf-8")

    def get_obj_type(ref, loc):
        if not _owned(loc, core):
            return orig_get_obj_type(ref, loc)
        if not ref:
            return None
        obj = dereference(ref, loc)
        return h5o.TYPE_DATASET if isinstance(obj, h5py.h5d.DatasetID) else h5o.TYPE_GROUP

    h5r.create = create
    h5r.dereference = dereference
    h5r.get_region = get_region
    h5r.get_name = get_name
    h5r.get_obj_type = get_obj_type

    # Dataset[regionref] checks `h5r.dereference(ref, self.id) != self.id`, and ObjectID
    # comparison hashes with H5Gget_objinfo, which HDF5 refuses for non-native objects: compare
    # the ids arraymorph gives objects instead.
    Dataset = h5py._hl.dataset.Dataset
    orig_getitem = Dataset.__getitem__

    def __getitem__(self, args, new_dtype=None):
        if isinstance(args, h5r.RegionReference) and _owned(self.id, core):
            oid, _ = _decode(args)
            with h5py._objects.phil:
                if not args or oid != core.object_id(self.id.id, "."):
                    raise ValueError("Region reference must point to this dataset")
            sid = get_region(args, self.id)
            from h5py._hl import selections as sel

            dtype = self.dtype if new_dtype is None else new_dtype
            mshape = sel.guess_shape(sid)
            if mshape is None:
                return h5py.Empty(dtype)
            out = np.zeros(mshape, dtype=dtype)
            if out.size == 0:
                return out
            sid_out = h5s.create_simple(mshape)
            sid_out.select_all()
            self.id.read(sid_out, sid, out, h5t.py_create(dtype))
            return out
        if new_dtype is None:
            return orig_getitem(self, args)
        return orig_getitem(self, args, new_dtype)

    Dataset.__getitem__ = __getitem__

    # h5py reads and writes references in attributes as old-style ones (hobj_ref_t); the connector
    # reports H5R_ref_t by default, which C programs (HDF5_HL's H5DS*) need and h5py cannot handle.
    # An attribute id keeps the view it was opened in (arraymorph.h,
    # arraymorph_set_attribute_reference_style): h5py's attribute ids are opened and created in
    # the old-style view. Every h5py attribute access (AttributeManager, get_id, h5netcdf, the
    # low-level API) opens through these two functions.
    def old_style_view(function):
        def wrapper(loc, *args, **kwargs):
            if not _owned(loc, core):
                return function(loc, *args, **kwargs)
            with old_style_attribute_refs(core):
                return function(loc, *args, **kwargs)

        wrapper.__name__ = function.__name__
        wrapper.__doc__ = function.__doc__
        return wrapper

    h5a.open = old_style_view(h5a.open)
    h5a.create = old_style_view(h5a.create)
    setattr(h5r, _MARK, True)
