"""The ``arraymorph`` command (docs/cli.md): ``cp``, ``ls``, ``tree``, ``info``, ``du``, ``rm``,
``doctor``. One module per job: locations (URLs and opening), plan (what a copy creates),
structure (groups/datasets/links/attributes), slabs + chunk_copy + reader (values), progress,
verify, listing, doctor; app holds the command definitions."""

from __future__ import annotations

from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> None:
    """Run the command line and exit with its status."""
    import sys

    from .app import main as run

    sys.exit(run(argv))
