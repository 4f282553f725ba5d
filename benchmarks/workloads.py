"""Workloads of the benchmark: selections on an N x N float32 array in C x C chunks.

The array's values are ``a[i, j] = i * N + j`` (exact in float32 for N <= 4096), so the
expected result of any selection is computed from its indices, without holding the array.
Selections scale with N (the full run uses N=4096, C=256; ``--quick`` N=1024, C=128).
"""

from __future__ import annotations

import numpy as np

READS = ["read_all", "row_slab", "col_slab", "points", "strided", "thin_box", "seq_batches"]
# Workloads read as consecutive batches of this many rows over their selection (W8: a training
# loop `for i in range(0, n, b): x = ds[i:i+b]`), one read per batch.
BATCH_ROWS = {"seq_batches": 64}
WORKLOADS = ["write_all"] + READS

DESCRIPTION = {
    "write_all": "write the whole array (create + write + close)",
    "read_all": "[:, :]",
    "row_slab": "[r:r+C, :]",
    "col_slab": "[:, r:r+C]",
    "points": "100 random single points, one at a time",
    "strided": "[::16, ::16]",
    "thin_box": "[10:20, 10:w]",
    "seq_batches": "W8: [i:i+64, :] for i in 0, 64, ... (the whole array in 64-row batches)",
}


def full(n: int) -> np.ndarray:
    return (np.arange(n, dtype=np.int64)[:, None] * n
            + np.arange(n, dtype=np.int64)[None, :]).astype(np.float32)


def expected(n: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return (rows.astype(np.int64)[:, None] * n + cols.astype(np.int64)[None, :]).astype(np.float32)


def selections(n: int, c: int) -> dict:
    """name -> tuple of slices (for the one-shot reads)."""
    r = 1000 * n // 4096
    return {
        "read_all": (slice(0, n), slice(0, n)),
        "row_slab": (slice(r, r + c), slice(0, n)),
        "col_slab": (slice(0, n), slice(r, r + c)),
        "strided": (slice(0, n, 16), slice(0, n, 16)),
        "thin_box": (slice(10, 20), slice(10, 2000 * n // 4096)),
        "seq_batches": (slice(0, n), slice(0, n)),
    }


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
    if name == "write_all":
        return 4 * n * n
    sel = selections(n, c)[name]
    return 4 * len(range(n)[sel[0]]) * len(range(n)[sel[1]])
