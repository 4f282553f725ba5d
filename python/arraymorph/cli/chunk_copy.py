"""Copy dataset values slab by slab (see :mod:`slabs`), reading ahead in another process (see
:mod:`reader`) while the current slab is written with one H5Dwrite; skip chunks the destination
already holds intact (``--resume``).

Datasets whose chunk shape and filter pipeline are kept (a plain ``cp``) are copied as whole
chunks *undecoded* instead, in batches: ``read_direct_chunk`` in the reader, then one
:func:`arraymorph.write_chunks` per batch into a store (the engine converts the chunks on its
workers -- gzip re-framed, never recompressed -- and PUTs them concurrently) or
``write_direct_chunk`` per chunk into a native file. No decompression and recompression, which is
most of the work of a slab copy of compressed data, and no gathering of uncompressed chunks out of
slabs. This covers filtered datasets from any source and unfiltered ones from a native file (from
a store, an unfiltered dataset's slab reads fetch all of a slab's chunks concurrently, where
``read_direct_chunk`` would fetch one at a time). Chunks the source never stored are left out (a
missing chunk reads as the fill value on both sides).

A destination chunk counts as stored intact when its object exists (a store PUT and a native
chunk allocation are all-or-nothing) and, for chunks without compression, has exactly the
chunk's size in bytes. Only the missing chunks of a slab are written (one H5Dwrite over the union
of their boxes).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import h5py
import numpy as np
from h5py import h5s

import arraymorph
from arraymorph import _core

from .locations import Location
from .plan import DatasetPlan, auto_chunks
from .progress import Progress
from .reader import InlineReader, ProcessReader, RawChunks
from .slabs import Box, box_shape, chunk_box, chunks_in, parse_chunk_key, slabs, to_slices
from .structure import translate_refs


@dataclass
class DatasetState:
    plan: DatasetPlan
    grid: Tuple[int, ...]  # destination chunk shape (storage grid), () for scalars
    present: Dict[Tuple[int, ...], int] = field(default_factory=dict)  # chunk index -> stored size
    expected_size: Optional[int] = None  # exact stored size of an intact chunk, when known
    boxes: List[Box] = field(default_factory=list)  # every slab of the dataset
    direct: bool = False  # copied as undecoded chunks (boxes then hold one chunk batch each)
    batches: List[tuple] = field(default_factory=list)  # direct: chunk indices per batch
    remaining: int = 0  # slabs still to write
    started: bool = False

    @property
    def total_chunks(self) -> int:
        if not self.plan.shape:
            return 1 if self.plan.shape == () else 0
        return math.prod(math.ceil(n / c) for n, c in zip(self.plan.shape, self.grid)) if all(self.plan.shape) else 0

    def intact(self, index) -> bool:
        size = self.present.get(index)
        if size is None or size <= 0:
            return False
        return self.expected_size is None or size == self.expected_size


def storage_grid(dst_loc: Location, dst: h5py.File, p: DatasetPlan) -> Tuple[int, ...]:
    """The chunk shape the destination really stores (for a store: its zarr.json, which also
    covers datasets the connector chunked by its rule; for a native file: its chunks, or the rule
    for contiguous datasets, whose slabs then just follow it)."""
    if not p.shape:
        return ()
    if not dst_loc.native:
        raw = _core.store_get(dst_loc.url, p.path.strip("/") + "/zarr.json")
        if raw is not None:
            try:
                meta = json.loads(raw)
                return tuple(meta["chunk_grid"]["configuration"]["chunk_shape"])
            except (ValueError, KeyError, TypeError):
                pass
    chunks = dst[p.path].chunks
    return tuple(chunks) if chunks else auto_chunks(p.shape, p.dtype.itemsize)


def stored_chunks(dst_loc: Location, dst: h5py.File, state: DatasetState) -> Dict[Tuple[int, ...], int]:
    """Chunk index -> stored bytes of every chunk the destination holds for this dataset."""
    p = state.plan
    out: Dict[Tuple[int, ...], int] = {}
    if not dst_loc.native:
        for key, size in _core.store_list(dst_loc.url, p.path.strip("/")):
            try:
                out[parse_chunk_key(key)] = size
            except ValueError:
                continue  # zarr.json, or a child's keys (groups only; datasets have none)
        return out
    dsid = dst[p.path].id
    if dst[p.path].chunks is None:
        return out  # contiguous native destination: rewritten whole on resume
    for i in range(dsid.get_num_chunks()):
        info = dsid.get_chunk_info(i)
        out[tuple(o // c for o, c in zip(info.chunk_offset, state.grid))] = info.size
    return out


def source_chunks(dset: h5py.Dataset, grid) -> List[Tuple[Tuple[int, ...], int]]:
    """(grid index, stored bytes) of every chunk the source has stored (allocated)."""
    dsid = dset.id
    out = []
    for i in range(dsid.get_num_chunks()):
        info = dsid.get_chunk_info(i)
        out.append((tuple(o // c for o, c in zip(info.chunk_offset, grid)), info.size))
    return out


def raw_batches(chunks: List[Tuple[Tuple[int, ...], int]], budget: int) -> List[tuple]:
    """Chunk indices in grid order, cut into batches whose stored bytes fit one read-ahead buffer
    of ``budget`` bytes: each chunk counts 1.25x its stored size plus 4 KiB (room for a source
    whose ``read_direct_chunk`` form is larger than what it stores, e.g. a store's gzip framing
    vs HDF5's zlib). Batching by stored rather than logical bytes puts ~2-3x more compressed
    chunks in each ``write_chunks`` call, so its PUT pipeline drains less often."""
    batches, batch, used = [], [], 0.0
    for index, size in sorted(chunks):
        cost = size * 1.25 + 4096
        if batch and used + cost > budget:
            batches.append(tuple(batch))
            batch, used = [], 0.0
        batch.append(index)
        used += cost
    if batch:
        batches.append(tuple(batch))
    return batches


def _write_missing(dset: h5py.Dataset, arr: np.ndarray, box: Box, missing, grid) -> None:
    """One H5Dwrite of the union of the ``missing`` chunks' boxes of a slab."""
    fspace = dset.id.get_space()
    fspace.select_none()
    mspace = h5s.create_simple(arr.shape)
    mspace.select_none()
    for index in missing:
        cb = chunk_box(index, grid, dset.shape)
        count = box_shape(cb)
        fspace.select_hyperslab(tuple(a for a, _ in cb), count, op=h5s.SELECT_OR)
        mspace.select_hyperslab(tuple(a - o for (a, _), (o, _) in zip(cb, box)), count, op=h5s.SELECT_OR)
    dset.id.write(mspace, fspace, arr)


def _nbytes(box: Box, itemsize: int) -> int:
    return math.prod(box_shape(box)) * itemsize


def _chunk_bytes(st: "DatasetState", index) -> int:
    """Logical bytes of one chunk (clipped to the extent)."""
    return _nbytes(chunk_box(index, st.grid, st.plan.shape), st.plan.dtype.itemsize)


class ChunkCopier:
    """Copies the values of ``states`` from ``src`` to ``dst``; stops between slabs when
    ``interrupted()`` becomes true."""

    def __init__(self, src_loc: Location, src: h5py.File, dst_loc: Location, dst: h5py.File,
                 budget: int, read_ahead: bool, resume: bool, interrupted: Callable[[], bool],
                 raw_chunks: bool = True) -> None:
        self.src_loc, self.src, self.dst_loc, self.dst = src_loc, src, dst_loc, dst
        self.budget = budget
        self.read_ahead = read_ahead
        self.resume = resume
        self.interrupted = interrupted
        self.raw_chunks = raw_chunks
        self._reader: Optional[ProcessReader] = None

    def _needs_process(self, fixed_bytes: int) -> bool:
        return self.read_ahead and fixed_bytes > 2 * self.budget

    def start_reader(self, plans: List[DatasetPlan]) -> None:
        """Start the reader process now if the copy will use one (see :meth:`copy`)."""
        if self._needs_process(sum(p.nbytes for p in plans if p.shape and p.fixed_size)):
            self._reader = ProcessReader(self.src_loc.kind, self.src_loc.url)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def prepare(self, plans: List[DatasetPlan]) -> List[DatasetState]:
        states = []
        for p in plans:
            st = DatasetState(plan=p, grid=storage_grid(self.dst_loc, self.dst, p))
            if p.shape and p.fixed_size and not p.compressed:
                st.expected_size = math.prod(st.grid) * p.dtype.itemsize
            if self.resume and p.shape:
                st.present = stored_chunks(self.dst_loc, self.dst, st)
            st.direct = self._direct(st)
            if st.direct:
                st.batches = raw_batches(source_chunks(self.src[p.path], st.grid), self.budget)
                st.remaining = len(st.batches)
            else:
                st.boxes = list(slabs(p.shape, st.grid, p.dtype.itemsize, self.budget)) if p.shape else []
                st.remaining = len(st.boxes) if p.shape else (1 if p.shape == () else 0)
            states.append(st)
        return states

    def _direct(self, st: DatasetState) -> bool:
        p = st.plan
        return (self.raw_chunks and (bool(p.pipeline) or self.src_loc.native) and not p.filters
                and p.fixed_size
                and bool(p.shape) and p.layout == "chunked" and p.src_chunks is not None
                and tuple(p.src_chunks) == tuple(st.grid)
                and (p.chunks is None or tuple(p.chunks) == tuple(st.grid)))

    def _tasks(self, states: List[DatasetState], progress: Progress) -> Iterator[tuple]:
        """Slabs (or raw chunk batches) still to copy. Runs ahead of the writes (read-ahead), so
        it counts only what it skips; the write loop labels and counts what it writes."""
        for st in states:
            p = st.plan
            if st.direct:
                stored_bytes = sum(_chunk_bytes(st, i) for b in st.batches for i in b)
                unstored = st.total_chunks - sum(len(b) for b in st.batches)
                if unstored:  # never stored in the source: fill value on both sides, and on a
                    # --resume nothing to write, as for a chunk already stored
                    progress.advance(p.nbytes - stored_bytes, unstored,
                                     skipped=unstored if self.resume else 0)
                for batch in st.batches:
                    missing = tuple(i for i in batch if not st.intact(i))
                    if not missing:
                        st.remaining -= 1
                        progress.advance(sum(_chunk_bytes(st, i) for i in batch), len(batch),
                                         skipped=len(batch))
                        continue
                    offsets = tuple(tuple(i * c for i, c in zip(idx, st.grid)) for idx in missing)
                    yield p.path, RawChunks(offsets), (st, batch, missing)
                continue
            for box in st.boxes:
                index = chunks_in(box, st.grid)
                missing = [i for i in index if not st.intact(i)] if st.present else index
                if not missing:
                    st.remaining -= 1
                    progress.advance(_nbytes(box, p.dtype.itemsize), len(index), skipped=len(index))
                    continue
                yield p.path, box, (st, index, missing)

    def copy(self, states: List[DatasetState], progress: Progress) -> None:
        small = [s for s in states if not (s.plan.shape and s.plan.fixed_size)]
        big = [s for s in states if s.plan.shape and s.plan.fixed_size]
        for st in small:
            if self.interrupted():
                return
            self._copy_inline(st, progress)
        dtypes = {s.plan.path: s.plan.dtype for s in big}
        if self._needs_process(sum(s.plan.nbytes for s in big)):
            largest = max([_nbytes(b, s.plan.dtype.itemsize) for s in big for b in s.boxes[:1]]
                          + [self.budget for s in big if s.direct])
            reader = self._reader or ProcessReader(self.src_loc.kind, self.src_loc.url)
            self._reader = None
            reader.attach(max(largest, 1), slots=3)
            stream = reader.stream(self._tasks(big, progress), dtypes, inline=InlineReader(self.src))
        else:
            self.close()
            reader = InlineReader(self.src)
            stream = reader.stream(self._tasks(big, progress), dtypes)
        current = None
        try:
            for (path, box, (st, index, missing)), arr in stream:
                if self.interrupted():
                    return
                if path != current:
                    if current is not None:
                        progress.dataset_done()
                    current = path
                    progress.dataset(path)
                st.started = True
                dset = self.dst[path]
                if st.direct:
                    if self.dst_loc.native:
                        for off, mask, data in arr:
                            dset.id.write_direct_chunk(off, data, mask)
                    else:
                        arraymorph.write_chunks(dset, arr)
                    st.remaining -= 1
                    progress.advance(sum(_chunk_bytes(st, i) for i in index), len(index),
                                     skipped=len(index) - len(missing))
                    continue
                if len(missing) == len(index):
                    dset.write_direct(arr, dest_sel=to_slices(box))
                else:
                    _write_missing(dset, arr, box, missing, st.grid)
                st.remaining -= 1
                progress.advance(_nbytes(box, st.plan.dtype.itemsize), len(index),
                                 skipped=len(index) - len(missing))
            if current is not None:
                progress.dataset_done()
        finally:
            reader.close()

    def _copy_inline(self, st: DatasetState, progress: Progress) -> None:
        """Scalars, variable-length and reference data: through Python objects, slab by slab."""
        p = st.plan
        progress.dataset(p.path)
        s, d = self.src[p.path], self.dst[p.path]
        is_ref = h5py.check_ref_dtype(p.dtype) is not None
        if p.shape is None:
            return
        if p.shape == ():
            value = s[()]
            d[()] = translate_refs(value, self.src, self.dst) if is_ref else value
            st.remaining = 0
            progress.advance(p.dtype.itemsize, 1)
            return
        for box in st.boxes:
            if self.interrupted():
                return
            st.started = True
            index = chunks_in(box, st.grid)
            sel = to_slices(box)
            values = s[sel]
            d[sel] = translate_refs(values, self.src, self.dst) if is_ref else values
            st.remaining -= 1
            progress.advance(_nbytes(box, p.dtype.itemsize), len(index))
        progress.dataset_done()
