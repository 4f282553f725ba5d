"""Object and region references through h5py on every backend, compared with the same code on a
native HDF5 file (docs/format.md, "Object identity and references")."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from native_files import native_file

DATA = np.arange(48, dtype="f8").reshape(6, 8)
CMPD = np.dtype([("ref", h5py.ref_dtype), ("n", "i4")])


def _write(f):
    g = f.create_group("grp")
    d = g.create_dataset("data", data=DATA, chunks=(3, 4))
    refs = f.create_dataset("refs", (3,), dtype=h5py.ref_dtype)
    refs[0] = g.ref
    refs[1] = d.ref
    refs[2] = f.ref
    f.attrs["to_data"] = d.ref
    f.attrs["ref_list"] = np.array([g.ref, d.ref], dtype=h5py.ref_dtype)
    rr = f.create_dataset("regions", (2,), dtype=h5py.regionref_dtype)
    rr[0] = d.regionref[1:3, 2:6]
    rr[1] = d.regionref[4, ::2]
    d.attrs["self_region"] = d.regionref[0:2, 0:1]
    c = f.create_dataset("cmpd", (2,), dtype=CMPD)
    c[0] = (d.ref, 7)
    c[1] = (g.ref, 8)
    # In attributes: inside compounds and inside variable-length lists (as DIMENSION_LIST).
    f.attrs["cmpd"] = np.array([(d.ref, 5), (f.ref, 6)], dtype=CMPD)
    vl = np.empty(2, dtype=object)
    vl[0] = np.array([g.ref, d.ref], dtype=h5py.ref_dtype)
    vl[1] = np.array([], dtype=h5py.ref_dtype)
    f.attrs.create("vlen", vl, dtype=h5py.vlen_dtype(h5py.ref_dtype))


def _read(f):
    out = {}
    refs = f["refs"][...]
    out["names"] = [f[r].name for r in refs]
    out["types"] = [type(f[r]).__name__ for r in refs]
    out["attr"] = f[f.attrs["to_data"]].name
    out["attr_list"] = [f[r].name for r in f.attrs["ref_list"]]
    d = f["grp/data"]
    rr = f["regions"][...]
    out["regions"] = [d[r].tolist() for r in rr]
    out["region_names"] = [f[r].name for r in rr]
    out["region_shape"] = [d.regionref.shape(r) for r in rr]
    out["region_selection"] = [d.regionref.selection(r) for r in rr]
    out["self_region"] = d[d.attrs["self_region"]].tolist()
    c = f["cmpd"][...]
    out["cmpd"] = [(f[row["ref"]].name, int(row["n"])) for row in c]
    out["attr_cmpd"] = [(f[row["ref"]].name, int(row["n"])) for row in f.attrs["cmpd"]]
    out["attr_vlen"] = [[f[r].name for r in row] for row in f.attrs["vlen"]]
    # h5py's low-level attribute ids (h5netcdf and the CLI read types this way)
    out["attr_id_dtypes"] = [str(h5py.check_ref_dtype(f.attrs.get_id(n).dtype)) for n in ("to_data", "ref_list")]
    aid = f.attrs.get_id("to_data")
    buf = np.empty(aid.shape, dtype=aid.dtype)
    aid.read(buf)
    out["attr_id_read"] = f[buf[()]].name
    out["h5r_name"] = h5py.h5r.get_name(refs[1], f.id)
    out["h5r_type"] = [h5py.h5r.get_obj_type(r, f.id) for r in refs]
    out["null"] = bool(h5py.Reference())
    return out


def test_references_match_native(backend, tmp_path):
    with native_file(tmp_path / "n.h5", "w") as f:
        _write(f)
    with native_file(tmp_path / "n.h5") as f:
        want = _read(f)
    url = backend.url("refs.h5")
    with h5py.File(url, "w") as f:
        _write(f)
        assert _read(f) == want
    with h5py.File(url, "r") as f:
        assert _read(f) == want
    assert want["regions"][0] == DATA[1:3, 2:6].tolist()
    assert want["attr_id_dtypes"] == ["<class 'h5py.h5r.Reference'>"] * 2 and want["attr_id_read"] == "/grp/data"
    assert want["attr_cmpd"] == [("/grp/data", 5), ("/", 6)] and want["attr_vlen"] == [["/grp", "/grp/data"], []]


def test_references_survive_move_and_copy(backend, tmp_path):
    """A reference names the object, not its path: after a move it finds the object at its new
    name; a copy is a new object (references to the original still name the original)."""
    def run(f):
        d = f.create_dataset("a/data", data=DATA[0])
        f["refs"] = np.array([d.ref, f["a"].ref], dtype=h5py.ref_dtype)
        f.move("a", "b")
        f.copy("b", "c")
        refs = f["refs"][...]
        return [f[r].name for r in refs], f["c/data"].ref == f["b/data"].ref

    with native_file(tmp_path / "n.h5", "w") as f:
        want = run(f)
    url = backend.url("mv.h5")
    with h5py.File(url, "w") as f:
        got = run(f)
    assert got[0] == want[0] == ["/b/data", "/b"]
    with h5py.File(url, "r") as f:
        assert [f[r].name for r in f["refs"][...]] == want[0]
        assert f[f["c/data"].ref].name == "/c/data"


def test_dangling_and_foreign_references(backend):
    url = backend.url("dangling.h5")
    with h5py.File(url, "w") as f:
        d = f.create_dataset("gone", data=[1])
        f["refs"] = np.array([d.ref], dtype=h5py.ref_dtype)
        del f["gone"]
        with pytest.raises(ValueError, match="no object with id"):
            f[f["refs"][0]]
        with pytest.raises(ValueError, match="Region reference must point to this dataset"):
            f.create_dataset("other", data=[1, 2])[f.create_dataset("x", data=[3]).regionref[0:1]]
    # A region reference stores its selection with the dataset: it needs write intent, as natively
    # (HDF5 puts it in the file's global heap).
    with h5py.File(url, "r") as f, pytest.raises(Exception, match="read-only"):
        f["other"].regionref[0:1]
    with h5py.File(url, "r") as f:  # object references need nothing stored
        assert f[f["other"].ref].name == "/other"
