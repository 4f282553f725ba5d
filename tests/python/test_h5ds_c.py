"""HDF5_HL's dimension-scale API (H5DS*) from a C program through arraymorph on every backend,
compared with the same program on a native file (docs/format.md, "Dimension scales and
dimension_names"; docs/compatibility.md, "H5DS* from C").

tests/python/c_programs/h5ds_scales.c makes scales, attaches, labels, iterates, detaches and
checks what H5DS refuses. Through a non-native connector HDF5_HL uses new-style references
(H5R_ref_t); arraymorph stores them as the object references h5py's dimension scales write, so
the stored form is the same as the Python path's, and h5py reads the C program's file as it
reads the native one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

from native_files import native_file

ROOT = Path(__file__).resolve().parents[2]
SOURCE = Path(__file__).resolve().parent / "c_programs" / "h5ds_scales.c"


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> Path:
    hdf5 = os.environ.get("HDF5_DIR")
    assert hdf5, "needs HDF5_DIR (source ~/.cache/arraymorph/env.sh)"
    parallel = "H5_HAVE_PARALLEL 1" in (Path(hdf5) / "include" / "H5pubconf.h").read_text()
    cc = shutil.which("mpicc") if parallel else (shutil.which("cc") or shutil.which("gcc"))
    assert cc, "needs a C compiler (mpicc for a parallel HDF5)"
    exe = tmp_path_factory.mktemp("h5ds-c") / "h5ds_scales"
    cmd = [cc, "-std=c99", "-Wall", "-Werror", "-O1", str(SOURCE), "-o", str(exe), f"-I{hdf5}/include",
           f"-L{hdf5}/lib", "-lhdf5_hl", "-lhdf5", f"-Wl,-rpath,{hdf5}/lib"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return exe


def _run(program, path, mode, native=False, stderr=False):
    env = dict(os.environ)
    if native:
        env.pop("HDF5_VOL_CONNECTOR", None)
    proc = subprocess.run([str(program), str(path), mode], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return (proc.stdout, proc.stderr) if stderr else proc.stdout


def _h5py_view(f):
    """What h5py (and so h5netcdf) reads of the C program's scales."""
    v, w, x, y = f["v"], f["w"], f["x"], f["y"]
    return {
        "labels": [v.dims[i].label for i in range(2)],
        "v_scales": [[s.name for s in v.dims[i].values()] for i in range(2)],
        "w_scales": [[s.name for s in w.dims[i].values()] for i in range(2)],
        "is_scale": [x.is_scale, y.is_scale, v.is_scale, w.is_scale],
        "DIMENSION_LIST": [[f[r].name for r in row] for row in v.attrs["DIMENSION_LIST"]],
        "REFERENCE_LIST": {n: sorted((f[r].name, int(i)) for r, i in f[n].attrs["REFERENCE_LIST"]) for n in "xy"},
        "CLASS": (x.attrs["CLASS"], y.attrs["CLASS"]), "NAME": (x.attrs["NAME"], y.attrs["NAME"]),
        "types": (v.attrs["DIMENSION_LIST"].dtype.kind, x.attrs["REFERENCE_LIST"].dtype.names,
                  h5py.check_dtype(ref=h5py.check_dtype(vlen=v.attrs["DIMENSION_LIST"].dtype))),
        "values": {n: f[n][...].tolist() for n in "vwxy"},
    }


def _python_path(f):
    """The C program's write mode through h5py's dimension-scale API."""
    x = f.create_dataset("x", data=np.arange(4.0))
    y = f.create_dataset("y", data=np.arange(10.0, 13.0))
    v = f.create_dataset("v", data=np.arange(12.0).reshape(3, 4))
    w = f.create_dataset("w", data=np.arange(100.0, 108.0).reshape(2, 4))
    x.make_scale("x")
    y.make_scale("")
    v.dims[0].attach_scale(y)
    v.dims[1].attach_scale(x)
    w.dims[1].attach_scale(x)
    v.dims[0].label = "rows"
    v.dims[1].detach_scale(x)


def _stored(backend, name):
    """zarr.json of v, w, x, y with object ids replaced by the objects' names."""
    meta = {n: json.loads(backend.read_key(f"{name}/{n}/zarr.json")) for n in "vwxy"}
    names = {m["attributes"]["_hdf5"]["id"]: n for n, m in meta.items()}
    text = json.dumps(meta, sort_keys=True)
    for oid, n in names.items():
        text = text.replace(oid, "<" + n + ">")
    return json.loads(text)


