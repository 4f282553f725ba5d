"""netCDF-4 through arraymorph: h5py dimension scales, h5netcdf and xarray on every backend, each
compared with the same code on a native HDF5 file (docs/format.md, "Dimension scales and
dimension_names"; docs/compatibility.md, "xarray and netCDF-4").

xarray reaches arraymorph through plain file names (``ds.to_netcdf("run/out.nc")``): the
``plain_names`` fixture points them at the test's store (ARRAYMORPH_LOCAL_ROOT, or STORAGE_PLATFORM
and BUCKET_NAME). The native round trip goes through an in-memory file (file-like objects always
use HDF5's native connector).
"""

from __future__ import annotations

import io
import json
import os

import h5py
import numpy as np
import pandas as pd
import pytest

from native_files import native_file

xr = pytest.importorskip("xarray")
h5netcdf = pytest.importorskip("h5netcdf")


@pytest.fixture
def plain_names(backend, monkeypatch, tmp_path):
    """Makes plain file names land in `backend`; yields the prefix to put before each name."""
    if backend.name == "local":
        monkeypatch.setenv("STORAGE_PLATFORM", "Local")
        monkeypatch.setenv("ARRAYMORPH_LOCAL_ROOT", str(backend.root))
        prefix = ""
    elif backend.name == "s3":
        monkeypatch.setenv("STORAGE_PLATFORM", "S3")
        monkeypatch.setenv("BUCKET_NAME", backend.bucket)
        prefix = backend.prefix + "/"
    else:
        monkeypatch.setenv("STORAGE_PLATFORM", "Azure")
        monkeypatch.setenv("BUCKET_NAME", backend.container)
        prefix = ""
    monkeypatch.chdir(tmp_path)
    yield prefix


# ------------------------------------------------------------------------------ h5py dims
def _scales(f):
    x = f.create_dataset("x", data=np.arange(4.0))
    x.make_scale("x")
    y = f.create_dataset("y", data=np.arange(3.0))
    y.make_scale()
    v = f.create_dataset("v", data=np.arange(12.0).reshape(3, 4))
    v.dims[0].attach_scale(y)
    v.dims[1].attach_scale(x)
    v.dims[0].label = "rows"
    w = f.create_dataset("w", data=np.zeros((2, 4)))
    w.dims[1].attach_scale(x)
    out = {
        "is_scale": [x.is_scale, y.is_scale, v.is_scale],
        "labels": [v.dims[i].label for i in range(2)],
        "n": [len(v.dims[i]) for i in range(2)],
        "scale_names": [[s.name for s in v.dims[i].values()] for i in range(2)],
        "keys": [list(v.dims[i].keys()) for i in range(2)],
        "attached": [h5py.h5ds.is_attached(v.id, x.id, 1), h5py.h5ds.is_attached(v.id, x.id, 0)],
        "DIMENSION_LIST": [[f[r].name for r in row] for row in v.attrs["DIMENSION_LIST"]],
        "REFERENCE_LIST": sorted((f[r].name, int(i)) for r, i in x.attrs["REFERENCE_LIST"]),
        "CLASS": x.attrs["CLASS"], "NAME": (x.attrs["NAME"], y.attrs["NAME"]),
        "types": (v.attrs["DIMENSION_LIST"].dtype.kind, x.attrs["REFERENCE_LIST"].dtype.names,
                  h5py.check_dtype(vlen=v.attrs["DIMENSION_LIST"].dtype) is None),
    }
    with pytest.raises(Exception):
        x.dims[0].attach_scale(v)  # a dataset with scales cannot be a scale
    v.dims[1].detach_scale(x)
    out["after_detach"] = (len(v.dims[1]), sorted(f[r].name for r, _ in x.attrs["REFERENCE_LIST"]))
    return out


