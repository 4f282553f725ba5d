"""Workloads of the benchmark: selections on an N x N float32 array in C x C chunks.

The array's values are ``a[i, j] = i * N + j`` (exact in float32 for N <= 4096), so the
expected result of any selection is computed from its indices, without holding the array.
Selections scale with N (the full run uses N=4096, C=256; ``--quick`` N=1024, C=128).

Each workload reads or writes one *variant* of a peer's stored array (``VARIANT``): ``plain``
(uncompressed, one object per chunk), ``gzip`` (level 4), ``zstd`` (level 3), ``shard``
(uncompressed C x C chunks inside SHARD x SHARD-chunk ``sharding_indexed`` shards), ``many``
(MANY_COUNT small datasets in one file) and ``append`` (a resizable dataset grown by appends).
A read of a variant needs that variant written first: run.py writes it (unrecorded, at 0 ms) when
the workload that writes it (``WRITER``) is not measured before it.
"""

from __future__ import annotations

import numpy as np

# name -> variant of the stored array it writes or reads
VARIANT = {
    "write_all": "plain",
    "read_all": "plain",
    "row_slab": "plain",
    "col_slab": "plain",
    "points": "plain",
    "strided": "plain",
    "thin_box": "plain",
    "seq_batches": "plain",
    "random_batches": "plain",
    "write_gzip": "gzip",
    "read_gzip": "gzip",
    "write_zstd": "zstd",
    "read_zstd": "zstd",
    "write_shard": "shard",
    "read_all_shard": "shard",
    "strided_shard": "shard",
    "seq_batches_shard": "shard",
    "write_many": "many",
    "many_open": "many",
    "append": "append",
}
WRITER = {"plain": "write_all", "gzip": "write_gzip", "zstd": "write_zstd",
          "shard": "write_shard", "many": "write_many"}
WRITES = set(WRITER.values()) | {"append"}
# The selection a read workload makes, when it is another workload's on another variant.
SAME_SELECTION = {"read_gzip": "read_all", "read_zstd": "read_all", "read_all_shard": "read_all",
                  "strided_shard": "strided", "seq_batches_shard": "seq_batches"}
# Workloads read as consecutive batches of this many rows over their selection (W8: a training
# loop `for i in range(0, n, b): x = ds[i:i+b]`), one read per batch.
BATCH_ROWS = {"seq_batches": 64, "seq_batches_shard": 64}
RANDOM_BATCHES, RANDOM_ROWS, RANDOM_SEED = 16, 64, 9   # W9
MANY_COUNT, MANY_LEN = 1000, 64                          # W11
APPEND_ROWS = 64                                         # W12
SHARD = 4                                                # shard = SHARD x SHARD chunks
GZIP_LEVEL, ZSTD_LEVEL = 4, 3

# The default list: every measured workload (write_many is only a preparation of many_open:
# 1,000 dataset creations one after the other, minutes at 20 ms for some peers).
WORKLOADS = ["write_all", "read_all", "row_slab", "col_slab", "points", "strided", "thin_box",
             "seq_batches", "random_batches", "write_gzip", "read_gzip", "write_zstd",
             "read_zstd", "many_open", "append", "write_shard", "read_all_shard",
             "strided_shard", "seq_batches_shard"]
READS = [w for w in WORKLOADS if w not in WRITES]

DESCRIPTION = {
    "write_all": "W1: write the whole array (create + write + close)",
    "read_all": "W2: [:, :]",
    "row_slab": "W3: [r:r+C, :]",
    "col_slab": "W4: [:, r:r+C]",
    "points": "W5: 100 random single points, one at a time",
    "strided": "W6: [::16, ::16]",
    "thin_box": "W7: [10:20, 10:w]",
    "seq_batches": "W8: [i:i+64, :] for i in 0, 64, ... (the whole array in 64-row batches)",
    "random_batches": "W9: 16 x [sorted 64 random rows, :] (seed 9)",
    "write_gzip": "W10: write_all, gzip level 4",
    "read_gzip": "W10: read_all of the gzip copy",
    "write_zstd": "W10: write_all, zstd level 3",
    "read_zstd": "W10: read_all of the zstd copy",
    "write_many": "W11 preparation: 1,000 datasets of 64 float32 in one file",
    "many_open": "W11: open the 1,000-dataset file, read one element of each, close",
    "append": "W12: create an unlimited dataset, append 64 rows at a time up to N rows, close",
    "write_shard": "write_all into 4x4-chunk shards",
    "read_all_shard": "W2 on the sharded copy",
    "strided_shard": "W6 on the sharded copy",
    "seq_batches_shard": "W8 on the sharded copy",
}


class Unsupported(Exception):
    """A peer cannot store this variant (e.g. shards in HDF5): the cell is N/A, not an error."""


def full(n: int) -> np.ndarray:
    return (np.arange(n, dtype=np.int64)[:, None] * n
            + np.arange(n, dtype=np.int64)[None, :]).astype(np.float32)


def expected(n: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return (rows.astype(np.int64)[:, None] * n + cols.astype(np.int64)[None, :]).astype(np.float32)


def selections(n: int, c: int) -> dict:
    """name -> tuple of slices (for the one-shot reads)."""
    r = 1000 * n // 4096
    sel = {
        "read_all": (slice(0, n), slice(0, n)),
        "row_slab": (slice(r, r + c), slice(0, n)),
        "col_slab": (slice(0, n), slice(r, r + c)),
        "strided": (slice(0, n, 16), slice(0, n, 16)),
        "thin_box": (slice(10, 20), slice(10, 2000 * n // 4096)),
        "seq_batches": (slice(0, n), slice(0, n)),
    }
    for name, same in SAME_SELECTION.items():
        sel[name] = sel[same]
    return sel


def random_batches(n: int) -> list[np.ndarray]:
    """W9: RANDOM_BATCHES sorted arrays of RANDOM_ROWS distinct row indices (fixed seed)."""
    rng = np.random.default_rng(RANDOM_SEED)
    return [np.sort(rng.choice(n, size=min(RANDOM_ROWS, n), replace=False))
            for _ in range(RANDOM_BATCHES)]


def many_values(k: int) -> np.ndarray:
    """W11: the values of dataset k."""
    return np.arange(k * MANY_LEN, (k + 1) * MANY_LEN, dtype=np.float32)


def many_name(k: int) -> str:
    return f"d{k:04d}"


def many_expected() -> np.ndarray:
    """W11: element k % MANY_LEN of dataset k, for every k."""
    return np.array([k * MANY_LEN + k % MANY_LEN for k in range(MANY_COUNT)], dtype=np.float32)


def points(n: int, count: int = 100, seed: int = 7) -> list[tuple[int, int]]:
    rng = np.random.default_rng(seed)
    return [(int(i), int(j)) for i, j in rng.integers(0, n, size=(count, 2))]


def expected_for(sel: tuple, n: int) -> np.ndarray:
    rows = np.arange(n)[sel[0]]
    cols = np.arange(n)[sel[1]]
    return expected(n, rows, cols)


def needed_bytes(name: str, n: int, c: int) -> int:
    """Bytes the selection itself needs (float32)."""
    if name == "points":
        return 4 * 100
    if name == "many_open":
        return 4 * MANY_COUNT
    if name == "random_batches":
        return 4 * RANDOM_BATCHES * min(RANDOM_ROWS, n) * n
    if name in WRITES:
        return 4 * MANY_COUNT * MANY_LEN if name == "write_many" else 4 * n * n
    sel = selections(n, c)[name]
    return 4 * len(range(n)[sel[0]]) * len(range(n)[sel[1]])
