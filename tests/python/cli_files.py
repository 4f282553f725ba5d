"""Helpers of the CLI tests: build a native HDF5 file exercising what `arraymorph cp` copies,
compare two files object by object, and run the command (in-process or as a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import List, Tuple

import h5py
import numpy as np
from h5py import h5d, h5p

from arraymorph.cli.app import main as cli_main
from arraymorph.cli.locations import Location, open_file
from h5py._hl import filters as h5filters

ENUM = h5py.enum_dtype({"RED": 0, "GREEN": 1, "BLUE": 7}, basetype="u1")
COMPOUND = np.dtype([("a", "<i4"), ("b", "<f8"), ("c", "S4"), ("v", "<f4", (2,))])
NUMERIC = ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16", ">i4", ">f8"]


def open_native(path, mode="r") -> h5py.File:
    """A native HDF5 file, whatever HDF5_VOL_CONNECTOR says (the tests route h5py to arraymorph)."""
    return open_file(Location("native", str(path)), mode)


def make_native(path, scale: int = 1) -> str:
    """A native file with nested groups, every dtype, gzip/shuffle, contiguous/compact layouts,
    fill values, attributes and soft links. ``scale`` multiplies the big dataset's rows."""
    rng = np.random.default_rng(7)
    with open_native(path, "w") as f:
        f.attrs["title"] = "cli test"
        f.attrs["version"] = np.int16(3)
        f.attrs["vector"] = np.arange(4, dtype="f4")
        f.attrs["raw_bytes"] = np.bytes_(b"abc")
        num = f.create_group("numeric")
        for code in NUMERIC:
            data = (np.arange(50) * 3 - 20).astype(code)
            num.create_dataset(code.replace(">", "be_"), data=data, chunks=(16,))
        num.create_dataset("bool", data=np.arange(10) % 3 == 0, chunks=(4,))
        deep = f.create_group("grp/sub/deeper")
        deep.attrs["note"] = "nested"
        gz = f.create_dataset("grp/sub/gz", data=rng.normal(size=(120 * scale, 90)), chunks=(32, 30),
                              compression="gzip", compression_opts=6, shuffle=True, fillvalue=-1.0)
        gz.attrs["units"] = "m/s"
        gz.attrs["scale"] = np.float64(0.5)
        f.create_dataset("grp/lzf", data=np.repeat(np.arange(300, dtype="i8"), 4), chunks=(100,),
                         compression="lzf", fletcher32=True)
        f.create_dataset("grp/raw", data=np.arange(3000, dtype="i4"))  # contiguous
        dcpl = h5p.create(h5p.DATASET_CREATE)
        dcpl.set_layout(h5d.COMPACT)
        space = h5py.h5s.create_simple((8,))
        h5d.create(f.id, b"grp/compact", h5py.h5t.NATIVE_INT16, space, dcpl=dcpl).write(
            h5py.h5s.ALL, h5py.h5s.ALL, np.arange(8, dtype="i2"))
        f.create_dataset("strings/fixed", data=np.array([b"ab", b"cdefgh", b""], dtype="S8"), chunks=(2,))
        f.create_dataset("strings/vlen", data=["alpha", "beta", "", "δέλτα"], dtype=h5py.string_dtype(),
                         chunks=(2,))
        f.create_dataset("compound", data=np.array([(1, 2.5, b"x", (1, 2)), (3, 4.5, b"yz", (3, 4))],
                                                   dtype=COMPOUND), chunks=(1,))
        f.create_dataset("enum", data=np.array([0, 7, 1, 1], "u1"), dtype=ENUM, chunks=(2,))
        f.create_dataset("scalar", data=np.float32(2.5))
        f.create_dataset("resizable", data=np.ones((20, 10), "u2"), maxshape=(None, 10), chunks=(16, 10))
        f.create_dataset("sparse", shape=(40, 40), dtype="f4", chunks=(10, 10), fillvalue=7.0)[:10, :10] = 1
        f["latest"] = h5py.SoftLink("/grp/sub/gz")
        f["grp/here"] = h5py.SoftLink("raw")
    return str(path)


