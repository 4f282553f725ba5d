"""Copy dataset values slab by slab (see :mod:`slabs`), reading ahead in another process (see
:mod:`reader`) while the current slab is written with one H5Dwrite; skip chunks the destination
already holds intact (``--resume``).

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

from arraymorph import _core

from .locations import Location
from .plan import DatasetPlan, auto_chunks
from .progress import Progress
from .reader import InlineReader, ProcessReader
from .slabs import Box, box_shape, chunk_box, chunks_in, parse_chunk_key, slabs, to_slices
from .structure import translate_refs


@dataclass
class DatasetState:
    plan: DatasetPlan
    grid: Tuple[int, ...]  # destination chunk shape (storage grid), () for scalars
    present: Dict[Tuple[int, ...], int] = field(default_factory=dict)  # chunk index -> stored size
    expected_size: Optional[int] = None  # exact stored size of an intact chunk, when known
    boxes: List[Box] = field(default_factory=list)  # every slab of the dataset
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


class ChunkCopier:
    """Copies the values of ``states`` from ``src`` to ``dst``; stops between slabs when
    ``interrupted()`` becomes true."""

    def __init__(self, src_loc: Location, src: h5py.File, dst_loc: Location, dst: h5py.File,
                 budget: int, read_ahead: bool, resume: bool, interrupted: Callable[[], bool]) -> None:
        self.src_loc, self.src, self.dst_loc, self.dst = src_loc, src, dst_loc, dst
        self.budget = budget
        self.read_ahead = read_ahead
        self.resume = resume
        self.interrupted = interrupted

    def prepare(self, plans: List[DatasetPlan]) -> List[DatasetState]:
        states = []
        for p in plans:
            st = DatasetState(plan=p, grid=storage_grid(self.dst_loc, self.dst, p))
            if p.shape and p.fixed_size and not p.compressed:
                st.expected_size = math.prod(st.grid) * p.dtype.itemsize
            if self.resume and p.shape:
                st.present = stored_chunks(self.dst_loc, self.dst, st)
            st.boxes = list(slabs(p.shape, st.grid, p.dtype.itemsize, self.budget)) if p.shape else []
            st.remaining = len(st.boxes) if p.shape else (1 if p.shape == () else 0)
            states.append(st)
        return states

    def _tasks(self, states: List[DatasetState], progress: Progress) -> Iterator[tuple]:
        for st in states:
            p = st.plan
            progress.dataset(p.path)
            for box in st.boxes:
                index = chunks_in(box, st.grid)
                missing = [i for i in index if not st.intact(i)] if st.present else index
                if not missing:
                    st.remaining -= 1
                    progress.advance(_nbytes(box, p.dtype.itemsize), len(index), skipped=len(index))
                    continue
                yield p.path, box, (st, index, missing)
            progress.dataset_done()

    def copy(self, states: List[DatasetState], progress: Progress) -> None:
        small = [s for s in states if not (s.plan.shape and s.plan.fixed_size)]
        big = [s for s in states if s.plan.shape and s.plan.fixed_size]
        for st in small:
            if self.interrupted():
                return
            self._copy_inline(st, progress)
        big_bytes = sum(s.plan.nbytes for s in big)
        use_process = self.read_ahead and big_bytes > 2 * self.budget
        if use_process:
            largest = max(_nbytes(b, s.plan.dtype.itemsize) for s in big for b in s.boxes[:1])
            reader = ProcessReader(self.src_loc.kind, self.src_loc.url, max(largest, 1), slots=3)
        else:
            reader = InlineReader(self.src)
        dtypes = {s.plan.path: s.plan.dtype for s in big}
        try:
            for (path, box, (st, index, missing)), arr in reader.stream(self._tasks(big, progress), dtypes):
                if self.interrupted():
                    return
                st.started = True
                dset = self.dst[path]
                if len(missing) == len(index):
                    dset.write_direct(arr, dest_sel=to_slices(box))
                else:
                    _write_missing(dset, arr, box, missing, st.grid)
                st.remaining -= 1
                progress.advance(_nbytes(box, st.plan.dtype.itemsize), len(index),
                                 skipped=len(index) - len(missing))
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