@pytest.mark.source_build  # compiles a C program against $HDF5_DIR
def test_h5ds_from_c_matches_native(program, backend, tmp_path):
    native = tmp_path / "native.h5"
    want = [_run(program, native, mode, native=True) for mode in ("write", "read", "bad")]
    url = backend.url("c_scales.h5")
    got = [_run(program, url, mode) for mode in ("write", "read", "bad")]
    assert got == want
    assert "attached v dim 1: 1 scale(s) [/x ] label ''" in got[0]  # the comparison is not vacuous
    assert got[2].strip() == ("refused: scale with scales=1 own scale=1 bad dim=1 detach unattached=1 "
                              "set_scale on a dataset with scales=1")
    with native_file(native) as f:
        want_view = _h5py_view(f)
    with h5py.File(url, "r") as f:
        assert _h5py_view(f) == want_view
    # The same stored form as h5py's dimension scales write (and dimension_names kept in step).
    with h5py.File(backend.url("py_scales.h5"), "w") as f:
        _python_path(f)
    c_form, py_form = _stored(backend, "c_scales.h5"), _stored(backend, "py_scales.h5")
    assert c_form == py_form
    assert [c_form[n]["dimension_names"] for n in "vwxy"] == [["y", None], [None, "x"], ["x"], ["y"]]
    assert c_form["v"]["attributes"]["DIMENSION_LIST"] == [["<y>"], []]
    assert c_form["x"]["attributes"]["REFERENCE_LIST"] == [{"dataset": "<w>", "dimension": 1}]


@pytest.mark.source_build  # compiles a C program against $HDF5_DIR
def test_new_style_references_in_attributes_from_c(program, backend, tmp_path):
    """H5Rcreate_object references in a plain attribute: written, read back and opened as on a
    native file, stored as the old-style reference (the object's id); region references refused,
    naming why (a native file stores them)."""
    native = tmp_path / "native.h5"
    url = backend.url("c_refs.h5")
    for path, is_native in ((native, True), (url, False)):
        _run(program, path, "write", native=is_native)
    want = _run(program, native, "refs", native=True)
    assert want.strip() == "refs: type is H5T_STD_REF=1 /x (type 0) / (type 0)"
    assert _run(program, url, "refs") == want
    root = json.loads(backend.read_key("c_refs.h5/zarr.json"))
    x_id = json.loads(backend.read_key("c_refs.h5/x/zarr.json"))["attributes"]["_hdf5"]["id"]
    assert root["attributes"]["refs"] == [x_id, root["attributes"]["_hdf5"]["id"]]
    with h5py.File(url, "r") as f:  # h5py reads them as its own object references
        assert [f[r].name for r in f.attrs["refs"]] == ["/x", "/"]
    assert _run(program, native, "region", native=True).strip() == "region attribute: written"
    out, err = _run(program, url, "region", stderr=True)
    assert out == "" and "not supported by arraymorph: new-style region and attribute references" in err


def test_h5ds_through_ctypes_in_python(backend):
    """H5DS* called from C inside a Python process that also uses h5py (as netCDF-C does under
    netCDF4-python): the C calls see new-style references, h5py old-style ones."""
    import ctypes
    import re

    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "libhdf5" in line})
    hl = [p for p in paths if re.fullmatch(r"libhdf5(_[a-z]+)?_hl(-[0-9a-f]+)?\.so(\.[0-9.]+)?", os.path.basename(p))]
    lib = ctypes.CDLL(hl[0]) if hl else ctypes.CDLL("libhdf5_hl.so")
    with h5py.File(backend.url("ctypes.h5"), "w") as f:
        x = f.create_dataset("x", data=np.arange(4.0))
        z = f.create_dataset("z", data=np.arange(3.0))
        v = f.create_dataset("v", data=np.zeros((3, 4)))
        xi, zi, vi = (ctypes.c_int64(d.id.id) for d in (x, z, v))
        assert lib.H5DSset_scale(xi, b"xdim") >= 0
        assert lib.H5DSattach_scale(vi, xi, 1) >= 0
        v.dims[0].attach_scale(z)             # h5py, between two C calls on the same attribute
        assert lib.H5DSattach_scale(vi, xi, 0) >= 0
        assert lib.H5DSget_num_scales(vi, 0) == 2 and lib.H5DSget_num_scales(vi, 1) == 1
        assert lib.H5DSis_attached(vi, xi, 1) == 1
        assert [[s.name for s in v.dims[i].values()] for i in range(2)] == [["/z", "/x"], ["/x"]]
        assert sorted((f[r].name, int(i)) for r, i in x.attrs["REFERENCE_LIST"]) == [("/v", 0), ("/v", 1)]
        assert lib.H5DSdetach_scale(vi, xi, 0) >= 0
        assert [[s.name for s in v.dims[i].values()] for i in range(2)] == [["/z"], ["/x"]]
    meta = json.loads(backend.read_key("ctypes.h5/v/zarr.json"))
    assert meta["dimension_names"] == ["z", "x"]