def test_dimension_scales_match_native(backend, tmp_path):
    with native_file(tmp_path / "n.h5", "w") as f:
        want = _scales(f)
    url = backend.url("dims.h5")
    with h5py.File(url, "w") as f:
        assert _scales(f) == want
    with h5py.File(url, "r") as f:
        v = f["v"]
        assert [s.name for s in v.dims[0].values()] == ["/y"] and len(v.dims[1]) == 0
        assert v.dims[0].label == "rows" and f["x"].is_scale
    meta = {n: json.loads(backend.read_key(f"dims.h5/{n}/zarr.json")) for n in ("v", "w", "x")}
    assert meta["v"]["dimension_names"] == ["y", None]  # detached: null (no label on dim 1)
    assert meta["w"]["dimension_names"] == [None, "x"]
    assert meta["x"]["dimension_names"] == ["x"]        # a scale names its own dimension


def test_failed_attach_leaves_nothing_half_made(backend, monkeypatch):
    """An attach_scale whose second attribute write fails leaves both datasets as they were."""
    import arraymorph._h5py_dims  # noqa: F401

    with h5py.File(backend.url("half.h5"), "w") as f:
        x = f.create_dataset("x", data=np.arange(4.0))
        v = f.create_dataset("v", data=np.zeros((2, 4)))
        real_create = h5py.AttributeManager.create

        def failing_create(self, name, *args, **kwargs):
            if name == "DIMENSION_LIST":
                raise OSError("injected failure writing DIMENSION_LIST")
            return real_create(self, name, *args, **kwargs)

        monkeypatch.setattr(h5py.AttributeManager, "create", failing_create)
        with pytest.raises(OSError, match="injected"):
            v.dims[1].attach_scale(x)
        monkeypatch.undo()
        assert sorted(x.attrs) == [] and sorted(v.attrs) == []
        assert not x.is_scale and len(v.dims[1]) == 0
        v.dims[1].attach_scale(x)  # and it works afterwards
        assert [s.name for s in v.dims[1].values()] == ["/x"]


# ------------------------------------------------------------------------------ xarray
def _dataset(t0=0):
    time = pd.date_range("2000-01-01", periods=5, freq="D") + pd.Timedelta(days=t0)
    rng = np.random.default_rng(t0)
    ds = xr.Dataset(
        {
            "temp": (("time", "y", "x"), rng.normal(size=(5, 3, 4)).astype("f4"), {"units": "K", "long_name": "T"}),
            "count": (("y", "x"), np.arange(12, dtype="i4").reshape(3, 4)),
            "packed": (("time",), np.linspace(0, 1, 5)),
            "label": (("y",), np.array(["a", "bb", "ccc"], dtype=object)),
        },
        coords={"time": time, "y": [10.0, 20.0, 30.0], "x": np.arange(4, dtype="i8")},
        attrs={"title": "arraymorph test", "version": 3},
    )
    ds["temp"][0, 0, 0] = np.nan
    ds["temp"].encoding.update({"zlib": True, "complevel": 4, "chunksizes": (1, 3, 2), "_FillValue": -999.0})
    ds["packed"].encoding.update({"dtype": "int16", "scale_factor": 0.01, "_FillValue": -1})
    ds["time"].encoding.update({"units": "hours since 1999-12-31", "calendar": "standard"})
    return ds


ENCODING_KEYS = ("zlib", "complevel", "chunksizes", "_FillValue", "dtype", "scale_factor", "units", "calendar")


def _comparable(v):
    if isinstance(v, (list, tuple)):
        return tuple(v)
    if isinstance(v, (float, np.floating)) and np.isnan(v):
        return "NaN"
    return v


def _encodings(ds):
    return {name: {k: _comparable(v) for k, v in ds[name].encoding.items() if k in ENCODING_KEYS}
            for name in ds.variables}


def _native_round_trip(ds, **kw):
    data = ds.to_netcdf(engine="h5netcdf", unlimited_dims=["time"], **kw)
    return xr.open_dataset(io.BytesIO(bytes(data)), engine="h5netcdf").load()


def test_xarray_round_trip_matches_native(backend, plain_names):
    ds = _dataset()
    want = _native_round_trip(ds)
    name = plain_names + "run/out.nc"
    ds.to_netcdf(name, engine="h5netcdf", unlimited_dims=["time"])
    # `name` was relative: xarray made it absolute below the current directory, and arraymorph
    # mapped it back to the same key (docs/compatibility.md, file names from xarray).
    assert backend.read_key("run/out.nc/zarr.json") is not None  # keys relative to the backend
    with xr.open_dataset(name, engine="h5netcdf") as got:
        got.load()
        xr.testing.assert_identical(got, want)
        assert _encodings(got) == _encodings(want)
        assert got.encoding.get("unlimited_dims") == want.encoding.get("unlimited_dims") == {"time"}
    np.testing.assert_allclose(want["packed"], ds["packed"], atol=0.006)


