"""Benchmark peers. Each module defines ``Peer(cfg)`` with:

- ``write(data, variant)``: create the array (replacing a previous copy) as ``variant``
  (workloads.VARIANT: plain, gzip, zstd, shard), write all of it, close (durable);
- ``open(variant)`` / ``close()``: open the stored copy read-only (both inside the timed region);
- ``read(sel)``: the selection (tuple of slices, of two ints for one point, or of a sorted index
  array and a slice for W9) as numpy;
- ``write_many(count)`` / ``read_many(count)``: W11 (read_many opens, reads element k % 64 of
  dataset k for every k, closes);
- ``append(data, rows)``: W12, create a resizable dataset and append ``rows`` rows at a time;
- optional ``stats_reset()`` / ``stats()``: the library's own request counters.

A variant the library cannot store raises ``workloads.Unsupported`` (the cell shows N/A).
``cfg`` (a dict) holds n, c, endpoint, bucket, region, access_key, secret_key, key (this
peer's object prefix) and tmpdir. Modules import their libraries lazily, in the worker.
"""


def variant_key(key: str, variant: str) -> str:
    """The object prefix (or file name stem) of one variant of a peer's array."""
    return key if variant == "plain" else f"{key}-{variant}"