# ------------------------------------------------------------------ dimension_names kept in step
def _native_names(d):
    """dimension_names by the netCDF rule (docs/format.md) read through h5py's dims API."""
    out = []
    for i in range(d.ndim):
        scales = list(d.dims[i].values())
        if scales:
            out.append(scales[0].name.rsplit("/", 1)[-1])
        elif d.ndim == 1 and d.is_scale:
            out.append(d.name.rsplit("/", 1)[-1])
        else:
            out.append(d.dims[i].label or None)
    return out


def _steps(f):
    """Renames, moves, label changes and detaches; yields (step, {dataset: names}) after each."""
    x = f.create_dataset("x", data=np.arange(4.0))
    y = f.create_dataset("y", data=np.arange(3.0))
    v = f.create_dataset("v", data=np.zeros((3, 4)))
    w = f.create_dataset("w", data=np.zeros((3, 2)))
    x.make_scale("x")
    y.make_scale("y")
    v.dims[0].attach_scale(y)
    v.dims[1].attach_scale(x)
    w.dims[0].attach_scale(y)
    v.dims[0].label = "rows"

    def names(*paths):
        return {p: _native_names(f[p]) for p in paths}

    yield "attached", names("v", "w", "x", "y")
    f.move("x", "lon")                       # rename a scale
    yield "renamed", names("v", "w", "lon")
    f.create_group("g")
    f.move("y", "g/lat")                     # move a scale into a group
    yield "moved", names("v", "w", "g/lat")
    f.move("g", "grid")                      # move the group holding it
    yield "group moved", names("v", "w", "grid/lat")
    f.move("grid/lat", "grid/latitude")      # rename inside the moved group
    yield "renamed in group", names("v", "w", "grid/latitude")
    v.dims[0].label = "r2"                   # an attached scale still names the dimension
    yield "label under scale", names("v")
    v.dims[0].detach_scale(f["grid/latitude"])
    yield "detached: label", names("v", "w")
    v.dims[0].label = "r3"
    yield "label changed", names("v")
    v.dims[1].detach_scale(f["lon"])
    yield "detached: none", names("v")


def test_dimension_names_follow_renames_detach_and_labels(backend, tmp_path):
    with native_file(tmp_path / "n.h5", "w") as f:
        want = list(_steps(f))
    assert want[1][1]["v"] == ["y", "lon"] and want[-2][1]["v"] == ["r3", "lon"]  # not vacuous
    with h5py.File(backend.url("names.h5"), "w") as f:
        for (step, expected), (got_step, got_names) in zip(want, _steps(f)):
            assert got_names == expected, step  # h5py's view of the arraymorph file
            f.flush()
            stored = {p: json.loads(backend.read_key(f"names.h5/{p}/zarr.json"))["dimension_names"] for p in expected}
            assert stored == expected, step
        # Deleting a scale: the dimension it named falls back to its label (natively the
        # reference then dangles and h5py cannot iterate it, so no native comparison here).
        f["w"].dims[0].label = "wl"
        assert json.loads(backend.read_key("names.h5/w/zarr.json"))["dimension_names"] == ["latitude", None]
        del f["grid/latitude"]
        assert json.loads(backend.read_key("names.h5/w/zarr.json"))["dimension_names"] == ["wl", None]
    with h5py.File(backend.url("names.h5"), "r") as f:
        assert _native_names(f["v"]) == want[-1][1]["v"] == ["r3", None]