def test_xarray_groups_and_append(backend, plain_names):
    ds = _dataset()
    sub = _dataset().drop_vars(["label"]).rename({"temp": "t2", "count": "n"})
    buf = io.BytesIO()
    ds.to_netcdf(buf, engine="h5netcdf")
    sub.to_netcdf(buf, engine="h5netcdf", group="inner/deep", mode="a")
    want = {g: xr.open_dataset(io.BytesIO(buf.getvalue()), engine="h5netcdf", group=g).load() for g in ("/", "inner/deep")}
    name = plain_names + "groups.nc"
    ds.to_netcdf(name, engine="h5netcdf")
    sub.to_netcdf(name, engine="h5netcdf", group="inner/deep", mode="a")
    for g, w in want.items():
        with xr.open_dataset(name, engine="h5netcdf", group=g) as got:
            xr.testing.assert_identical(got.load(), w)
    with xr.open_datatree(name, engine="h5netcdf") as tree:
        assert set(tree.groups) == {"/", "/inner", "/inner/deep"}
        xr.testing.assert_identical(tree["inner/deep"].to_dataset().load(), want["inner/deep"])


def test_open_mfdataset(backend, plain_names):
    parts = [_dataset(5 * i) for i in range(3)]
    names = []
    for i, p in enumerate(parts):
        names.append(plain_names + f"mf/part{i}.nc")
        p.to_netcdf(names[-1], engine="h5netcdf", unlimited_dims=["time"])
    natives = [_native_round_trip(p) for p in parts]
    want = xr.concat(natives, dim="time", data_vars="minimal", coords="minimal", compat="override")
    with xr.open_mfdataset(names, engine="h5netcdf", combine="by_coords", data_vars="minimal",
                           coords="minimal", compat="override") as got:
        xr.testing.assert_identical(got.load(), want)


def test_h5netcdf_file_api(backend, plain_names):
    """h5netcdf's own API: dimensions (one unlimited), variables, attributes, groups."""
    def write(f):
        f.dimensions = {"x": 4, "t": None}
        f.attrs["conventions"] = "CF-1.8"
        x = f.create_variable("x", ("x",), data=np.arange(4.0))
        x.attrs["units"] = "m"
        v = f.create_variable("v", ("t", "x"), dtype="f8", chunks=(1, 4), compression="gzip")
        f.resize_dimension("t", 3)
        v[...] = np.arange(12.0).reshape(3, 4)
        g = f.create_group("sub")
        g.dimensions = {"k": 2}
        g.create_variable("w", ("k", "x"), data=np.ones((2, 4), "i2"))

    def read(f):
        return {"dims": {k: (len(d), d.isunlimited()) for k, d in f.dimensions.items()},
                "vars": sorted(f.variables), "v": f["v"][...].tolist(), "v_dims": f["v"].dimensions,
                "attrs": dict(f.attrs), "x_attrs": dict(f["x"].attrs), "groups": sorted(f.groups),
                "w_dims": f["sub/w"].dimensions, "w": f["sub/w"][...].tolist(),
                "sub_dims": {k: len(d) for k, d in f["sub"].dimensions.items()}}

    buf = io.BytesIO()
    with h5netcdf.File(buf, "w") as f:
        write(f)
    with h5netcdf.File(io.BytesIO(buf.getvalue()), "r") as f:
        want = read(f)
    name = plain_names + "h5n.nc"
    with h5netcdf.File(name, "w") as f:
        write(f)
    with h5netcdf.File(name, "r") as f:
        assert read(f) == want


