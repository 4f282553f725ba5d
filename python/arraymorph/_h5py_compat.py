"""Make h5py's group iteration work on arraymorph files.

h5py (up to at least 3.16) is compiled against HDF5's 1.10 API. There, ``H5Literate``,
``H5Ovisit``, ``H5Lvisit`` and ``H5Oget_info`` resolve to their deprecated ``*1`` forms, which
HDF5 1.14 refuses for objects of any non-native VOL connector ("... is only meant to be used
with the native VOL connector"; h5py issue #2316). Reading and writing data, creating groups and
datasets, ``len()`` and ``del`` do not use them and work unchanged.

This module wraps the few high-level h5py methods that depend on those calls (iteration,
``len``, membership tests, ``get(getclass/getlink)``, ``visit*``, hashing and equality) so that,
for objects opened through arraymorph only, they use arraymorph's own link listing
(``arraymorph_link_names`` and ``arraymorph_link_info`` in the C API). Soft links are listed
with the other links, reported by ``get(getlink=True)`` as ``h5py.SoftLink`` (external links as
``h5py.ExternalLink``) and, as in native
HDF5, never followed by ``visit``/``visititems`` (``visit_links`` reports them). Objects of
native files take h5py's original path. It is installed once, when ``arraymorph`` is imported.

``h5py.is_hdf5`` is wrapped too: it checks ``os.path.isfile`` first, which is never true for an
arraymorph file (a key prefix), so names that are not regular local files go to the connector.
Equality follows HDF5's object identity: a file equals its root group (``f[f.ref] == f``).
"""

from __future__ import annotations

import os
import posixpath

import h5py
from h5py._hl import base as _base
from h5py._hl import group as _group

_MARK = "_arraymorph_compat"


def _owned(obj, core) -> bool:
    try:
        return bool(core.is_arraymorph_object(obj.id.id))
    except Exception:
        return False


def _names(group, core, name=".", creation_order=False):
    """Link names; with ``creation_order``, in creation order when the group tracks it (as h5py
    iterates such groups), else in name order (as visit always walks)."""
    with h5py._objects.phil:
        return core.link_names(group.id.id, name, creation_order)


_NONE, _HARD, _SOFT, _EXTERNAL = 0, 1, 2, 3


def _link_object(kind, target):
    """The h5py link object for a (kind, target) of ``core.link_info``."""
    if kind == _SOFT:
        return h5py.SoftLink(target)
    if kind == _EXTERNAL:
        filename, path = target.split("\0", 1)
        return h5py.ExternalLink(filename, path)
    return h5py.HardLink()


def _link(group, core, name):
    """(kind, soft link target) of the link ``name`` relative to ``group``."""
    with h5py._objects.phil:
        return core.link_info(group.id.id, name)


def _walk(group, core, prefix="", links=False):
    """Depth-first, name-ordered ``(relative path, kind, target)`` below ``group`` (as H5Ovisit /
    H5Lvisit order them). Soft links are never followed; they are reported only with ``links``."""
    for name in _names(group, core, prefix or "."):
        path = posixpath.join(prefix, name) if prefix else name
        kind, target = _link(group, core, path)
        if kind in (_SOFT, _EXTERNAL):  # never followed, as H5Ovisit/H5Lvisit
            if links:
                yield path, kind, target
            continue
        yield path, kind, target
        if group.get(path, getclass=True) is _group.Group:
            yield from _walk(group, core, path, links)


