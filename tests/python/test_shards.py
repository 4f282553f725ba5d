"""Zarr v3 shards (``sharding_indexed``, docs/format.md "Shards"): arraymorph reads shards written
by zarr-python and TensorStore and writes shards they read; the request plans are proven by
request counts (stats()), values always compared.

The array used for counts: 64 x 96 float32 in 8 x 8 inner chunks and 32 x 32 shards (2 x 3 shards
of 4 x 4 inner chunks).
"""

import h5py
import numpy as np
import pytest
import zarr
import zarr.codecs

import arraymorph

SHAPE, INNER, SHARD = (64, 96), (8, 8), (32, 32)
N_SHARDS = 2 * 3
DATA = np.arange(SHAPE[0] * SHAPE[1], dtype="f4").reshape(SHAPE)
COMPRESSORS = {
    "none": None,
    "gzip": zarr.codecs.GzipCodec(level=1),
    "zstd": zarr.codecs.ZstdCodec(level=3),
}


def _zarr_array(backend, name, compressor=None, **kw):
    """A root group holding array 'a' with shards, written by zarr-python; returns it."""
    g = zarr.open_group(backend.zarr_store(name), mode="w")
    a = g.create_array("a", shape=SHAPE, dtype="f4", chunks=INNER, shards=SHARD,
                       compressors=compressor, fill_value=-1, **kw)
    return a


def _counts(f):
    arraymorph.reset_stats()
    f()
    s = arraymorph.stats()
    return s["get"]["requests"] + s["head"]["requests"], s["put"]["requests"], s


def _index_requests(backend):
    """Requests for one shard index: one suffix GET, or HEAD + GET where there is no suffix range (Azure)."""
    return 2 if backend.name == "azure" else 1


@pytest.mark.parametrize("codec", sorted(COMPRESSORS))
def test_read_zarr_python_shards(backend, codec):
    a = _zarr_array(backend, "zp.h5", COMPRESSORS[codec])
    data = DATA.copy()
    data[0:8, 0:8] = -1  # all fill value: zarr-python stores that inner chunk as empty
    a[...] = data
    with h5py.File(backend.url("zp.h5"), "r") as f:
        d = f["a"]
        assert d.shape == SHAPE and d.chunks == INNER and d.dtype == np.dtype("f4")
        gets, _, s = _counts(lambda: np.testing.assert_array_equal(d[...], data))
        # Every inner chunk of every shard is needed: each shard is one whole-object GET, its
        # index read from the object's end.
        assert gets == N_SHARDS, s
        gets, _, s = _counts(lambda: np.testing.assert_array_equal(d[...], data))
        assert gets == 0, s  # inner chunks and indexes come from the chunk cache


def test_read_plans_index_once_then_merged_ranges(backend):
    a = _zarr_array(backend, "plan.h5")
    a[...] = DATA
    with h5py.File(backend.url("plan.h5"), "r") as f:
        d = f["a"]
        gets, _, s = _counts(lambda: np.testing.assert_array_equal(d[0:8, 0:8], DATA[0:8, 0:8]))
        assert gets == _index_requests(backend) + 1, s  # the index, then the one inner chunk
        # Another inner chunk of the same shard: the index is cached, one ranged GET.
        gets, _, s = _counts(lambda: np.testing.assert_array_equal(d[24:32, 8:16], DATA[24:32, 8:16]))
        assert gets == 1, s
        assert s["get"]["bytes"] == 8 * 8 * 4, s
    arraymorph.configure(cache_bytes=0)
    with h5py.File(backend.url("plan.h5"), "r") as f:
        d = f["a"]
        # A strided read (every other row of inner chunks): the 4 shards' indexes, then per shard
        # the runs of needed inner chunks; gaps of 1 KiB are merged (range_merge_gap 64 KiB).
        gets, _, s = _counts(lambda: np.testing.assert_array_equal(d[::16, :], DATA[::16, :]))
        assert gets == N_SHARDS * _index_requests(backend) + N_SHARDS, s
        arraymorph.configure(range_merge_gap=0)
    with h5py.File(backend.url("plan.h5"), "r") as f:
        d = f["a"]
        gets, _, s = _counts(lambda: np.testing.assert_array_equal(d[::16, :], DATA[::16, :]))
        # No merging: one GET per run of adjacent inner chunks. zarr-python lays inner chunks out
        # in Morton order, where no two of these 8 per shard are neighbours.
        assert gets == N_SHARDS * _index_requests(backend) + 8 * N_SHARDS, s


