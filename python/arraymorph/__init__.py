"""arraymorph: keep HDF5 files in object stores (S3, Azure Blob, local filesystem) as Zarr v3.

arraymorph is an HDF5 VOL connector. Existing h5py code runs unchanged once it is selected::

    import arraymorph
    arraymorph.enable()                  # every h5py.File now goes through arraymorph
    import h5py
    with h5py.File("demo.h5", "w") as f:  # a key prefix in the configured store
        f.create_dataset("x", data=range(10), chunks=(5,))

or, without touching the environment, ``arraymorph.open("file:///tmp/store/demo.h5", "w")``.

The names, arguments and environment variables of ``enable``, ``get_plugin_path``,
``configure_s3`` and ``configure_azure`` are those of the published ArrayMorph 0.2 package.
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Optional

# h5py first: its libhdf5 must be the one in the process before the plugin is loaded by _core
# (by soname, or through the wheel's loader: see _native), so both share one HDF5 library.
import h5py

from . import _native
from ._native import load_core

try:
    _core = load_core()
except ImportError as exc:  # pragma: no cover - only on broken installs
    _fix = (
        "use an h5py this wheel supports (pip install 'h5py>=3.11.0,<3.17'; HDF5 1.14.2+ or 2.x)"
        if _native.is_wheel_layout()
        else "reinstall arraymorph against the libhdf5 that h5py uses"
    )
    raise ImportError(
        f"arraymorph's compiled module could not be loaded ({exc}); {_fix} "
        f"(h5py's HDF5 is {h5py.version.hdf5_version})"
    ) from exc

__all__ = [
    "__version__",
    "enable",
    "get_plugin_path",
    "configure_s3",
    "configure_azure",
    "configure",
    "reset_configuration",
    "shards",
    "stats",
    "reset_stats",
    "write_chunks",
    "open",
    "collective",
    "Collective",
    "CollectiveError",
    "CONNECTOR_NAME",
]

__version__: str = _core.version()

# The import-time checks (_compat_check), the settings (_configuration) and MPI collective I/O
# (_collective) live in modules of their own; their public names are this package's.
from ._compat_check import CONNECTOR_NAME, _hdf5_mismatch, _hdf5_series, _loaded_libhdf5  # noqa: E402,F401
from ._compat_check import _native_fallback, _plugin_dir  # noqa: E402

_PLUGIN_DIR = _plugin_dir()

_problem = _hdf5_mismatch(h5py.version.hdf5_version, _core.hdf5_build_version(), _loaded_libhdf5())
if _problem:
    raise ImportError(_problem)

# h5py's group iteration uses HDF5 1.10 APIs that refuse non-native VOL objects; route it through
# arraymorph's own link listing for arraymorph objects (see _h5py_compat).
from . import _h5py_compat  # noqa: E402

_h5py_compat.install(_core)

# File-like objects and file drivers go to the native connector, never to a stray object key.
from . import _drivers  # noqa: E402

_drivers.install(_core)

# h5py makes and follows references with HDF5 APIs that refuse non-native VOL objects; route them
# through arraymorph's object ids for arraymorph objects (see _h5py_refs).
from . import _h5py_refs  # noqa: E402

_h5py_refs.install(_core)

# h5py's dimension scales (h5py.h5ds) write references HDF5 refuses for non-native objects, and
# new-style ones netCDF-4 readers cannot read: the classic layout for arraymorph objects (_h5py_dims).
from . import _h5py_dims  # noqa: E402

_h5py_dims.install(_core)


_problem = _native_fallback(_core, _PLUGIN_DIR)
if _problem:
    raise ImportError(_problem)


from ._configuration import (  # noqa: E402
    configure,
    configure_azure,
    configure_s3,
    reset_configuration,
    reset_stats,
    shards,
    stats,
)
from ._collective import Collective, CollectiveError, collective  # noqa: E402


# --------------------------------------------------------------------------- plugin discovery
def get_plugin_path() -> str:
    """Return the folder holding the VOL plugin ``libarraymorph.so``.

    This is the value for ``HDF5_PLUGIN_PATH`` (as in the published package).

    Returns
    -------
    str
        Absolute path of the folder holding the plugin: ``arraymorph/lib`` inside a wheel, the
        prefix's plugin folder (e.g. ``$PREFIX/lib/hdf5/plugin``) for conda, spack and CMake
        installs. Either way it is the very file ``arraymorph._core`` links.
    """
    return str(_PLUGIN_DIR)


def _wrap_h5py_make_fapl() -> None:
    """Make every later ``h5py.File`` use arraymorph, although HDF5 is already initialised.

    HDF5 reads ``HDF5_VOL_CONNECTOR`` once, when the library initialises (``import h5py``, which
    this package does first). h5py builds each file's access property list in
    ``h5py._hl.files.make_fapl``, which ``_drivers`` wraps; from now on the wrapper sets
    arraymorph on that list (except for file-like objects and file drivers, see ``_drivers``).
    """
    _drivers.install(_core)
    _drivers.select_arraymorph()


def enable() -> None:
    """Route h5py (and child processes' HDF5) through the arraymorph connector.

    Sets ``HDF5_PLUGIN_PATH`` to :func:`get_plugin_path` and ``HDF5_VOL_CONNECTOR=arraymorph``
    in ``os.environ`` (seen by HDF5 in child processes and in C code started later), and makes
    every ``h5py.File`` opened afterwards in this process use arraymorph even though HDF5 is
    already initialised. Calling it again has no further effect.
    """
    os.environ["HDF5_PLUGIN_PATH"] = get_plugin_path()
    os.environ["HDF5_VOL_CONNECTOR"] = CONNECTOR_NAME
    _wrap_h5py_make_fapl()


# --------------------------------------------------------------------------- chunks
def write_chunks(dset: h5py.Dataset, chunks: Iterable[tuple]) -> None:
    """Write many whole chunks at once in HDF5's raw chunk form (``write_direct_chunk`` in bulk).

    Parameters
    ----------
    dset : h5py.Dataset
        A chunked dataset of a file opened through arraymorph, opened for writing.
    chunks : iterable of (offset, filter_mask, data)
        ``offset``: the chunk's first element (a tuple, one value per dimension);
        ``filter_mask``: as ``read_direct_chunk`` returns it (0: every filter applied);
        ``data``: any bytes-like object (bytes, memoryview, numpy array), not copied.

    Every offset is checked before anything is stored. The chunks are converted on the
    connector's worker pool -- stored as given when every filter was applied, gzip re-framed
    without recompression (``stats()["direct_chunks"]``) -- and PUT concurrently (at most
    ``max_inflight`` at once). On failure (``RuntimeError`` naming the chunk) any subset of the
    chunks may be stored, each whole or not at all.
    """
    items = [(tuple(int(o) for o in off), int(mask), data) for off, mask, data in chunks]
    with h5py._objects.phil:  # no other thread enters HDF5 while the GIL is released
        _core.write_chunks(dset.id.id, items)


# --------------------------------------------------------------------------- open
def _settings_string(settings: dict) -> Optional[str]:
    """``{"threads": 4, "s3.use_tls": True}`` -> ``"threads=4;s3.use_tls=true"`` (None if empty)."""
    if not settings:
        return None
    parts = []
    for key, value in settings.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if ";" in text or ";" in key or "=" in key:
            raise ValueError(f"setting {key!r}: ';' and '=' cannot be passed through open()")
        parts.append(f"{key}={text}")
    return ";".join(parts)


def open(url: str, mode: str = "r", comm: Any = None, **settings: Any) -> h5py.File:  # noqa: A001 - public API
    """Open or create a file through arraymorph, without environment variables.

    Parameters
    ----------
    url : str
        ``s3://bucket/key.h5``, ``az://container/key.h5``, ``file:///dir/key.h5`` or a plain
        name (a key prefix in the configured store).
    mode : {"r", "r+", "w", "w-", "x", "a"}
        h5py's meaning: read only; read/write, must exist; create, truncating; create, fail if
        it exists (``w-`` and ``x``); read/write if it exists, create otherwise.
    comm : mpi4py communicator, optional
        Parallel HDF5 (needs an h5py built with MPI): the file is opened as with h5py's
        ``driver="mpio", comm=comm``. Every rank of ``comm`` must make the same calls that change
        metadata (they are made once, by rank 0), and ``with dataset.collective:`` makes a
        read/write two-phase (each chunk fetched or written once). See docs/design.md.
    **settings
        Connector settings for this file only (keys as in :func:`configure`).

    Returns
    -------
    h5py.File
        A regular h5py file object bound to the arraymorph connector.

    Raises
    ------
    ValueError
        For an invalid mode.
    OSError
        (FileNotFoundError, FileExistsError, ...) when the file cannot be opened or created.
    """
    from h5py import h5f, h5p

    fapl = h5p.create(h5p.FILE_ACCESS)
    if comm is not None:
        if not h5py.get_config().mpi:
            raise ValueError("arraymorph.open(comm=...): this h5py was built without MPI (HDF5_MPI=ON); "
                             "use arraymorph.collective(comm) instead")
        from mpi4py import MPI

        fapl.set_fapl_mpio(comm, MPI.Info())
    _core.set_fapl(fapl.id, _settings_string(settings))
    name = os.fsencode(url)
    if mode == "r":
        fid = h5f.open(name, h5f.ACC_RDONLY, fapl=fapl)
    elif mode == "r+":
        fid = h5f.open(name, h5f.ACC_RDWR, fapl=fapl)
    elif mode in ("w-", "x"):
        fid = h5f.create(name, h5f.ACC_EXCL, fapl=fapl)
    elif mode == "w":
        fid = h5f.create(name, h5f.ACC_TRUNC, fapl=fapl)
    elif mode == "a":
        try:
            fid = h5f.open(name, h5f.ACC_RDWR, fapl=fapl)
        except OSError as open_error:
            # Missing file: create it. If creating fails as well (it exists but cannot be
            # opened), the open error is the one that explains the problem.
            try:
                fid = h5f.create(name, h5f.ACC_EXCL, fapl=fapl)
            except OSError:
                raise open_error from None
    else:
        raise ValueError(f"invalid mode {mode!r}; must be one of r, r+, w, w-, x, a")
    return h5py.File(fid)
