"""MPI collective chunk I/O: ``arraymorph.collective(comm)`` (docs/design.md)."""

from __future__ import annotations

from typing import Any

import h5py

from . import _core

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
        from . import open as open_file  # the package's open (defined after this module loads)

        return open_file(url, mode, **settings)

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