def test_missing_shards_and_empty_inner_chunks_read_as_fill(backend):
    a = _zarr_array(backend, "sparse.h5")
    a[40:48, 0:8] = 5  # one inner chunk of shard (1, 0); every other shard absent
    want = np.full(SHAPE, -1, dtype="f4")
    want[40:48, 0:8] = 5
    with h5py.File(backend.url("sparse.h5"), "r") as f:
        d = f["a"]
        gets, _, s = _counts(lambda: np.testing.assert_array_equal(d[...], want))
        # One whole-object GET per shard (5 answered "not found").
        assert gets == N_SHARDS, s
        # Part of the shards: their indexes (from the cache now), then the one inner chunk.
        gets, _, s = _counts(lambda: np.testing.assert_array_equal(d[36:60, 0:20], want[36:60, 0:20]))
        assert gets == 0, s
    with h5py.File(backend.url("sparse.h5"), "r") as f:
        d = f["a"]
        gets, _, s = _counts(lambda: np.testing.assert_array_equal(d[36:60, 0:20], want[36:60, 0:20]))
        # Shard (1, 0) only: its index (HEAD + GET on Azure), then the one stored inner chunk.
        assert gets == _index_requests(backend) + 1, s


def test_corrupt_index_is_an_error_naming_the_object(backend):
    a = _zarr_array(backend, "bad.h5")
    a[...] = DATA
    key = "bad.h5/a/c/1/2"
    blob = bytearray(backend.read_key(key))
    blob[-10] ^= 0x20  # inside the index: the crc32c no longer matches
    backend.write_key(key, bytes(blob))
    with h5py.File(backend.url("bad.h5"), "r") as f:
        np.testing.assert_array_equal(f["a"][0:32, 0:32], DATA[0:32, 0:32])  # other shards fine
        with pytest.raises(OSError, match=r"c/1/2.*crc32c|crc32c.*c/1/2"):
            f["a"][32:64, 64:96]
    # A write that would read-modify-write the shard refuses too, and leaves it as it was.
    with h5py.File(backend.url("bad.h5"), "a") as f:
        with pytest.raises(OSError, match=r"c/1/2"):
            f["a"][40, 70] = 1
    assert backend.read_key(key) == bytes(blob)


def test_write_one_put_per_whole_shard_and_peers_read_it(backend):
    url = backend.url("w.h5")
    with arraymorph.shards(4):
        with h5py.File(url, "w") as f:
            d = f.create_dataset("a", shape=SHAPE, dtype="f4", chunks=INNER, fillvalue=-1)
            assert d.chunks == INNER
            gets, puts, s = _counts(lambda: d.__setitem__(Ellipsis, DATA))
            assert (gets, puts) == (0, N_SHARDS), s
    g = zarr.open_group(backend.zarr_store("w.h5", read_only=True), mode="r")
    za = g["a"]
    assert za.shards == SHARD and za.chunks == INNER
    np.testing.assert_array_equal(za[...], DATA)
    assert sorted(k for k in backend.list_keys("w.h5/a/c/")) == sorted(
        f"w.h5/a/c/{i}/{j}" for i in range(2) for j in range(3))


