"""Which h5py files arraymorph takes, and which go to HDF5's native connector.

A file driver (``driver="core"``, ``"stdio"``, ``"family"``, ...) and h5py's file-object driver
(used for ``io.BytesIO`` and other file-like objects) say where the bytes of a *native* HDF5 file
go. arraymorph writes no native file, so such a file must not be intercepted: it goes to the
native connector unchanged, whatever ``HDF5_VOL_CONNECTOR`` or :func:`arraymorph.enable` selected
(a BytesIO then holds the bytes; ``driver="core", backing_store=False`` touches no store). The
plugin itself refuses these drivers with a ``not supported by arraymorph`` error (for C programs,
and for h5py without ``import arraymorph``), so nothing is ever written to a stray object key.

Only the default driver (``None``/``"sec2"``) and ``"mpio"`` (parallel HDF5) go to arraymorph.

h5py builds each file's access property list in ``h5py._hl.files.make_fapl``; :func:`install`
wraps it once. :func:`select_arraymorph` (called by :func:`arraymorph.enable`) additionally puts
arraymorph on the lists of files that arraymorph takes.
"""

from __future__ import annotations

from typing import Any

#: Drivers whose files arraymorph stores (``None`` is h5py's default, sec2).
ARRAYMORPH_DRIVERS = (None, "sec2", "mpio")

_state = {"select": False, "core": None}


def takes(driver: Any) -> bool:
    """Whether a file opened with h5py's ``driver=`` argument goes to arraymorph."""
    return driver in ARRAYMORPH_DRIVERS


def install(core: Any) -> None:
    """Wrap ``h5py._hl.files.make_fapl`` (idempotent)."""
    from h5py._hl import files

    _state["core"] = core
    if getattr(files.make_fapl, "_arraymorph", False):
        return
    original = files.make_fapl

    def make_fapl(*args: Any, **kwargs: Any) -> Any:
        fapl = original(*args, **kwargs)
        driver = args[0] if args else kwargs.get("driver")
        if not takes(driver):
            core.set_native_vol(fapl.id)
        elif _state["select"]:
            core.set_fapl(fapl.id, None)
        return fapl

    make_fapl._arraymorph = True  # type: ignore[attr-defined]
    make_fapl.__wrapped__ = original  # type: ignore[attr-defined]
    make_fapl.__doc__ = original.__doc__
    files.make_fapl = make_fapl


def select_arraymorph() -> None:
    """Put arraymorph on every later h5py file arraymorph takes (:func:`arraymorph.enable`)."""
    _state["select"] = True
