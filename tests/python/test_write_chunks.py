"""arraymorph.write_chunks: H5Dwrite_chunk for many chunks per call (the `arraymorph cp` path).

What it promises, checked through stats() and the stored objects rather than timings: one PUT per
chunk and nothing else; chunks whose filters were all applied are not recompressed (gzip is
re-framed: the raw chunk read back is the source's byte for byte, and stats' direct_chunks says
"reframed"/"verbatim", never "recoded"); PUTs overlap (max_inflight_seen); every offset is
checked before anything is stored; a damaged chunk is refused naming its key."""

import zlib

import h5py
import numpy as np
import pytest

import arraymorph
from native_files import native_file

SHAPE, CHUNKS = (60, 50), (10, 16)  # 6 x 4 chunks; the last column of chunks is partial
DATA = np.round(np.random.default_rng(3).normal(size=SHAPE), 3)
FILTERS = {
    "none": {},
    "gzip": {"compression": "gzip", "compression_opts": 4},
    "shuffle+gzip": {"compression": "gzip", "compression_opts": 6, "shuffle": True},
    "shuffle+gzip+fletcher32": {"compression": "gzip", "shuffle": True, "fletcher32": True},
}


def _source(tmp_path, filters):
    """Every stored chunk of a native dataset: [(offset, filter_mask, bytes)]."""
    with native_file(tmp_path / "src.h5", "w") as f:
        d = f.create_dataset("d", data=DATA, chunks=CHUNKS, **filters)
        out = []
        for i in range(d.id.get_num_chunks()):
            off = d.id.get_chunk_info(i).chunk_offset
            out.append((off, *d.id.read_direct_chunk(off)))
        return out


def _dataset(f, filters):
    return f.create_dataset("d", shape=SHAPE, dtype=DATA.dtype, chunks=CHUNKS, **filters)


@pytest.mark.parametrize("kind", list(FILTERS))
def test_one_put_per_chunk_no_recompression_and_raw_bytes_kept(backend, tmp_path, kind):
    chunks = _source(tmp_path, FILTERS[kind])
    assert len(chunks) == 24
    with h5py.File(backend.url("w.h5"), "w") as f:
        d = _dataset(f, FILTERS[kind])
        f.flush()
        arraymorph.reset_stats()
        arraymorph.write_chunks(d, chunks)
        s = arraymorph.stats()
        assert s["put"]["requests"] == 24 and s["put"]["errors"] == 0
        assert s["get"]["requests"] == 0  # nothing read back, no read-modify-write
        expected = {"verbatim": 24, "reframed": 0, "recoded": 0} if kind == "none" else \
            {"verbatim": 0, "reframed": 24, "recoded": 0}
        assert s["direct_chunks"] == expected
        if backend.name != "local":
            assert s["max_inflight_seen"] > 1  # the PUTs overlapped
        # The deflate stream was kept: HDF5's raw form read back is the source's, byte for byte.
        for off, mask, raw in chunks:
            assert d.id.read_direct_chunk(off) == (0, raw)
    with h5py.File(backend.url("w.h5"), "r") as f:
        np.testing.assert_array_equal(f["d"][...], DATA)
    assert len(backend.list_keys("w.h5/d/c/")) == 24


def test_a_skipped_filter_is_recoded(backend):
    """Filter mask bit 1 (deflate not applied): the chunk is compressed by the engine."""
    block = DATA[0:10, 0:16]
    shuffled = np.frombuffer(block.tobytes(), np.uint8).reshape(-1, 8).T.tobytes()
    full = zlib.compress(shuffled, 6)
    with h5py.File(backend.url("m.h5"), "w") as f:
        d = _dataset(f, FILTERS["shuffle+gzip"])
        arraymorph.reset_stats()
        arraymorph.write_chunks(d, [((0, 0), 0b10, shuffled), ((10, 0), 0, full)])
        assert arraymorph.stats()["direct_chunks"] == {"verbatim": 0, "reframed": 1, "recoded": 1}
        np.testing.assert_array_equal(d[0:10, 0:16], block)
        np.testing.assert_array_equal(d[10:20, 0:16], block)