def install(core) -> None:
    """Wrap h5py's Group/HLObject methods for arraymorph objects (idempotent)."""
    Group = _group.Group
    HLObject = _base.HLObject
    if getattr(Group, _MARK, False):
        return

    orig_iter = Group.__iter__
    orig_len = Group.__len__
    orig_reversed = Group.__reversed__
    orig_contains = Group.__contains__
    orig_get = Group.get
    orig_visit = Group.visit
    orig_visititems = Group.visititems
    orig_hash = HLObject.__hash__
    orig_eq = HLObject.__eq__

    def __iter__(self):
        if not _owned(self, core):
            yield from orig_iter(self)
            return
        yield from _names(self, core, creation_order=True)

    def __reversed__(self):
        if not _owned(self, core):
            yield from orig_reversed(self)
            return
        yield from reversed(_names(self, core, creation_order=True))

    def __len__(self):
        if not _owned(self, core):
            return orig_len(self)
        return len(_names(self, core))

    def __contains__(self, name):
        if not _owned(self, core):
            return orig_contains(self, name)
        if isinstance(name, bytes):
            name = name.decode("utf-8")
        if not isinstance(name, str):
            return orig_contains(self, name)
        if name in ("/", "."):
            return True
        with h5py._objects.phil:
            try:
                return bool(self.id.links.exists(self._e(name), lapl=self._lapl))
            except (KeyError, ValueError, RuntimeError):
                return False

    def get(self, name, default=None, getclass=False, getlink=False, **elink):
        if not (getclass or getlink) or not _owned(self, core):
            return orig_get(self, name, default, getclass, getlink, **elink)
        if name not in self:
            return default
        if getlink:
            if isinstance(name, bytes):
                name = name.decode("utf-8")
            link = _link_object(*_link(self, core, name))  # HardLink also for "." and "/"
            return type(link) if getclass else link
        obj = self[name]
        return type(obj)

    def visit(self, func):
        if not _owned(self, core):
            return orig_visit(self, func)
        for path, _kind, _target in _walk(self, core):
            r = func(path)
            if r is not None:
                return r
        return None

    def visititems(self, func):
        if not _owned(self, core):
            return orig_visititems(self, func)
        for path, _kind, _target in _walk(self, core):
            r = func(path, self[path])
            if r is not None:
                return r
        return None

    def visit_links(self, func):
        if not _owned(self, core):
            return orig_visit_links(self, func)
        for path, _kind, _target in _walk(self, core, links=True):
            r = func(path)
            if r is not None:
                return r
        return None

    def visititems_links(self, func):
        if not _owned(self, core):
            return orig_visititems_links(self, func)
        for path, kind, target in _walk(self, core, links=True):
            link = _link_object(kind, target)
            r = func(path, link)
            if r is not None:
                return r
        return None

    def __hash__(self):
        if not _owned(self, core):
            return orig_hash(self)
        return hash((self.file.filename, self.name))

    def __eq__(self, other):
        if not _owned(self, core) or not hasattr(other, "id") or not _owned(other, core):
            return orig_eq(self, other)
        with h5py._objects.phil:
            # As natively (object identity): a file equals its root group.
            return (self.file.filename, self.name) == (other.file.filename, other.name)

    Group.__iter__ = __iter__
    Group.__len__ = __len__
    Group.__reversed__ = __reversed__
    Group.__contains__ = __contains__
    Group.get = get
    Group.visit = visit
    Group.visititems = visititems
    if hasattr(Group, "visit_links"):
        orig_visit_links = Group.visit_links
        orig_visititems_links = Group.visititems_links
        Group.visit_links = visit_links
        Group.visititems_links = visititems_links
    HLObject.__hash__ = __hash__
    HLObject.__eq__ = __eq__
    orig_is_hdf5 = _base.is_hdf5

    def is_hdf5(fname):
        """h5py's is_hdf5 answers False for anything but a regular local file; an arraymorph file
        is a key prefix (a directory in the local store, an S3/Azure key or URL), so for anything
        else ask the default connector (H5Fis_accessible); a failure means "no"."""
        name = os.fspath(fname)
        if isinstance(name, bytes):
            name = name.decode("utf-8", "surrogateescape")
        if "://" not in name and os.path.isfile(name):
            return orig_is_hdf5(fname)
        with h5py._objects.phil:
            try:
                return bool(h5py.h5f.is_hdf5(_base.filename_encode(name if "://" in name else os.path.abspath(name))))
            except Exception:
                return False

    _base.is_hdf5 = is_hdf5
    h5py.is_hdf5 = is_hdf5
    setattr(Group, _MARK, True)
