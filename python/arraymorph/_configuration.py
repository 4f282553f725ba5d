"""Process-wide connector settings: ``configure``, the published ``configure_s3`` and
``configure_azure``, and the statistics (``stats``, ``reset_stats``)."""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any, Iterator, Optional

from . import _core

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
    shard_chunks : int, tuple or str, optional (keyword)
        Store the chunks of datasets created afterwards (also in files already open) in Zarr
        shards of this many chunks per dimension: ``16``, or ``(4, 64)`` for rank-2 datasets
        (``"4x64"``; datasets of other ranks are not sharded); ``0`` turns shards off. See also :func:`shards`.
        Env: ``ARRAYMORPH_SHARD_CHUNKS``.
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
    if isinstance(settings.get("shard_chunks"), (tuple, list)):
        settings["shard_chunks"] = "x".join(str(int(n)) for n in settings["shard_chunks"])
    _core.configure(**{k: v for k, v in settings.items() if v is not None})


@contextlib.contextmanager
def shards(chunks: int | tuple | str) -> Iterator[None]:
    """Create the datasets made inside the block with Zarr shards of ``chunks`` chunks.

    ``with arraymorph.shards(16): f.create_dataset("x", shape=..., chunks=(256, 256))`` stores
    16 x 16 chunks per shard object (one PUT per whole shard written, one index GET per shard
    read; docs/format.md, "Shards"). ``chunks`` is a count per dimension (``16``) or one count
    per dimension (``(4, 64)``); counts are capped at what a dataset's max shape needs. HDF5 still
    sees the chunks (``dset.chunks``); only the storage changes. Datasets without ``chunks=``
    and variable-length ones are stored unsharded. The previous ``shard_chunks`` setting
    (:func:`configure`, ``ARRAYMORPH_SHARD_CHUNKS``) is restored when the block ends.
    """
    previous = json.loads(_core.config_json()).get("shard_chunks", "")
    configure(shard_chunks=chunks)
    try:
        yield
    finally:
        _core.configure(shard_chunks=previous or "0")


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
        "readahead": {"chunks", "hits", "unused", "cancelled", "waits"},
        "codec": {"encoded", "decoded", "on_caller"},
        "direct_chunks": {"verbatim", "reframed", "recoded"}, "max_inflight_seen": int}``;
        counts since the process started or the last :func:`reset_stats`, over every file.
        ``zero_copy`` counts the GETs whose bytes the store wrote straight into the array being
        read (no intermediate chunk buffer). ``direct_chunks`` counts chunks written in HDF5's
        raw chunk form (``write_direct_chunk``, :func:`write_chunks`) by how they were stored:
        as given, gzip re-framed without recompression, or decoded and encoded again.
        ``readahead`` counts chunks fetched ahead of a sequential pass through a dataset (in the
        background), those a later read needed, those never read, those dropped before they
        were requested because the pass ended, and chunks a read waited for because their
        look-ahead was still in flight (``readahead_bytes`` in :func:`configure`). ``codec``
        counts chunks encoded and decoded by a compressing codec chain (gzip, zstd, blosc,
        HDF5 filters) and how many of those ran on the calling thread instead of the worker
        pool (0: codec work overlaps the network).
    """
    return _core.stats()


def reset_stats() -> None:
    """Set every counter reported by :func:`stats` to zero."""
    _core.reset_stats()
