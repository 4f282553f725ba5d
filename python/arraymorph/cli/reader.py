"""Read-ahead of source slabs, overlapped with writing the previous slab.

HDF5 calls are serialised in one process (h5py's lock, and HDF5's own), so a reader *thread*
could not read the native file while the main thread's H5Dwrite runs. :class:`ProcessReader`
therefore reads in a child process (``spawn``, so no HDF5 state is forked) into a ring of
``slots`` buffers of ``slot_bytes`` in one memory-mapped file (in /dev/shm when there is one); the
main process writes from those buffers without copying. Peak memory is ``slots * slot_bytes``
whatever the file size. :class:`InlineReader` reads in the calling process (small copies,
variable-length data, or ``--no-read-ahead``). The child process is started before the
destination's structure is created (:meth:`ProcessReader.attach` sizes its ring later), so its
interpreter start and the source's open are not on the copy's critical path.

Both yield ``(task, payload)`` from :meth:`stream`; the payload is valid until the next item is
requested. Tasks are ``(dataset path, box, ...)`` with fixed-size element types only (payload:
the slab's array), or ``(dataset path, RawChunks(offsets), ...)`` (payload: ``[(offset,
filter_mask, bytes-like)]``, each chunk's stored bytes as ``read_direct_chunk`` returns them,
for copies that keep chunks and filters and so need no decoding and re-encoding).
"""

from __future__ import annotations

import collections
import mmap
import multiprocessing
import os
import signal
import tempfile
from typing import Iterable, Iterator, NamedTuple, Tuple

import numpy as np

from .slabs import box_shape, to_slices


READY = -2  # the child's first message once it can read (slot numbers are >= 0, -1 is an error)


class RawChunks(NamedTuple):
    """A batch of whole chunks (their first elements' offsets) to read undecoded."""

    offsets: tuple


def _read_raw(dset, offsets) -> list:
    return [(off, *dset.id.read_direct_chunk(off)) for off in offsets]


class InlineReader:
    def __init__(self, src) -> None:
        self.src = src

    def stream(self, tasks: Iterable[Tuple[str, tuple]], dtypes) -> Iterator[Tuple[tuple, np.ndarray]]:
        for task in tasks:
            path, box = task[0], task[1]
            if isinstance(box, RawChunks):
                yield task, _read_raw(self.src[path], box.offsets)
                continue
            arr = np.empty(box_shape(box), dtype=dtypes[path])
            self.src[path].read_direct(arr, source_sel=to_slices(box))
            yield task, arr

    def close(self) -> None:
        pass