def _filters(d: h5py.Dataset) -> dict:
    """Filter pipeline; shuffle's element size (a native-only detail) is left out."""
    pipeline = dict(h5filters.get_filters(d.id.get_create_plist()))
    if "shuffle" in pipeline:
        pipeline["shuffle"] = True
    return pipeline


def _values_equal(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.hasobject:
        return a.tolist() == b.tolist()
    return a.tobytes() == b.tobytes()


def _attrs(obj) -> dict:
    out = {}
    for name in obj.attrs:
        value = obj.attrs[name]
        out[name] = (str(obj.attrs.get_id(name).dtype), value if isinstance(value, h5py.Empty) else np.asarray(value))
    return out


def compare(a: h5py.File, b: h5py.File, root: str = "/", chunks: bool = True) -> List[str]:
    """Every difference between two files below ``root`` (values, dtypes, shapes, maxshape,
    chunking, filters, fill values, attributes, soft links); empty when equal."""
    diffs: List[str] = []

    def walk(ga, gb, path):
        if sorted(ga) != sorted(gb):
            diffs.append(f"{path}: members {sorted(ga)} != {sorted(gb)}")
        check_attrs(ga, gb, path)
        for name in ga:
            if name not in gb:
                continue
            p = f"{path.rstrip('/')}/{name}"
            la, lb = ga.get(name, getlink=True), gb.get(name, getlink=True)
            if isinstance(la, h5py.SoftLink):
                if not isinstance(lb, h5py.SoftLink) or la.path != lb.path:
                    diffs.append(f"{p}: soft link differs")
                continue
            oa, ob = ga[name], gb[name]
            if isinstance(oa, h5py.Group):
                walk(oa, ob, p) if isinstance(ob, h5py.Group) else diffs.append(f"{p}: not a group")
            else:
                dataset(oa, ob, p)

    def check_attrs(oa, ob, path):
        aa, ab = _attrs(oa), _attrs(ob)
        if sorted(aa) != sorted(ab):
            diffs.append(f"{path}: attributes {sorted(aa)} != {sorted(ab)}")
        for k in aa:
            if k in ab:
                (da, va), (db, vb) = aa[k], ab[k]
                same = da == db and (isinstance(va, h5py.Empty) == isinstance(vb, h5py.Empty)) and (
                    isinstance(va, h5py.Empty) or _values_equal(va, vb))
                if not same:
                    diffs.append(f"{path}: attribute {k} differs ({da} {va!r} vs {db} {vb!r})")

    def dataset(da, db, p):
        for what in ("shape", "dtype", "maxshape") + (("chunks",) if chunks else ()):
            if getattr(da, what) != getattr(db, what):
                diffs.append(f"{p}: {what} {getattr(da, what)} != {getattr(db, what)}")
        if chunks and _filters(da) != _filters(db):
            diffs.append(f"{p}: filters {_filters(da)} != {_filters(db)}")
        if da.shape is not None and not da.dtype.hasobject and not _values_equal(da.fillvalue, db.fillvalue):
            diffs.append(f"{p}: fillvalue {da.fillvalue} != {db.fillvalue}")
        if h5py.check_enum_dtype(da.dtype) != h5py.check_enum_dtype(db.dtype):
            diffs.append(f"{p}: enum mapping differs")
        check_attrs(da, db, p)
        if da.shape is None:
            if db.shape is not None:
                diffs.append(f"{p}: empty dataspace not kept")
            return
        if not _values_equal(da[()], db[()]):
            diffs.append(f"{p}: values differ")

    oa = a[root]
    if isinstance(oa, h5py.Group):
        walk(oa, b[root], root)
    else:
        dataset(oa, b[root], root)
    return diffs


def run_cli(*args: str, capsys=None) -> Tuple[int, str, str]:
    """The command in this process (fast); returns (exit code, stdout, stderr)."""
    code = cli_main(list(args))
    if capsys is not None:
        out = capsys.readouterr()
        return code, out.out, out.err
    return code, "", ""


def run_subprocess(*args: str, env=None, timeout=300) -> subprocess.CompletedProcess:
    """``python -m arraymorph ARGS`` in a child process (what a user's shell runs)."""
    return subprocess.run([sys.executable, "-m", "arraymorph", *args], capture_output=True, text=True,
                          env=env or dict(os.environ), timeout=timeout)
