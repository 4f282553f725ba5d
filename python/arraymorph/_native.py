"""Loads arraymorph's compiled module ``_core`` for the libhdf5 this process uses.

Two installation layouts exist (docs/design.md, "One wheel, two HDF5 series"):

- built against one HDF5 (source, conda, spack): ``arraymorph/_core*.so`` links the plugin
  directly (``arraymorph/lib/libarraymorph.so`` in a source wheel, the prefix's
  ``lib/libarraymorph.so`` for conda and spack); it is imported as usual.
- the wheel, serving HDF5 1.14 and 2.x: ``arraymorph/lib/libarraymorph.so`` is a loader with no
  libhdf5 dependency. It finds the libhdf5 already in the process (h5py's), makes its symbols
  global and loads ``lib/impl/libarraymorph_h5_<series>.so``. ``arraymorph/_h5_<series>/_core*.so``
  is then imported as ``arraymorph._core``; it names that implementation by soname, so HDF5's
  plugin and these bindings are one connector instance, whichever of them loaded first.
"""

from __future__ import annotations

import ctypes
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

_PACKAGE = Path(__file__).resolve().parent
LOADER = _PACKAGE / "lib" / "libarraymorph.so"


def is_wheel_layout() -> bool:
    """True when this installation is the multi-series wheel (per-series ``_h5_*`` folders)."""
    return any(_PACKAGE.glob("_h5_*/_core*.so"))


def _load_for_series() -> ModuleType:
    loader = ctypes.CDLL(str(LOADER))
    select = loader.arraymorph_loader_select
    select.restype = ctypes.c_char_p
    loader.arraymorph_loader_error.restype = ctypes.c_char_p
    series = select()
    if not series:
        reason = loader.arraymorph_loader_error().decode(errors="replace")
        raise ImportError(f"arraymorph cannot use this process's HDF5: {reason}")
    series = series.decode()
    modules = sorted(_PACKAGE.glob(f"_h5_{series}/_core*.so"))
    if not modules:
        raise ImportError(f"arraymorph's bindings for HDF5 series {series} are missing in {_PACKAGE}")
    spec = importlib.util.spec_from_file_location("arraymorph._core", modules[0])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["arraymorph._core"] = module
    return module


def load_core() -> ModuleType:
    """Import and return ``arraymorph._core`` matching the loaded libhdf5 (h5py imported first).

    Raises
    ------
    ImportError
        Naming the reason: no or two libhdf5 in the process, an unsupported HDF5 version, a
        missing or unloadable implementation (e.g. an HDF5 symbol it needs is absent).
    """
    if is_wheel_layout():
        return _load_for_series()
    from . import _core

    return _core
