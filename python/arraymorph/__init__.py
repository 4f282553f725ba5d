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

import builtins
import os
import re
from pathlib import Path
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
    "stats",
    "reset_stats",
    "write_chunks",
    "open",
]

__version__: str = _core.version()

CONNECTOR_NAME = "arraymorph"


def _plugin_dir() -> Path:
    """The folder HDF5 loads this installation's libarraymorph from (see get_plugin_path)."""
    try:  # conda/spack/CMake installs: the prefix's plugin folder (python/CMakeLists.txt)
        from ._installed_paths import PLUGIN_DIR
    except ImportError:  # a wheel carries the plugin inside the package
        return Path(__file__).resolve().parent / "lib"
    return Path(PLUGIN_DIR)


_PLUGIN_DIR = _plugin_dir()
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


def _native_fallback() -> Optional[str]:
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
    if _core.fapl_uses_arraymorph(fapl.id):
        return None
    return (
        f"HDF5_VOL_CONNECTOR=arraymorph is set but HDF5 did not load the arraymorph connector "
        f"(HDF5_PLUGIN_PATH={os.environ.get('HDF5_PLUGIN_PATH', '<unset>')!r}; it should be "
        f"{str(_PLUGIN_DIR)!r}): h5py would write native files. Fix HDF5_PLUGIN_PATH, or unset "
        f"HDF5_VOL_CONNECTOR and call arraymorph.enable()"
    )


_problem = _native_fallback()
if _problem:
    raise ImportError(_problem)


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


# --------------------------------------------------------------------------- configuration
def configure(
    threads: Optional[int] = None,
    max_inflight: Optional[int] = None,
    cache_bytes: Optional[int | str] = None,
    **more: Any,
) -> None:
    """Set process-wide connector settings for files opened afterwards.

    Explicit settings win over environment variables, which win over defaults.

    Parameters
    ----------
    threads : int, optional
        Worker threads for chunk work (0: one per core). Env: ``ARRAYMORPH_THREADS``.
    max_inflight : int, optional
        Requests kept in flight. Env: ``ARRAYMORPH_MAX_INFLIGHT``.
    cache_bytes : int or str, optional
        Decoded-chunk cache size, e.g. ``268435456`` or ``"256MiB"`` (0 disables).
        Env: ``ARRAYMORPH_CACHE_BYTES``.
    **more
        Any other key of the C API ``arraymorph_configure`` (``log_level="debug"``,
        ``platform="Local"``, ``**{"local.root": "/data"}``, ...). Booleans become
        ``"true"``/``"false"``.

    Raises
    ------
    ValueError
        For an unknown key or a bad value; the message names the key.
    """
    settings = {"threads": threads, "max_inflight": max_inflight, "cache_bytes": cache_bytes}
    settings.update(more)
    _core.configure(**{k: v for k, v in settings.items() if v is not None})


def reset_configuration() -> None:
    """Forget every explicit setting (configure*, back to environment variables + defaults)."""
    _core.reset_configuration()