def _child(kind: str, url: str, tasks, done) -> None:
    """Reader process: open the source (while the parent creates the destination's structure),
    then attach the ring named by the first message, read each task into its slot and report
    (slot, error, chunk layout)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    try:
        from .locations import Location, open_file

        src = open_file(Location(kind, url), "r")
        msg = tasks.get()
        if msg is None:
            return
        ring_path, slot_bytes = msg
        fd = os.open(ring_path, os.O_RDWR)
        ring = mmap.mmap(fd, 0)
        os.close(fd)
        ring_bytes = np.frombuffer(ring, dtype=np.uint8)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        done.put((-1, f"cannot open source {url}: {exc}", None))
        return
    done.put((READY, None, None))
    while True:
        msg = tasks.get()
        if msg is None:
            break
        slot, path, box = msg
        try:
            dset = src[path]
            if isinstance(box, RawChunks):
                meta, pos, end = [], slot * slot_bytes, (slot + 1) * slot_bytes
                for off in box.offsets:
                    # straight into the ring: no bytes object per chunk, no second copy
                    try:
                        mask, data = dset.id.read_direct_chunk(off, out=ring_bytes[pos:end])
                    except ValueError as exc:  # h5py: the chunk is larger than the space left
                        raise RuntimeError(f"chunk at {off} overflows the buffer ({exc})") from None
                    meta.append((off, mask, pos, data.nbytes))
                    pos += data.nbytes
                    del data
                done.put((slot, None, meta))
                continue
            shape = box_shape(box)
            arr = np.ndarray(shape, dtype=dset.dtype, buffer=ring, offset=slot * slot_bytes)
            dset.read_direct(arr, source_sel=to_slices(box))
            del arr
            done.put((slot, None, None))
        except BaseException as exc:  # noqa: BLE001
            done.put((slot, f"reading {path}: {type(exc).__name__}: {exc}", None))
    del ring_bytes
    src.close()


class ProcessReader:
    """Started as early as possible (the child's interpreter start and the source's open overlap
    the parent's work); :meth:`attach` then sizes the ring, before :meth:`stream`."""

    def __init__(self, kind: str, url: str) -> None:
        self.ready = False
        self.ring = None
        self.ring_path = None
        ctx = multiprocessing.get_context("spawn")
        self.tasks = ctx.Queue()
        self.done = ctx.Queue()
        self.proc = ctx.Process(target=_child, daemon=True, name="arraymorph-cp-reader",
                                args=(kind, url, self.tasks, self.done))
        self.proc.start()

    def attach(self, slot_bytes: int, slots: int = 3) -> "ProcessReader":
        self.slot_bytes = slot_bytes
        self.slots = slots
        shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
        fd, self.ring_path = tempfile.mkstemp(prefix="arraymorph-cp-", dir=shm)
        os.ftruncate(fd, slot_bytes * slots)
        self.ring = mmap.mmap(fd, slot_bytes * slots)
        os.close(fd)
        self.tasks.put((self.ring_path, slot_bytes))
        return self

    def _wait(self):
        while True:
            try:
                msg = self.done.get(timeout=1.0)
            except Exception:  # noqa: BLE001 - queue.Empty: check the child is alive
                if not self.proc.is_alive():
                    raise RuntimeError(f"the reader process died (exit code {self.proc.exitcode})")
                continue
            if msg[0] == READY:
                self.ready = True
                continue
            return msg

    def _poll_ready(self) -> bool:
        """Whether the child can read yet (without waiting); raises its start-up error."""
        while not self.ready:
            try:
                got, error, _ = self.done.get_nowait()
            except Exception:  # noqa: BLE001 - queue.Empty
                return False
            if error:
                raise RuntimeError(error)
            self.ready = got == READY
        return True

    def stream(self, tasks: Iterable[Tuple[str, tuple]], dtypes,
               inline: "InlineReader | None" = None) -> Iterator[Tuple[tuple, np.ndarray]]:
        """With ``inline``, tasks are read in this process until the child is ready (its
        interpreter start is not waited for)."""
        it = iter(tasks)
        if inline is not None:
            while not self._poll_ready():
                task = next(it, None)
                if task is None:
                    return
                yield from inline.stream([task], dtypes)
        free = list(range(self.slots))
        pending = collections.deque()

        def fill() -> None:
            while free:
                task = next(it, None)
                if task is None:
                    return
                slot = free.pop()
                self.tasks.put((slot, task[0], task[1]))
                pending.append((task, slot))

        fill()
        while pending:
            task, slot = pending.popleft()
            got, error, meta = self._wait()
            if error:
                raise RuntimeError(error)
            assert got == slot, "reader answered out of order"
            if meta is not None:
                view = memoryview(self.ring)
                yield task, [(off, mask, view[pos:pos + n]) for off, mask, pos, n in meta]
                del view
            else:
                arr = np.ndarray(box_shape(task[1]), dtype=dtypes[task[0]], buffer=self.ring,
                                 offset=slot * self.slot_bytes)
                yield task, arr
                del arr
            free.append(slot)
            fill()

    def close(self) -> None:
        try:
            self.tasks.put(None)
            self.proc.join(timeout=10)
        finally:
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join()
            if self.ring is not None:
                try:
                    self.ring.close()
                except BufferError:  # a view still exists (an exception unwinding): the GC frees it
                    pass
            if self.ring_path is not None:
                os.unlink(self.ring_path)