def test_partial_shard_writes_read_modify_write(backend):
    url = backend.url("rmw.h5")
    model = np.full(SHAPE, -1, dtype="f4")
    with arraymorph.shards(4):
        with h5py.File(url, "w") as f:
            d = f.create_dataset("a", shape=SHAPE, dtype="f4", chunks=INNER, fillvalue=-1,
                                 compression="gzip")
            d[0:32, 0:32] = DATA[0:32, 0:32]
            model[0:32, 0:32] = DATA[0:32, 0:32]
    with h5py.File(url, "a") as f:
        d = f["a"]
        # Part of one inner chunk and a whole other one of the same shard: GET it, PUT it once.
        gets, puts, s = _counts(lambda: d.__setitem__((slice(3, 5), slice(3, 13)), 7))
        model[3:5, 3:13] = 7
        assert (gets, puts) == (1, 1), s
        # A new shard partly written: nothing to read (absent), one PUT.
        gets, puts, s = _counts(lambda: d.__setitem__((slice(40, 41), slice(70, 75)), 9))
        model[40, 70:75] = 9
        assert (gets, puts) == (1, 1), s  # the GET finds nothing
        np.testing.assert_array_equal(d[...], model)
    with h5py.File(url, "r") as f:
        np.testing.assert_array_equal(f["a"][...], model)
    g = zarr.open_group(backend.zarr_store("rmw.h5", read_only=True), mode="r")
    np.testing.assert_array_equal(g["a"][...], model)


def test_shard_setting_and_its_errors(backend, monkeypatch):
    url = backend.url("cfg.h5")
    monkeypatch.setenv("ARRAYMORPH_SHARD_CHUNKS", "2x3")
    with h5py.File(url, "w") as f:
        f.create_dataset("a", data=DATA, chunks=INNER)
        f.create_dataset("plain", data=DATA)  # no chunks=: stored unsharded
        f.create_dataset("s", data=np.array(["x", "yy"], dtype=object), dtype=h5py.string_dtype(), chunks=(1,))
        f.create_dataset("three", shape=(4, 4, 4), chunks=(2, 2, 2), dtype="i1")  # "2x3" is for rank 2
    monkeypatch.setenv("ARRAYMORPH_SHARD_CHUNKS", "2x0")
    with h5py.File(url, "a") as f:
        with pytest.raises(ValueError, match="ARRAYMORPH_SHARD_CHUNKS"):
            f.create_dataset("bad", shape=(4, 4), chunks=(2, 2), dtype="i1")
    monkeypatch.delenv("ARRAYMORPH_SHARD_CHUNKS")
    g = zarr.open_group(backend.zarr_store("cfg.h5", read_only=True), mode="r")
    assert g["a"].shards == (16, 24)
    assert g["plain"].shards is None and g["s"].shards is None and g["three"].shards is None
    with pytest.raises(ValueError, match="shard_chunks"):
        arraymorph.configure(shard_chunks="lots")


def test_resize_of_sharded_dataset_forgets_data_outside(backend):
    url = backend.url("rs.h5")
    with arraymorph.shards(4):
        with h5py.File(url, "w") as f:
            d = f.create_dataset("a", data=DATA, chunks=INNER, maxshape=(None, None), fillvalue=-1)
            d.resize((20, 50))
            d.resize(SHAPE)
            want = np.full(SHAPE, -1, dtype="f4")
            want[:20, :50] = DATA[:20, :50]
            np.testing.assert_array_equal(d[...], want)
    with h5py.File(url, "r") as f:
        np.testing.assert_array_equal(f["a"][...], want)
    # Shards wholly outside (row 1 of the shard grid) were deleted.
    assert not any(k.startswith("rs.h5/a/c/1/") for k in backend.list_keys("rs.h5/a/c/"))


def test_index_at_start_and_plain_index_codecs(backend):
    from zarr.codecs import BytesCodec, GzipCodec, ShardingCodec

    g = zarr.open_group(backend.zarr_store("start.h5"), mode="w")
    a = g.create_array("a", shape=SHAPE, dtype="f4", chunks=SHARD, compressors=None, fill_value=-1,
                       serializer=ShardingCodec(chunk_shape=INNER, codecs=[BytesCodec(), GzipCodec(level=1)],
                                                index_codecs=[BytesCodec()], index_location="start"))
    a[...] = DATA
    with h5py.File(backend.url("start.h5"), "a") as f:
        np.testing.assert_array_equal(f["a"][...], DATA)
        f["a"][5, 5:20] = 3  # read-modify-write keeps the layout zarr-python expects
    want = DATA.copy()
    want[5, 5:20] = 3
    np.testing.assert_array_equal(zarr.open_group(backend.zarr_store("start.h5"), mode="r")["a"][...], want)