def test_open_zarr_matches_h5netcdf(backend, plain_names):
    """The other direction: Zarr readers see the same variables, coordinates, dims and attributes."""
    ds = _dataset().drop_vars(["label"])  # zarr-python's vlen-string codec differs from HDF5's
    for v in ds.variables.values():
        # xarray's Zarr reader wants a _FillValue attribute in its own encoding; netCDF-4 writes
        # a plain one (a known limit, docs/compatibility.md): no fill values here.
        v.encoding = {"_FillValue": None}
    name = plain_names + "z.nc"
    ds.to_netcdf(name, engine="h5netcdf")
    with xr.open_dataset(name, engine="h5netcdf") as h:
        h = h.load()
    store = backend.zarr_store("z.nc")
    with xr.open_zarr(store, consolidated=False) as z:
        z = z.load()
    assert set(z.variables) == set(h.variables) and set(z.coords) == set(h.coords) == {"time", "y", "x"}
    # Everything but the known limits (_user_attrs): dims, coordinates, values, user attributes.
    xr.testing.assert_identical(_user_view(z), _user_view(h))


_PHONY = "This is a netCDF dimension but not a netCDF variable"


def _user_view(ds):
    """`ds` with only netCDF's user attributes (the known limits of Zarr readers, see _user_attrs)."""
    out = ds.copy()
    out.attrs = _user_attrs(ds.attrs)
    for n in out.variables:
        out[n].attrs = _user_attrs(ds[n].attrs)
    return out


def test_open_datatree_zarr_matches_h5netcdf(backend, plain_names):
    """xr.open_datatree(engine="zarr") on a file with groups, written by xarray through arraymorph,
    gives the tree xr.open_datatree(engine="h5netcdf") gives on the same file: same groups,
    variables, coordinates, dims, values and (user) attributes, node by node."""
    ds = _dataset().drop_vars(["label"])
    for v in ds.variables.values():
        v.encoding = {"_FillValue": None}  # as in test_open_zarr_matches_h5netcdf
    sub = ds.rename({"temp": "t2", "count": "n"}).assign(extra=(("k",), np.array([1.5, 2.5])))
    sub["extra"].encoding = {"_FillValue": None}
    sub.attrs["where"] = "deep"
    name = plain_names + "tree.nc"
    ds.to_netcdf(name, engine="h5netcdf")
    sub.to_netcdf(name, engine="h5netcdf", group="inner/deep", mode="a")
    with xr.open_datatree(name, engine="h5netcdf") as h:
        h = h.load()
    with xr.open_datatree(backend.zarr_store("tree.nc"), engine="zarr", consolidated=False) as z:
        z = z.load()
    assert set(z.groups) == set(h.groups) == {"/", "/inner", "/inner/deep"}
    for g in h.groups:
        zn, hn = z[g].to_dataset(), h[g].to_dataset()
        # The known limit (docs/compatibility.md): netCDF-4 stores a dimension without a
        # coordinate variable ("k") as a dimension-scale array that netCDF readers hide.
        phony = [n for n in zn.variables if str(zn[n].attrs.get("NAME", "")).startswith(_PHONY)]
        assert phony == (["k"] if g == "/inner/deep" else []), g
        xr.testing.assert_identical(_user_view(zn.drop_vars(phony)), _user_view(hn))
        assert [zn[n].dims for n in zn.variables] == [hn[n].dims for n in zn.variables], g
    assert dict(z["inner/deep"].sizes) == {"time": 5, "y": 3, "x": 4, "k": 2}  # not vacuous: the group's own k
    assert z["inner/deep"].attrs["where"] == "deep"


# What Zarr readers see besides netCDF's user attributes (docs/compatibility.md): arraymorph's
# `_hdf5`, the netCDF-4 / HDF5 dimension-scale bookkeeping, and one-element lists where netCDF
# readers unwrap one-element attribute arrays to scalars.
_BOOKKEEPING = {"_hdf5", "_NCProperties", "_Netcdf4Dimid", "_Netcdf4Coordinates", "_nc3_strict",
                "DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME", "DIMENSION_LABELS"}


def _user_attrs(attrs):
    out = {}
    for k, v in attrs.items():
        if k in _BOOKKEEPING:
            continue
        v = np.asarray(v).tolist()
        out[k] = v[0] if isinstance(v, list) and len(v) == 1 else v
    return out
