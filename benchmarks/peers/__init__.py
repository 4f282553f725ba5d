"""Benchmark peers. Each module defines ``Peer(cfg)`` with:

- ``write(data)``: create the array (replacing a previous copy), write all of it, close;
- ``open()`` / ``close()``: open the stored copy read-only (both inside the timed region);
- ``read(sel)``: the selection (tuple of slices, or of two ints for one point) as numpy;
- optional ``stats_reset()`` / ``stats()``: the library's own request counters.

``cfg`` (a dict) holds n, c, endpoint, bucket, region, access_key, secret_key, key (this
peer's object prefix) and tmpdir. Modules import their libraries lazily, in the worker.
"""
