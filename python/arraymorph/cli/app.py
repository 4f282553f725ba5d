"""The ``arraymorph`` command line (typer on click). Commands are thin: they parse options, call
the module that does the work and print. Exit codes are in :mod:`errors`; a failure prints one
line ``arraymorph: error: ...`` unless ``--debug`` asks for the traceback."""

from __future__ import annotations

import contextlib
import json
import re
import sys
import traceback
from typing import List, Optional

import typer

try:  # typer >= 0.20 carries its own copy of click
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - older typer on click
    from click import ClickException

from . import errors
from .errors import CliError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Copy HDF5/netCDF-4 files into and out of object stores (S3, Azure Blob, local) "
                       "and inspect what is stored. See docs/cli.md.")
_state = {"debug": False}

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``"256MiB"``, ``"1G"``, ``"4096"`` -> bytes (binary units)."""
    m = _SIZE_RE.match(text)
    if not m:
        raise CliError(f"bad size '{text}' (e.g. 256MiB, 1GiB)", errors.USAGE)
    unit = (m.group(2) or "b")[0].lower()
    return int(float(m.group(1)) * {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[unit])


def _version(value: bool) -> None:
    if value:
        import arraymorph

        typer.echo(f"arraymorph {arraymorph.__version__}")
        raise typer.Exit()


@app.callback()
def _main(debug: bool = typer.Option(False, "--debug", help="Show tracebacks and connector debug logs."),
          version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    _state["debug"] = debug
    if debug:
        import arraymorph

        arraymorph.configure(log_level="debug")


@app.command()
def cp(src: str = typer.Argument(..., help="Source: a native .h5/.nc path or a store URL, optionally URL:/path."),
       dst: str = typer.Argument(..., help="Destination: a store URL or name, or a native .h5 path."),
       chunks: List[str] = typer.Option([], "--chunks", help="Chunk shape: SHAPE for every dataset of "
                                        "that rank, or /path=SHAPE (repeatable), e.g. 256,256."),
       rechunk: bool = typer.Option(False, "--rechunk", help="Rechunk every dataset with the rule "
                                    "(target --chunk-size per chunk)."),
       chunk_size: str = typer.Option("4MiB", "--chunk-size", help="Target chunk size for --rechunk."),
       compression: Optional[str] = typer.Option(None, "--compression",
                                                 help="keep (default), none, gzip[:0-9], zstd[:level]."),
       dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be copied; write nothing."),
       overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing destination."),
       resume: bool = typer.Option(False, "--resume", help="Complete an interrupted copy: write only "
                                   "chunks not already stored intact."),
       verify: bool = typer.Option(False, "--verify", help="Re-read both sides and compare checksums."),
       progress: Optional[str] = typer.Option(None, "--progress", help="auto (default), rich, plain "
                                              "or none. Env: ARRAYMORPH_PROGRESS."),
       memory: str = typer.Option("256MiB", "--memory", help="Bound for copy buffers (slabs in flight)."),
       read_ahead: bool = typer.Option(True, "--read-ahead/--no-read-ahead",
                                       help="Read the next slab in a helper process while writing."),
       raw_chunks: bool = typer.Option(True, "--raw-chunks/--decode",
                                       help="Where chunks and filters are kept, copy the stored chunk "
                                       "bytes undecoded (default) or decode and re-encode them."),
       strict: bool = typer.Option(False, "--strict", help="Fail when anything could not be copied "
                                   "exactly (filters replaced, links, scales, creation order)."),
       shard: Optional[str] = typer.Option(None, "--shard", help="Store the destination's chunked "
                                           "datasets in Zarr shards of N chunks per dimension "
                                           "(N, or one per dimension: 4,64).")) -> None:
    """Copy a file (or the subset SRC:/path) between native HDF5 and a store, or store to store."""
    from .copy import CopyOptions, copy
    from .locations import parse
    from .plan import parse_chunks_options, parse_compression
    from .progress import human_bytes

    src_loc = parse(src)
    if src_loc.native and not __import__("os").path.exists(src_loc.url):
        raise CliError(f"no such file: {src}", errors.NOT_FOUND)
    dst_loc = parse(dst, prefer="store" if src_loc.native else "native")
    if dst_loc.path != "/":
        raise CliError("the destination takes no :/path (the source's paths are kept)", errors.USAGE)
    by_path, by_rank = parse_chunks_options(chunks)
    budget = max(64 << 10, parse_size(memory) // 4)
    if shard is not None:
        if dst_loc.native:
            raise CliError("--shard needs a store as the destination (native HDF5 has no shards)", errors.USAGE)
        if resume:
            raise CliError("--shard cannot be combined with --resume", errors.USAGE)
        shard = shard.replace(",", "x")
        raw_chunks = False  # chunks go through H5Dwrite: the shard writer packs them
    opts = CopyOptions(overwrite=overwrite, resume=resume, dry_run=dry_run, verify=verify,
                       budget=budget, read_ahead=read_ahead, progress=progress, strict=strict,
                       raw_chunks=raw_chunks)
    import arraymorph

    with (arraymorph.shards(shard) if shard is not None else contextlib.nullcontext()):
        report = copy(src_loc, dst_loc, opts, chunks_by_path=by_path, chunks_by_rank=by_rank,
                      rechunk_bytes=parse_size(chunk_size) if rechunk else None,
                      compression=parse_compression(compression))
    for w in report.warnings:
        typer.echo(f"arraymorph: warning: {w}", err=True)
    if not dry_run:
        rate = report.bytes / report.seconds if report.seconds else 0.0
        skipped = f", {report.skipped_chunks} already stored" if report.skipped_chunks else ""
        typer.echo(f"copied {src_loc} -> {dst_loc}: {len(report.plan.datasets)} datasets, "
                   f"{human_bytes(report.bytes)}, {report.chunks} chunks{skipped} in {report.seconds:.1f} s "
                   f"({human_bytes(rate)}/s)" + (", verified" if verify else ""), err=True)


def _open_for_reading(url: str):
    from .locations import open_file, parse

    loc = parse(url)
    return loc, open_file(loc, "r")


@app.command("ls")
def ls(url: str = typer.Argument(..., help="A file (URL or .h5 path), optionally URL:/group."),
       recursive: bool = typer.Option(False, "-r", "--recursive", help="List the whole subtree."),
       long: bool = typer.Option(False, "-l", "--long", help="Add stored objects, bytes and compression ratio.")) -> None:
    """List groups, datasets and links (shape, dtype, chunks, codecs)."""
    from .listing import entries, format_entry, incomplete_note

    loc, f = _open_for_reading(url)
    with f:
        note = incomplete_note(f)
        if note:
            typer.echo(f"# {note}")
        for e in entries(f, loc, recursive, long):
            typer.echo(format_entry(e, long))


@app.command()
def tree(url: str = typer.Argument(..., help="A file (URL or .h5 path), optionally URL:/group.")) -> None:
    """Show the hierarchy as a tree."""
    from .listing import tree_lines

    loc, f = _open_for_reading(url)
    with f:
        for line in tree_lines(f, loc):
            typer.echo(line)


@app.command()
def info(url: str = typer.Argument(..., help="URL[:/path] of a file, group or dataset."),
         as_json: bool = typer.Option(False, "--json", help="Machine-readable JSON.")) -> None:
    """Everything about one dataset or group, attributes included."""
    from .listing import info as info_of

    loc, f = _open_for_reading(url)
    with f:
        data = info_of(f, loc)
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
        return
    for key, value in data.items():
        if key == "attributes":
            typer.echo("attributes:")
            for name, a in value.items():
                typer.echo(f"  {name} = {a.get('value', a.get('error'))!r}  ({a.get('dtype', '')})")
        elif key == "members":
            typer.echo("members:")
            for m in value:
                typer.echo(f"  {m['kind']:<8} {m['name']}" + (f" -> {m['target']}" if "target" in m else ""))
        else:
            typer.echo(f"{key}: {value}")


@app.command()
def du(url: str = typer.Argument(..., help="A file in a store (or a native .h5 path)."),
       datasets: bool = typer.Option(False, "--datasets", "-d", help="One line per dataset too.")) -> None:
    """Stored objects and bytes of a file."""
    import os

    from .listing import entries, store_usage
    from .progress import human_bytes

    loc, f = _open_for_reading(url)
    with f:
        dsets = [e for e in entries(f, loc, recursive=True, long=datasets) if e.kind == "dataset"]
        if datasets:
            for e in dsets:
                typer.echo(f"{e.stored:>14}  {e.objects:>8} objects  {human_bytes(e.stored):>10}  {e.path}")
    if loc.native:
        total_n, total_b = 1, os.path.getsize(loc.url)
    else:
        _, total_n, total_b = store_usage(loc, [])
    typer.echo(f"{total_b:>14}  {total_n:>8} objects  {human_bytes(total_b):>10}  {loc.url}")


@app.command()
def rm(url: str = typer.Argument(..., help="A file in a store."),
       yes: bool = typer.Option(False, "-y", "--yes", help="Do not ask for confirmation.")) -> None:
    """Delete every object of a file in a store."""
    from arraymorph import _core

    from .locations import exists, parse
    from .progress import human_bytes

    loc = parse(url)
    if loc.native:
        raise CliError(f"{loc.url} is a native file; delete it with your system's rm", errors.USAGE)
    if loc.path != "/":
        raise CliError("rm deletes whole files; to delete an object inside one use h5py", errors.USAGE)
    if not exists(loc):
        raise CliError(f"no such file: {loc.url}", errors.NOT_FOUND)
    listing = _core.store_list(loc.url)
    total = sum(size for _, size in listing)
    if not yes:
        if not sys.stdin.isatty():
            raise CliError(f"refusing to delete {len(listing)} objects of {loc.url} without "
                           f"confirmation; pass -y", errors.USAGE)
        typer.confirm(f"Delete {loc.url} ({len(listing)} objects, {human_bytes(total)})?", abort=True)
    n = _core.store_delete(loc.url, "", recursive=True)
    typer.echo(f"deleted {n} objects ({human_bytes(total)}) of {loc.url}", err=True)


@app.command()
def doctor(url: Optional[str] = typer.Argument(None, help="Store to check (default: the configured one), "
                                                "e.g. s3://bucket or az://container/dir.")) -> None:
    """Check versions, libraries, configuration (secrets masked) and the store round trip."""
    from . import doctor as doctor_mod

    code = doctor_mod.run(url)
    if code:
        raise typer.Exit(code)


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the ``arraymorph`` console script and ``python -m arraymorph``."""
    command = typer.main.get_command(app)
    try:
        # Without standalone mode click returns the code of an Exit raised by a command.
        rv = command.main(args=argv, prog_name="arraymorph", standalone_mode=False)
        return rv if isinstance(rv, int) else errors.OK
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("arraymorph: aborted", err=True)
        return errors.FAILED
    except ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        typer.echo("arraymorph: interrupted", err=True)
        return errors.INTERRUPTED
    except BaseException as exc:  # noqa: BLE001 - turned into one line + exit code
        if isinstance(exc, SystemExit):
            return int(exc.code or 0)
        err = errors.classify(exc)
        if _state["debug"]:
            traceback.print_exc()
        typer.echo(f"arraymorph: error: {err}", err=True)
        return err.code
