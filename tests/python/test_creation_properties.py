"""Dataset creation properties that h5py's own suite exercises, compared with the same operations
on a native HDF5 file on every store (issue 15): fill time (alloc / never / ifset), fill values of
variable-length string datasets, optional filters that are not available (h5py
allow_unknown_filter=True), and the HDF5 1.6 call H5Gget_objinfo (h5py.h5g.get_objinfo).
"""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from native_files import native_file


def _fill_session(f):
    out = {}
    for name, kw in {"never": dict(fillvalue=4.0, fill_time="never"), "alloc": dict(fillvalue=4.0, fill_time="alloc"),
                     "ifset": dict(fillvalue=4.0, fill_time="ifset"), "never0": dict(fill_time="never")}.items():
        d = f.create_dataset(name, (10,), "f4", chunks=(5,), maxshape=(20,), **kw)
        d[2] = 1.5
        d.resize((15,))
        plist = d.id.get_create_plist()
        vals = d[()]
        out[name] = dict(fill_time=plist.get_fill_time(), fillvalue=float(d.fillvalue), written=float(vals[2]),
                         # unwritten elements: the fill value, except with "never" (undefined in HDF5)
                         unwritten_is_fill=bool(np.all(vals[[0, 1, 3, 9, 12]] == d.fillvalue)))
    for name, dt, fill in (("sb", h5py.string_dtype("ascii"), b"bar"), ("su", h5py.string_dtype(), "bár"),
                           ("sn", h5py.string_dtype(), None)):
        d = f.create_dataset(name, (6,), dtype=dt, chunks=(4,), **({} if fill is None else {"fillvalue": fill}))
        d[1] = "x"
        out[name] = dict(fillvalue=d.fillvalue, values=d[()].tolist(), as_str=d.asstr()[()].tolist())
    return out


def _observe_fill(f):
    out = {}
    for name in ("never", "alloc", "ifset", "never0"):
        d = f[name]
        vals = d[()]
        out[name] = dict(fill_time=d.id.get_create_plist().get_fill_time(), fillvalue=float(d.fillvalue),
                         written=float(vals[2]), unwritten_is_fill=bool(np.all(vals[[0, 1, 3, 9, 12]] == d.fillvalue)))
    for name in ("sb", "su", "sn"):
        d = f[name]
        out[name] = dict(fillvalue=d.fillvalue, values=d[()].tolist(), as_str=d.asstr()[()].tolist())
    return out


def test_fill_time_and_string_fill_values_match_native(backend, tmp_path):
    with native_file(tmp_path / "n.h5", "w") as f:
        created = _fill_session(f)
    with native_file(tmp_path / "n.h5", "r+") as f:  # read-only, HDF5 1.14 fails reading a string fill
        expected = _observe_fill(f)
    assert created == expected
    # "never": HDF5 leaves unwritten elements undefined; arraymorph reads them as zeros.
    for name in ("never", "never0"):
        expected[name].pop("unwritten_is_fill")
    assert expected["never"]["fill_time"] == h5py.h5d.FILL_TIME_NEVER
    assert expected["sb"]["values"][0] == b"bar" and expected["su"]["values"][5] == "bár".encode()
    with h5py.File(backend.url("f.h5"), "w") as f:
        got_created = _fill_session(f)
    with h5py.File(backend.url("f.h5"), "r") as f:
        got = _observe_fill(f)
        assert f["never"][0] == 0 and f["never"][12] == 0
    for g in (got_created, got):
        assert g["never"].pop("unwritten_is_fill") is False
        g["never0"].pop("unwritten_is_fill")
        assert g == expected
    meta = json.loads(backend.read_key("f.h5/never/zarr.json"))
    assert meta["fill_value"] == 0.0 and meta["attributes"]["_hdf5"]["fill_time"] == "never"
    assert meta["attributes"]["_hdf5"]["fill_value"] == 4.0
    assert json.loads(backend.read_key("f.h5/su/zarr.json"))["fill_value"] == "bár"


def _unknown_filter_session(f):
    d = f.create_dataset("d", shape=(10, 10), dtype=np.uint8, compression=256, allow_unknown_filter=True,
                         chunks=(5, 5))
    d[...] = np.arange(100, dtype=np.uint8).reshape(10, 10)
    g = f.create_dataset("g", shape=(8,), dtype="i4", chunks=(4,), compression="gzip", shuffle=True)
    return [d.compression, sorted(d._filters), d[()].tolist(), g.compression]


def test_unavailable_optional_filter_is_kept_but_skipped(backend, tmp_path):
    with native_file(tmp_path / "n.h5", "w") as f:
        expected = _unknown_filter_session(f)
    with h5py.File(backend.url("u.h5"), "w") as f:
        assert _unknown_filter_session(f) == expected
    with h5py.File(backend.url("u.h5"), "r") as f:
        assert [f["d"].compression, sorted(f["d"]._filters), f["d"][()].tolist(), f["g"].compression] == expected
    assert expected[0] in ("unknown", None) and "256" in expected[1]  # h5py < 3.16 names it None
    meta = json.loads(backend.read_key("u.h5/d/zarr.json"))
    assert [c["name"] for c in meta["codecs"]] == ["bytes"]       # chunks are stored without it
    assert meta["attributes"]["_hdf5"]["skipped_filters"][0]["id"] == 256
    # A filter that is not optional still fails, naming it.
    with h5py.File(backend.url("u2.h5"), "w") as f:
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_chunk((4,))
        dcpl.set_filter(257, 0)  # mandatory
        with pytest.raises(ValueError, match="not supported by arraymorph: HDF5 filter 257"):
            h5py.h5d.create(f.id, b"d", h5py.h5t.STD_U8LE, h5py.h5s.create_simple((4,)), dcpl=dcpl)


def _objinfo_session(f):
    g = f.create_group("g")
    d = g.create_dataset("d", data=np.arange(3))
    f["link"] = h5py.SoftLink("/g/d")
    info_d = h5py.h5g.get_objinfo(d.id)
    info_g = h5py.h5g.get_objinfo(f.id, b"g")
    via_link = h5py.h5g.get_objinfo(f.id, b"link")
    link = h5py.h5g.get_objinfo(f.id, b"link", follow_link=False)
    with pytest.raises(Exception) as missing:
        h5py.h5g.get_objinfo(f.id, b"missing")
    return dict(missing=type(missing.value).__name__, types=[info_d.type, info_g.type, via_link.type, link.type], nlink=info_d.nlink,
                same_object=via_link.objno == info_d.objno, other_object=info_g.objno != info_d.objno,
                same_file=info_d.fileno == info_g.fileno, linklen=link.linklen)


def test_h5g_get_objinfo_matches_native(backend, tmp_path):
    with native_file(tmp_path / "n.h5", "w") as f:
        expected = _objinfo_session(f)
    assert expected["types"] == [h5py.h5g.DATASET, h5py.h5g.GROUP, h5py.h5g.DATASET, h5py.h5g.LINK]
    with h5py.File(backend.url("o.h5"), "w") as f:
        assert _objinfo_session(f) == expected
        # arraymorph records no modification times: 0, as natively with track_times=False
        assert h5py.h5g.get_objinfo(f["g/d"].id).mtime == 0

