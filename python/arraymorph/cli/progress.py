"""Copy progress: a rich progress bar on a terminal, plain lines otherwise, or nothing.

Mode: ``--progress auto|rich|plain|none`` (env ``ARRAYMORPH_PROGRESS``); auto is rich when stderr
is a terminal and plain otherwise. Plain mode prints at most one line per ``interval`` seconds
plus one at the end of each dataset, e.g.::

    progress: 48.0 MiB / 96.0 MiB (50%), 12/24 chunks, 35.2 MiB/s, ETA 1s, /data/x

Everything goes to stderr, so stdout stays clean for ``--dry-run`` plans and ``--json``.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Optional


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def resolve_mode(mode: Optional[str]) -> str:
    mode = (mode or os.environ.get("ARRAYMORPH_PROGRESS") or "auto").lower()
    if mode not in ("auto", "rich", "plain", "none"):
        from .errors import USAGE, CliError

        raise CliError(f"--progress must be auto, rich, plain or none (got '{mode}')", USAGE)
    if mode == "auto":
        return "rich" if sys.stderr.isatty() else "plain"
    return mode


class Progress:
    """Counts bytes and chunks done out of a total; thread-compatible (one writer thread)."""

    def __init__(self, total_bytes: int, total_chunks: int, mode: str = "auto", interval: float = 1.0) -> None:
        self.mode = resolve_mode(mode)
        self.total_bytes = total_bytes
        self.total_chunks = total_chunks
        self.bytes = 0
        self.chunks = 0
        self.skipped_chunks = 0
        self.interval = interval
        self.start = time.monotonic()
        self._last_line = 0.0
        self._label = ""
        self._rich = None
        if self.mode == "rich":
            from rich.console import Console
            from rich.progress import (BarColumn, DownloadColumn, Progress as RichProgress,
                                       TextColumn, TimeRemainingColumn, TransferSpeedColumn)

            console = Console(stderr=True, force_terminal=True)
            self._rich = RichProgress(
                TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(binary_units=True),
                TextColumn("{task.fields[chunks]} chunks"), TransferSpeedColumn(),
                TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=False)
            self._task = self._rich.add_task("copy", total=max(1, total_bytes),
                                             chunks=f"0/{total_chunks}")
            self._rich.start()

    def dataset(self, path: str) -> None:
        self._label = path
        if self._rich is not None:
            self._rich.update(self._task, description=path)

    def advance(self, nbytes: int, nchunks: int, skipped: int = 0) -> None:
        self.bytes += nbytes
        self.chunks += nchunks
        self.skipped_chunks += skipped
        if self._rich is not None:
            self._rich.update(self._task, completed=self.bytes, chunks=f"{self.chunks}/{self.total_chunks}")
        elif self.mode == "plain":
            now = time.monotonic()
            if now - self._last_line >= self.interval:
                self._line(now)

    def dataset_done(self) -> None:
        if self.mode == "plain":
            self._line(time.monotonic())

    def rate(self) -> float:
        return self.bytes / max(1e-9, time.monotonic() - self.start)

    def _line(self, now: float) -> None:
        self._last_line = now
        rate = self.rate()
        pct = 100.0 * self.bytes / self.total_bytes if self.total_bytes else 100.0
        eta = (self.total_bytes - self.bytes) / rate if rate > 0 else float("inf")
        eta_text = f"{eta:.0f}s" if eta != float("inf") else "?"
        print(f"progress: {human_bytes(self.bytes)} / {human_bytes(self.total_bytes)} ({pct:.0f}%), "
              f"{self.chunks}/{self.total_chunks} chunks, {human_bytes(rate)}/s, ETA {eta_text}, "
              f"{self._label}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
            self._rich = None
