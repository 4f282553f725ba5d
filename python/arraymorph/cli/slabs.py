"""Split a dataset into slabs: boxes of whole destination chunks, each read with one H5Dread and
written with one H5Dwrite, so the engine issues all of a slab's chunk PUTs (or GETs) at once.

A slab is at most ``budget`` bytes (at least one chunk). Slabs are built from the last dimension
outwards (full extent where it fits), so a slab is a C-contiguous run of the source when possible.
"""

from __future__ import annotations

import itertools
import math
from typing import Iterator, List, Sequence, Tuple

Box = Tuple[Tuple[int, int], ...]  # ((start, stop), ...) per dimension, in elements


def slab_chunks(shape: Sequence[int], chunks: Sequence[int], itemsize: int, budget: int) -> Tuple[int, ...]:
    """Slab extent in chunks per dimension."""
    counts = [math.ceil(n / c) if n else 0 for n, c in zip(shape, chunks)]
    units = max(1, budget // max(1, math.prod(chunks) * itemsize))
    out = [1] * len(shape)
    for d in reversed(range(len(shape))):
        if counts[d] <= units:
            out[d] = max(1, counts[d])
            units //= max(1, counts[d])
        else:
            out[d] = max(1, units)
            break
    return tuple(out)


def slabs(shape: Sequence[int], chunks: Sequence[int], itemsize: int, budget: int) -> Iterator[Box]:
    """Every slab of the dataset, in C order of the slab grid."""
    if any(n == 0 for n in shape):
        return
    per = slab_chunks(shape, chunks, itemsize, budget)
    steps = [p * c for p, c in zip(per, chunks)]
    ranges = [range(0, n, s) for n, s in zip(shape, steps)]
    for origin in itertools.product(*ranges):
        yield tuple((o, min(o + s, n)) for o, s, n in zip(origin, steps, shape))


def chunks_in(box: Box, chunks: Sequence[int]) -> List[Tuple[int, ...]]:
    """Grid indices of the chunks a chunk-aligned box covers."""
    return list(itertools.product(*(range(a // c, -(-b // c)) for (a, b), c in zip(box, chunks))))


def chunk_box(index: Sequence[int], chunks: Sequence[int], shape: Sequence[int]) -> Box:
    """Element box of one chunk, clipped to the dataset extent."""
    return tuple((i * c, min((i + 1) * c, n)) for i, c, n in zip(index, chunks, shape))


def to_slices(box: Box) -> tuple:
    return tuple(slice(a, b) for a, b in box)


def box_shape(box: Box) -> Tuple[int, ...]:
    return tuple(b - a for a, b in box)


def parse_chunk_key(rest: str) -> Tuple[int, ...]:
    """``"c/1/2"`` -> (1, 2); ``"c"`` (scalar) -> (). Raises ValueError for other keys."""
    parts = rest.split("/")
    if parts[0] != "c":
        raise ValueError(rest)
    return tuple(int(p) for p in parts[1:])