def configure_s3(
    bucket: str,
    access_key: str = "",
    secret_key: str = "",
    endpoint: Optional[str] = None,
    region: str = "us-east-2",
    use_tls: bool = False,
    addressing_style: bool = False,
    use_signed_payloads: bool = False,
) -> None:
    """Store files in an S3 (or S3-compatible) bucket.

    Sets the published environment variables, exactly as ArrayMorph 0.2 does, and passes the
    same values to the loaded connector so it also takes effect after h5py was imported.

    Parameters
    ----------
    bucket : str
        Bucket holding the files. Env: ``BUCKET_NAME``.
    access_key, secret_key : str
        Credentials. Env: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``. When empty, the
        values already in the environment are used; if those are missing too, ValueError.
    endpoint : str, optional
        S3-compatible endpoint, e.g. ``"http://127.0.0.1:8333"``. Env: ``AWS_ENDPOINT_URL_S3``
        (only set when given). A scheme in it decides TLS for this process.
    region : str
        SigV4 signing region. Env: ``AWS_REGION``.
    use_tls : bool
        HTTPS (True) or HTTP (False) for endpoints without a scheme. Env: ``AWS_USE_TLS``
        (``"true"``/``"false"``).
    addressing_style : bool
        True: path style (``endpoint/bucket/key``), False: virtual-hosted style
        (``bucket.endpoint/key``). Env: ``AWS_S3_ADDRESSING_STYLE`` = ``"path"``/``"virtual"``.
    use_signed_payloads : bool
        Sign request bodies (SigV4 payload hash). Env: ``AWS_SIGNED_PAYLOADS``.

    Raises
    ------
    ValueError
        If no access key or secret key is given or set in the environment.
    """
    access_key = access_key or os.environ.get("AWS_ACCESS_KEY_ID", "")
    secret_key = secret_key or os.environ.get("AWS_SECRET_ACCESS_KEY", "")
    if not (access_key and secret_key):
        raise ValueError(
            "configure_s3() requires both 'access_key' and 'secret_key' (or AWS_ACCESS_KEY_ID "
            "and AWS_SECRET_ACCESS_KEY in the environment)"
        )
    style = "path" if addressing_style else "virtual"
    if endpoint and "://" in endpoint:  # an explicit scheme decides TLS, whatever use_tls says
        use_tls = endpoint.lower().startswith("https://")
    env = {
        "STORAGE_PLATFORM": "S3",
        "BUCKET_NAME": bucket,
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "AWS_REGION": region,
        "AWS_USE_TLS": str(bool(use_tls)).lower(),
        "AWS_S3_ADDRESSING_STYLE": style,
        "AWS_SIGNED_PAYLOADS": str(bool(use_signed_payloads)).lower(),
    }
    if endpoint:
        env["AWS_ENDPOINT_URL_S3"] = endpoint
    os.environ.update(env)
    # Order matters: s3.endpoint after s3.use_tls so a scheme in the endpoint decides TLS.
    settings = {
        "platform": "S3",
        "s3.bucket": bucket,
        "s3.access_key": access_key,
        "s3.secret_key": secret_key,
        "s3.region": region,
        "s3.use_tls": bool(use_tls),
        "s3.addressing_style": style,
        "s3.signed_payloads": bool(use_signed_payloads),
    }
    if endpoint:
        settings["s3.endpoint"] = endpoint
    _core.configure(**settings)


def configure_azure(container: str, connection_string: Optional[str] = None) -> None:
    """Store files in an Azure Blob Storage container.

    Parameters
    ----------
    container : str
        Container holding the files. Env: ``BUCKET_NAME`` (as in the published package).
    connection_string : str, optional
        Storage account connection string. Env: ``AZURE_STORAGE_CONNECTION_STRING``; when
        None, the value already in the environment is used.

    Raises
    ------
    ValueError
        If no connection string is given or set in the environment.
    """
    connection_string = connection_string or os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    if not connection_string:
        raise ValueError(
            "configure_azure() requires a 'connection_string' (or "
            "AZURE_STORAGE_CONNECTION_STRING in the environment)"
        )
    os.environ.update(
        {
            "STORAGE_PLATFORM": "Azure",
            "BUCKET_NAME": container,
            "AZURE_STORAGE_CONNECTION_STRING": connection_string,
        }
    )
    _core.configure(
        **{
            "platform": "Azure",
            "azure.container": container,
            "azure.connection_string": connection_string,
        }
    )


# --------------------------------------------------------------------------- statistics
def stats() -> dict:
    """Return the connector's request and cache counters.

    Returns
    -------
    dict
        ``{"get"|"put"|"head"|"list"|"delete": {"requests", "bytes", "retries", "errors",
        "not_found"}, "cache": {"hits", "misses"}, "zero_copy": {"reads", "bytes"},
        "direct_chunks": {"verbatim", "reframed", "recoded"}, "max_inflight_seen": int}``;
        counts since the process started or the last :func:`reset_stats`, over every file.
        ``zero_copy`` counts the GETs whose bytes the store wrote straight into the array being
        read (no intermediate chunk buffer). ``direct_chunks`` counts chunks written in HDF5's
        raw chunk form (``write_direct_chunk``, :func:`write_chunks`) by how they were stored:
        as given, gzip re-framed without recompression, or decoded and encoded again.
    """
    return _core.stats()