def test_chunk_api_reports_inner_chunks(backend):
    import zlib

    url = backend.url("capi.h5")
    with arraymorph.shards(4):
        with h5py.File(url, "w") as f:
            d = f.create_dataset("a", shape=SHAPE, dtype="f4", chunks=INNER, fillvalue=-1, compression="gzip")
            d[0:32, 0:40] = DATA[0:32, 0:40]  # inner chunks (0..3, 0..4): 20, in shards (0,0), (0,1)
    with h5py.File(url, "a") as f:
        dsid = f["a"].id
        assert dsid.get_num_chunks() == 20
        first = dsid.get_chunk_info(0)
        assert first.chunk_offset == (0, 0) and first.byte_offset == 0 and first.filter_mask == 0
        info = dsid.get_chunk_info_by_coord((8, 8))
        assert info.byte_offset > 0  # inside its shard object
        mask, raw = dsid.read_direct_chunk((8, 8))
        assert mask == 0 and len(raw) == info.size
        np.testing.assert_array_equal(np.frombuffer(zlib.decompress(raw), "f4").reshape(INNER), DATA[8:16, 8:16])
        assert dsid.get_chunk_info_by_coord((40, 40)).byte_offset is None  # never written
        seen = []
        dsid.chunk_iter(lambda i: seen.append(i.chunk_offset))
        assert len(seen) == 20 and seen == sorted(seen)
        # Direct chunk writes go into the shard (read-modify-write), next to the other chunks.
        new = np.full(INNER, 3.5, dtype="f4")
        gets, puts, s = _counts(lambda: dsid.write_direct_chunk((16, 16), zlib.compress(new.tobytes())))
        assert puts == 1, s
        arraymorph.write_chunks(f["a"], [((40, 88), 0, zlib.compress(new.tobytes()))])
        want = np.full(SHAPE, -1, dtype="f4")
        want[0:32, 0:40] = DATA[0:32, 0:40]
        want[16:24, 16:24] = 3.5
        want[40:48, 88:96] = 3.5
        np.testing.assert_array_equal(f["a"][...], want)
        assert dsid.get_num_chunks() == 21
    np.testing.assert_array_equal(zarr.open_group(backend.zarr_store("capi.h5"), mode="r")["a"][...], want)


# ------------------------------------------------------------------------------ TensorStore
def _ts_spec(path, codecs):
    return {
        "driver": "zarr3",
        "kvstore": {"driver": "file", "path": str(path)},
        "metadata": {
            "shape": list(SHAPE),
            "data_type": "float32",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(SHARD)}},
            "chunk_key_encoding": {"name": "default"},
            "fill_value": -1,
            "codecs": [{"name": "sharding_indexed", "configuration": {
                "chunk_shape": list(INNER),
                "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}] + codecs,
                "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
            }}],
        },
    }


@pytest.mark.parametrize("codecs", [[], [{"name": "zstd", "configuration": {"level": 3}}],
                                    [{"name": "gzip", "configuration": {"level": 5}}]],
                         ids=["none", "zstd", "gzip"])
def test_tensorstore_interop(tmp_path, codecs):
    ts = pytest.importorskip("tensorstore")
    root = tmp_path / "store"
    zarr.open_group(zarr.storage.LocalStore(root / "ts.h5"), mode="w")
    t = ts.open(_ts_spec(root / "ts.h5" / "a", codecs), create=True).result()
    t[...] = DATA
    with h5py.File(f"file://{root}/ts.h5", "a") as f:
        np.testing.assert_array_equal(f["a"][...], DATA)
        f["a"][10:30, 50:60] = 0.5  # we update TensorStore's shards ...
    want = DATA.copy()
    want[10:30, 50:60] = 0.5
    back = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": str(root / "ts.h5" / "a")}}).result()
    np.testing.assert_array_equal(back.read().result(), want)  # ... and TensorStore reads them

    # TensorStore reads shards arraymorph created.
    with arraymorph.shards(4):
        with h5py.File(f"file://{root}/ours.h5", "w") as f:
            f.create_dataset("b", data=DATA, chunks=INNER, compression="gzip")
    ours = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": str(root / "ours.h5" / "b")}}).result()
    np.testing.assert_array_equal(ours.read().result(), DATA)
