"""``arraymorph cp``: copy a whole file (or a subset) between a native file and a store, or
between two stores.

Order of work: plan the source tree; create the destination's structure (groups, datasets, soft
links, dimension scales, attributes); copy the values (:mod:`chunk_copy`); optionally verify.
While a copy runs, the destination's root carries the attribute ``_arraymorph_cp_incomplete``
(JSON: source and the datasets not yet complete), so ``ls``/``info`` and ``cp --resume`` see an
unfinished copy; it is removed when every value is written.

Ctrl-C (SIGINT): the slab being written finishes, the marker is updated with the partial and the
not-started datasets, the file is closed (metadata complete: nothing half-listed) and the command
exits with 130 naming them. ``--resume`` then writes only the missing chunks.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import List, Optional

from . import verify as verify_mod
from .chunk_copy import ChunkCopier
from .errors import EXISTS, FAILED, INTERRUPTED, USAGE, CliError
from .locations import Location, exists, open_file
from .plan import Plan, build
from .progress import Progress, human_bytes
from .structure import create

MARKER = "_arraymorph_cp_incomplete"


@dataclass
class CopyOptions:
    overwrite: bool = False
    resume: bool = False
    dry_run: bool = False
    verify: bool = False
    budget: int = 64 << 20  # bytes per slab (one H5Dwrite); 3 slabs in flight at most
    read_ahead: bool = True
    progress: Optional[str] = None
    strict: bool = False
    raw_chunks: bool = True  # kept chunks + filters: copy stored chunk bytes undecoded


@dataclass
class CopyReport:
    plan: Plan
    bytes: int = 0
    chunks: int = 0
    skipped_chunks: int = 0
    seconds: float = 0.0
    warnings: List[str] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)


class _Interrupt:
    """SIGINT sets a flag checked between slabs; a second Ctrl-C stops at once."""

    def __init__(self) -> None:
        self.hit = False
        self._old = None

    def __enter__(self) -> "_Interrupt":
        self._old = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame) -> None:
        if self.hit:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        self.hit = True
        print("arraymorph: interrupted, finishing the current slab (Ctrl-C again to abort)",
              file=sys.stderr, flush=True)

    def __exit__(self, *exc) -> None:
        signal.signal(signal.SIGINT, self._old)

    def __call__(self) -> bool:
        return self.hit


def print_plan(plan: Plan, src: Location, dst: Location, out=None) -> None:
    out = out or sys.stdout
    print(f"copy {src} -> {dst}", file=out)
    for path, _ in plan.groups:
        print(f"  group    {path}", file=out)
    for d in plan.datasets:
        codecs = (", ".join(f"{k}={v}" for k, v in d.filters.items())
                  or ", ".join(name or str(code) for code, _, _, name in d.pipeline) or "no filters")
        chunks = "x".join(map(str, d.chunks)) if d.chunks else ("store rule" if not dst.native else "contiguous")
        print(f"  dataset  {d.path}  {d.shape} {d.dtype}  chunks {chunks}  {codecs}  "
              f"{human_bytes(d.nbytes)}", file=out)
    for path, target in plan.links:
        print(f"  link     {path} -> {target}", file=out)
    print(f"{len(plan.datasets)} datasets, {human_bytes(plan.nbytes)}", file=out)


def copy(src_loc: Location, dst_loc: Location, opts: CopyOptions, **plan_options) -> CopyReport:
    if opts.overwrite and opts.resume:
        raise CliError("--overwrite and --resume exclude each other", USAGE)
    if src_loc.native and dst_loc.native:
        raise CliError("both source and destination are native files; one side must be a store "
                       "URL (s3://, az://, file://) or a store name", USAGE)
    src = open_file(src_loc, "r")
    try:
        plan = build(src, src_loc.path, **plan_options)
        report = CopyReport(plan=plan, warnings=list(plan.warnings))
        if opts.dry_run:
            print_plan(plan, src_loc, dst_loc)
            return report
        dst_exists = exists(dst_loc)
        if dst_exists and not (opts.overwrite or opts.resume):
            raise CliError(f"destination exists: {dst_loc.url} (use --overwrite to replace it, or "
                           f"--resume to complete an interrupted copy)", EXISTS)
        mode = "r+" if (opts.resume and dst_exists) else "w"
        root_track = bool(plan.groups and plan.groups[0][1] and plan.root == "/")
        dst = open_file(dst_loc, mode, track_order=root_track)
        try:
            _run(src_loc, src, dst_loc, dst, plan, opts, report)
        finally:
            dst.close()
    finally:
        src.close()
    return report


def _run(src_loc, src, dst_loc, dst, plan: Plan, opts: CopyOptions, report: CopyReport) -> None:
    t0 = time.monotonic()
    with _Interrupt() as interrupted:
        dst.attrs[MARKER] = json.dumps({"source": str(src_loc), "state": "structure"})
        dst.flush()
        copier = ChunkCopier(src_loc, src, dst_loc, dst, opts.budget, opts.read_ahead, opts.resume,
                             interrupted, raw_chunks=opts.raw_chunks)
        copier.start_reader(plan.datasets)  # the reader starts while the structure is created
        try:
            ready = create(src, dst, plan, report.warnings, report.errors, interrupted)
            states = copier.prepare([d for d in plan.datasets if d.path in ready]) if not interrupted() else []
            progress = Progress(plan.nbytes, sum(s.total_chunks for s in states), opts.progress)
            try:
                if states:
                    dst.attrs[MARKER] = json.dumps({"source": str(src_loc), "state": "values",
                                                    "datasets": [s.plan.path for s in states]})
                    dst.flush()
                    copier.copy(states, progress)
            finally:
                progress.close()
                report.bytes, report.chunks = progress.bytes, progress.chunks
                report.skipped_chunks = progress.skipped_chunks
        finally:
            copier.close()
        if interrupted():
            partial = [s.plan.path for s in states if s.remaining and s.started]
            untouched = [s.plan.path for s in states if s.remaining and not s.started]
            if not states:
                untouched = [d.path for d in plan.datasets]
            dst.attrs[MARKER] = json.dumps({"source": str(src_loc), "state": "interrupted",
                                            "partial": partial, "not_started": untouched})
            dst.close()
            raise CliError(
                f"interrupted; {dst_loc} is consistent but incomplete: partial datasets: "
                f"{', '.join(partial) or 'none'}; not started: {', '.join(untouched) or 'none'}; "
                f"run the same command with --resume to finish", INTERRUPTED)
        del dst.attrs[MARKER]
        dst.flush()
    report.seconds = time.monotonic() - t0
    if opts.verify:
        mismatches = verify_mod.compare(src, dst, plan, opts.budget)
        if mismatches:
            raise CliError("verify failed: " + "; ".join(mismatches[:10])
                           + (f" (and {len(mismatches) - 10} more)" if len(mismatches) > 10 else ""), FAILED)
    if report.errors or (opts.strict and report.warnings):
        raise CliError("not copied: " + "; ".join(report.errors + (report.warnings if opts.strict else [])),
                       FAILED)