def reset_stats() -> None:
    """Set every counter reported by :func:`stats` to zero."""
    _core.reset_stats()


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


# --------------------------------------------------------------------------- MPI collective I/O
class CollectiveError(RuntimeError):
    """A collective block failed on another rank, or the ranks got out of step."""


class Collective:
    """Context manager returned by :func:`collective`; see there."""

    def __init__(self, comm: Any) -> None:
        if not _core.collective_available():
            raise RuntimeError(
                "arraymorph.collective: this build of arraymorph has no MPI (the wheel from "
                "`pip install arraymorph` never has: build arraymorph from source, conda or spack "
                "with MPI and mpi4py installed, e.g. `pip install mpich mpi4py`)"
            )
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()

    def __enter__(self) -> "Collective":
        _core.collective_begin(self.comm.py2f())
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        failed = exc_type is not None
        try:
            _core.collective_end(failed)
        except RuntimeError as err:
            if not failed:
                raise CollectiveError(str(err)) from None
        return False

    def once(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run ``fn(*args, **kwargs)`` on rank 0 only, outside the block's coordination (its
        arraymorph calls are independent); every rank raises if it failed there.

        Returns the result on rank 0 and None elsewhere. Must be called by every rank.
        """
        result, error = None, None
        if self.rank == 0:
            _core.collective_suspend(True)
            try:
                result = fn(*args, **kwargs)
            except BaseException as err:  # noqa: BLE001 - re-raised below on every rank
                error = err
            finally:
                _core.collective_suspend(False)
        message = self.comm.bcast(None if error is None else f"{type(error).__name__}: {error}", root=0)
        if error is not None:
            raise error
        if message is not None:
            raise CollectiveError(f"rank 0 failed: {message}")
        return result

    # Kept for code written against the first version of this API; plain arraymorph.open and
    # create_dataset on every rank do the same now (the connector coordinates metadata).
    def open(self, url: str, mode: str = "r", **settings: Any) -> h5py.File:
        """Same as :func:`open` on every rank (inside the block, a create is made once by rank 0)."""
        return open(url, mode, **settings)

    def create_dataset(self, parent: Any, name: str, **kwargs: Any) -> h5py.Dataset:
        """Same as ``parent.create_dataset(name, **kwargs)`` on every rank."""
        return parent.create_dataset(name, **kwargs)


def collective(comm: Any) -> Collective:
    """Collective (MPI) chunk I/O for the reads and writes made inside the block.

    ::

        from mpi4py import MPI
        with arraymorph.collective(MPI.COMM_WORLD):
            with arraymorph.open("s3://bucket/data.h5", "a") as f:   # every rank
                x = f.require_dataset("x", (n, 256), "f8", chunks=(64, 256))
                x[lo:hi] = mine                  # every rank, same sequence of reads/writes
                window = x[a:b]

    Each chunk any rank needs is fetched once (by its owner rank: hash of the chunk's
    coordinates modulo the communicator size) and the pieces are exchanged with MPI_Alltoallv;
    writes send pieces to the owner, which assembles and PUTs each chunk once (for elements
    written by several ranks the highest rank wins). Works with serial HDF5 + mpi4py.

    Rules and limitations:

    - every rank must make the same sequence of dataset reads/writes (same datasets, same
      order). h5py skips empty selections without calling HDF5, so give every rank at least one
      element. A rank out of step, or leaving the block with an exception, makes every rank
      raise (at the next read/write or at the end of the block) instead of hanging.
    - only reads/writes whose NumPy dtype matches the file type take the collective path; type
      conversion, variable-length strings and anonymous datasets stay independent.
    - metadata changes (file create/truncate, groups, datasets, attributes, links, resize, the
      metadata written at flush/close) are made once, by rank 0, after every rank has made the
      same call; every rank then sees the result. So every rank makes them all, in the same
      order, and closes files inside the block (a file closed after it writes its metadata from
      every rank). :meth:`Collective.once` runs a function on rank 0 alone, uncoordinated.
    - blocks do not nest; the communicator is duplicated for the block's duration.

    Raises RuntimeError when arraymorph was built without MPI.
    """
    return Collective(comm)