def test_offsets_are_checked_before_anything_is_stored(backend, tmp_path):
    chunks = _source(tmp_path, FILTERS["gzip"])
    with h5py.File(backend.url("e.h5"), "w") as f:
        d = _dataset(f, FILTERS["gzip"])
        f.flush()
        arraymorph.reset_stats()
        for bad, match in [((5, 0), "does not fall on a chunk boundary"),
                           ((60, 0), "exceeds the extent"),
                           (chunks[0][0], "given twice")]:
            with pytest.raises(RuntimeError, match=match):
                arraymorph.write_chunks(d, chunks[:5] + [(bad, 0, chunks[5][2])])
        assert arraymorph.stats()["put"]["requests"] == 0
        assert d.id.get_num_chunks() == 0


@pytest.mark.parametrize("damage", ["adler", "truncated", "not zlib", "wrong length"])
def test_a_damaged_gzip_chunk_is_refused_naming_it(backend, tmp_path, damage):
    chunks = _source(tmp_path, FILTERS["gzip"])
    off, mask, raw = chunks[7]
    bad = {"adler": raw[:-1] + bytes([raw[-1] ^ 1]),
           "truncated": raw[:-9],
           "not zlib": b"not deflate data",
           "wrong length": zlib.compress(DATA[0:5, 0:16].tobytes(), 4)}[damage]
    with h5py.File(backend.url("d.h5"), "w") as f:
        d = _dataset(f, FILTERS["gzip"])
        with pytest.raises(RuntimeError, match=r"chunk \S*d\.h5/d/c/1/3 of .*gzip chunk"):
            arraymorph.write_chunks(d, [(off, mask, bad)])
        assert d.id.get_num_chunks() == 0


def test_uncompressed_chunk_of_the_wrong_size_is_refused(backend):
    with h5py.File(backend.url("u.h5"), "w") as f:
        d = _dataset(f, {})
        with pytest.raises(RuntimeError, match=r"has 80 bytes, not the chunk's 1280"):
            arraymorph.write_chunks(d, [((0, 0), 0, np.zeros(10))])
        assert d.id.get_num_chunks() == 0


def test_many_chunks_in_several_groups(backend, monkeypatch):
    """More chunks than max_inflight: converted and PUT group by group, all stored."""
    arraymorph.configure(max_inflight=4)
    try:
        with h5py.File(backend.url("g.h5"), "w") as f:
            d = _dataset(f, FILTERS["shuffle+gzip"])
            items = []
            for r in range(0, SHAPE[0], CHUNKS[0]):
                for c in range(0, SHAPE[1], CHUNKS[1]):
                    block = np.zeros(CHUNKS)
                    part = DATA[r:r + CHUNKS[0], c:c + CHUNKS[1]]
                    block[:part.shape[0], :part.shape[1]] = part
                    shuffled = np.frombuffer(block.tobytes(), np.uint8).reshape(-1, 8).T.tobytes()
                    items.append(((r, c), 0, zlib.compress(shuffled, 6)))
            arraymorph.reset_stats()
            arraymorph.write_chunks(d, items)
            assert arraymorph.stats()["put"]["requests"] == 24
        with h5py.File(backend.url("g.h5"), "r") as f:
            np.testing.assert_array_equal(f["d"][...], DATA)
    finally:
        arraymorph.reset_configuration()


def test_read_only_file_and_non_arraymorph_dataset_are_refused(backend, tmp_path):
    with h5py.File(backend.url("r.h5"), "w") as f:
        _dataset(f, {})
    with h5py.File(backend.url("r.h5"), "r") as f:
        with pytest.raises(RuntimeError, match="read-only|writ"):
            arraymorph.write_chunks(f["d"], [((0, 0), 0, np.zeros(CHUNKS).tobytes())])
    with native_file(tmp_path / "n.h5", "w") as f:
        d = _dataset(f, {})
        with pytest.raises(RuntimeError, match="not an object opened through arraymorph"):
            arraymorph.write_chunks(d, [((0, 0), 0, np.zeros(CHUNKS).tobytes())])
