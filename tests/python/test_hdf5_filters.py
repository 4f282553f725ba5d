"""Every HDF5 filter runs through its own code: HDF5's built-in fletcher32, scaleoffset and nbit,
h5py's lzf, and filter plugins (hdf5plugin's bitshuffle, lz4, zfp) that arraymorph knows nothing
about. Each case is compared with the same dataset in a native HDF5 file: the values read (lossy
scaleoffset and zfp included) and the raw chunk bytes are identical."""

import json

import h5py
import hdf5plugin
import numpy as np
import pytest

from native_files import native_file

RNG = np.random.default_rng(7)
FLOATS = (np.sin(np.arange(4000) / 50.0) * 1000 + RNG.normal(0, 0.01, 4000)).reshape(40, 100)
INTS = np.tile(np.arange(200, dtype="<i4"), 20).reshape(40, 100)


def _nbit(f, name, data):
    """nbit (h5py has no keyword for it); on a full-precision type, as native HDF5 1.14 refuses
    to create datasets of reduced-precision types without H5Pset_relax_file_integrity_checks."""
    t = h5py.h5t.STD_I32LE.copy()
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk((10, 50))
    dcpl.set_filter(h5py.h5z.FILTER_NBIT, 0)  # H5Pset_nbit
    space = h5py.h5s.create_simple(data.shape)
    dsid = h5py.h5d.create(f.id, name.encode(), t, space, dcpl=dcpl)
    d = h5py.Dataset(dsid)
    d[...] = data % 2048
    return d


CASES = {
    "lzf": (INTS, {"compression": "lzf"}, 32000),
    "fletcher32": (FLOATS, {"fletcher32": True}, 3),
    "scaleoffset_float": (FLOATS, {"scaleoffset": 2}, 6),
    "scaleoffset_int": (INTS, {"scaleoffset": 0}, 6),
    "shuffle_fletcher32_gzip": (INTS, {"shuffle": True, "fletcher32": True, "compression": "gzip"}, 3),
    "nbit": (INTS, None, 5),
    "bitshuffle_lz4": (INTS, hdf5plugin.Bitshuffle(cname="lz4"), 32008),
    "lz4": (INTS, hdf5plugin.LZ4(), 32004),
    "zfp_lossy": (FLOATS, hdf5plugin.Zfp(rate=10.0), 32013),
}


def _write(f, case):
    data, opts, _ = CASES[case]
    if opts is None:
        return _nbit(f, case, data)
    return f.create_dataset(case, data=data, chunks=(10, 50), **opts)


def _view(d):
    return d[...].copy(), [d.id.read_direct_chunk((i, j)) for i in (0, 30) for j in (0, 50)], d.compression


@pytest.mark.parametrize("case", list(CASES))
def test_filter_matches_native(backend, tmp_path, case):
    with native_file(tmp_path / "n.h5", "w") as f:
        _write(f, case)
    with native_file(tmp_path / "n.h5", "r") as f:  # re-opened: HDF5's chunk cache holds unfiltered data
        expected = _view(f[case])
    with h5py.File(backend.url("f.h5"), "w") as f:
        _write(f, case)
    with h5py.File(backend.url("f.h5"), "r") as f:
        got = _view(f[case])
        plist_filters = [f[case].id.get_create_plist().get_filter(i)[0]
                         for i in range(f[case].id.get_create_plist().get_nfilters())]
    np.testing.assert_array_equal(got[0], expected[0])  # lossy ones lose exactly what native loses
    assert got[1] == expected[1]
    assert got[2] == expected[2]
    assert CASES[case][2] in plist_filters
    meta = json.loads(backend.read_key(f"f.h5/{case}/zarr.json"))
    ids = [c["configuration"]["id"] for c in meta["codecs"] if c["name"] == "arraymorph.hdf5_filter"]
    assert CASES[case][2] in ids


def test_fletcher32_detects_a_flipped_byte(backend):
    url = backend.url("crc.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset("d", data=FLOATS, chunks=(10, 50), fletcher32=True)
    key = "crc.h5/d/c/1/1"
    raw = bytearray(backend.read_key(key))
    raw[5] ^= 0xFF
    backend.write_key(key, bytes(raw))
    with h5py.File(url, "r") as f:
        np.testing.assert_array_equal(f["d"][0:10, 0:50], FLOATS[0:10, 0:50])  # other chunks fine
        with pytest.raises(OSError, match="fletcher32|checksum|could not decode"):
            f["d"][10:20, 50:100]


def test_optional_filter_that_cannot_encode_is_a_clear_error(backend):
    """lzf cannot shrink random bytes; native HDF5 then stores the chunk unfiltered with a
    per-chunk filter mask, which a chunk object has no place for: refused, nothing stored."""
    noise = RNG.integers(0, 2**63, size=(10, 50), dtype="<i8")
    with h5py.File(backend.url("lzf.h5"), "w") as f:
        d = f.create_dataset("d", shape=(10, 50), dtype="<i8", chunks=(10, 50), compression="lzf")
        with pytest.raises(OSError, match="not supported by arraymorph: skipping the optional HDF5 filter 32000"):
            d[...] = noise
        assert d.id.get_num_chunks() == 0


def test_unavailable_filter_is_refused_at_create(backend):
    with h5py.File(backend.url("u.h5"), "w") as f:
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_chunk((10,))
        dcpl.set_filter(31999, h5py.h5z.FLAG_MANDATORY, (1, 2))
        with pytest.raises(Exception, match="not supported by arraymorph: HDF5 filter 31999"):
            h5py.h5d.create(f.id, b"x", h5py.h5t.STD_I32LE, h5py.h5s.create_simple((20,)), dcpl=dcpl)
        assert "x" not in f
