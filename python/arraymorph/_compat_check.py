"""Is this arraymorph usable with the HDF5 in this process? Checked once at import.

- ``hdf5_mismatch``: the plugin and h5py must share one libhdf5 of one ABI series;
- ``native_fallback``: ``HDF5_VOL_CONNECTOR=arraymorph`` must have made HDF5 load the plugin
  (otherwise h5py would silently write native files);
- ``plugin_dir``: where this installation's plugin lives (``get_plugin_path``).
"""

from __future__ import annotations

import builtins
import os
import re
from pathlib import Path
from typing import Any, Iterable, Optional

import h5py

CONNECTOR_NAME = "arraymorph"


def _plugin_dir() -> Path:
    """The folder HDF5 loads this installation's libarraymorph from (see get_plugin_path)."""
    try:  # conda/spack/CMake installs: the prefix's plugin folder (python/CMakeLists.txt)
        from ._installed_paths import PLUGIN_DIR
    except ImportError:  # a wheel carries the plugin inside the package
        return Path(__file__).resolve().parent / "lib"
    return Path(PLUGIN_DIR)


_LIBHDF5_RE = re.compile(r"/libhdf5(-[0-9a-f]+)?\.so(\.[0-9.]+)?$")


# --------------------------------------------------------------------------- HDF5 compatibility
def _hdf5_series(version: str) -> str:
    """ABI series of an HDF5 version: "1.14" for 1.14.x, "2" for 2.x (semantic versioning)."""
    parts = version.split(".")
    return parts[0] if parts[0].isdigit() and int(parts[0]) >= 2 else ".".join(parts[:2])


def _hdf5_mismatch(
    h5py_hdf5: str, plugin_hdf5: str, loaded_libhdf5: Iterable[str] = ()
) -> Optional[str]:
    """Explain why the plugin cannot share h5py's libhdf5, or return None when it can.

    Parameters
    ----------
    h5py_hdf5 : str
        ``h5py.version.hdf5_version``, the libhdf5 h5py was built for and loaded.
    plugin_hdf5 : str
        The libhdf5 version the arraymorph plugin was compiled against.
    loaded_libhdf5 : iterable of str
        Paths of the libhdf5 files mapped in the process (``/proc/self/maps``).

    Returns
    -------
    str or None
        An error message naming both versions (or both files), or None if compatible.
    """
    fix = (
        "arraymorph and h5py must use the same libhdf5: build h5py from source against the HDF5 "
        "arraymorph was built with (HDF5_DIR=<prefix> pip install --no-binary=h5py h5py), or "
        "rebuild arraymorph against h5py's HDF5"
    )
    # Within one series (1.14.x; 2.x, semantically versioned) the library keeps its ABI, so the
    # plugin binds to h5py's copy; across series it would pull in (or miss) a second libhdf5.
    if _hdf5_series(h5py_hdf5) != _hdf5_series(plugin_hdf5):
        return (
            f"arraymorph was built for HDF5 {plugin_hdf5} but h5py uses HDF5 {h5py_hdf5}; {fix}"
        )
    files = sorted({os.path.realpath(p) for p in loaded_libhdf5})
    if len(files) > 1:
        return f"two different libhdf5 files are loaded ({' and '.join(files)}); {fix}"
    return None


def _loaded_libhdf5() -> list:
    """Paths of the libhdf5 shared objects mapped in this process (Linux only; else empty)."""
    try:
        with builtins.open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "libhdf5" in line}
    except OSError:
        return []
    return [p for p in paths if _LIBHDF5_RE.search(p)]


def _native_fallback(core: Any, plugin_dir: Path) -> Optional[str]:
    """Explain why HDF5 ignored ``HDF5_VOL_CONNECTOR=arraymorph``, or None if it did not.

    HDF5 reads the variable when it initialises (``import h5py``). If the plugin cannot be loaded
    from ``HDF5_PLUGIN_PATH``, HDF5 1.14 prints its error stack and then writes native files, which
    would put the user's data on local disk without a word. A fresh file access property list
    carries the default connector: it must be arraymorph's.
    """
    requested = os.environ.get("HDF5_VOL_CONNECTOR", "").split()
    if not requested or requested[0] != CONNECTOR_NAME:
        return None
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)  # kept alive: its id closes with the object
    if core.fapl_uses_arraymorph(fapl.id):
        return None
    return (
        f"HDF5_VOL_CONNECTOR=arraymorph is set but HDF5 did not load the arraymorph connector "
        f"(HDF5_PLUGIN_PATH={os.environ.get('HDF5_PLUGIN_PATH', '<unset>')!r}; it should be "
        f"{str(plugin_dir)!r}): h5py would write native files. Fix HDF5_PLUGIN_PATH, or unset "
        f"HDF5_VOL_CONNECTOR and call arraymorph.enable()"
    )
