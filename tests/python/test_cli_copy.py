"""`arraymorph cp` against real stores (local, SeaweedFS, Azurite): whole-tree round trips compared
object by object, every option, --resume after lost chunks and after a real Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

import arraymorph
from cli_files import compare, make_native, open_native, run_cli, run_subprocess


@pytest.fixture
def native(tmp_path):
    return make_native(tmp_path / "source.h5")


def test_round_trip_native_store_native(backend, native, tmp_path, capsys):
    url = backend.url("copy.h5")
    code, _, err = run_cli("cp", native, url, "--progress", "none", "--memory", "1MiB", capsys=capsys)
    assert code == 0, err
    assert "copied" in err and "datasets" in err
    with open_native(native) as a, arraymorph.open(url, "r") as b:
        assert compare(a, b) == []
        assert "_arraymorph_cp_incomplete" not in b.attrs
    # Chunk objects exist per chunk, as written by the engine (not one object per dataset).
    assert any(k.startswith("copy.h5/grp/sub/gz/c/3/2") for k in backend.list_keys("copy.h5/"))
    back = str(tmp_path / "back.h5")
    code, _, err = run_cli("cp", url, back, "--progress", "none", capsys=capsys)
    assert code == 0, err
    with open_native(native) as a, open_native(back) as b:
        assert compare(a, b) == []


def _stored_chunks(path) -> dict:
    """Native dataset path -> (stored chunk count, filter ids) of the chunked fixed-size ones."""
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and obj.chunks and obj.dtype.kind != "O":  # not vlen/refs
            dcpl = obj.id.get_create_plist()
            filters = [dcpl.get_filter(i)[0] for i in range(dcpl.get_nfilters())]
            out["/" + name] = (obj.id.get_num_chunks(), filters)

    with open_native(path) as f:
        f.visititems(visit)
    return out


def test_cp_writes_chunks_undecoded_in_batches(backend, native, capsys, monkeypatch):
    """A plain cp into a store sends each chunked dataset's stored chunks through
    arraymorph.write_chunks (one call per batch, every chunk once), with no decompression and
    recompression: gzip chunks are re-framed, the others stored as given (stats' direct_chunks)."""
    expected = _stored_chunks(native)
    assert "/grp/sub/gz" in expected and "/numeric/i8" in expected and "/grp/lzf" in expected
    calls = []
    real = arraymorph.write_chunks

    def counting(dset, chunks):
        chunks = list(chunks)
        calls.append((dset.name, len(chunks)))
        real(dset, chunks)

    monkeypatch.setattr(arraymorph, "write_chunks", counting)
    arraymorph.reset_stats()
    code, _, err = run_cli("cp", native, backend.url("b.h5"), "--progress", "none", capsys=capsys)
    assert code == 0, err
    written = {}
    for name, n in calls:
        written[name] = written.get(name, 0) + n
    assert written == {k: n for k, (n, _) in expected.items() if n}
    gzip_chunks = sum(n for n, filters in expected.values() if h5py.h5z.FILTER_DEFLATE in filters)
    total = sum(n for n, _ in expected.values())
    # (equal, not at least: no chunk also went through write_direct_chunk, counted there too)
    assert arraymorph.stats()["direct_chunks"] == {"verbatim": total - gzip_chunks, "reframed": gzip_chunks,
                                                   "recoded": 0}
    with open_native(native) as a, arraymorph.open(backend.url("b.h5"), "r") as b:
        assert compare(a, b) == []


def test_store_to_store_and_verify(backend, native, capsys):
    first, second = backend.url("one.h5"), backend.url("two.h5")
    assert run_cli("cp", native, first, "--progress", "none", capsys=capsys)[0] == 0
    code, _, err = run_cli("cp", first, second, "--verify", "--progress", "none", capsys=capsys)
    assert code == 0, err
    assert "verified" in err
    with arraymorph.open(first, "r") as a, arraymorph.open(second, "r") as b:
        assert compare(a, b) == []


def test_cp_shard_stores_chunked_datasets_in_shards(backend, native, tmp_path, capsys):
    import zarr

    url = backend.url("sharded.h5")
    code, _, err = run_cli("cp", native, url, "--shard", "4", "--verify", "--progress", "none", capsys=capsys)
    assert code == 0, err
    with open_native(native) as a, arraymorph.open(url, "r") as b:
        assert compare(a, b) == []
        assert b["grp/sub/gz"].chunks == a["grp/sub/gz"].chunks  # HDF5 still sees the chunks
    gz = zarr.open_array(backend.zarr_store("sharded.h5", read_only=True), path="grp/sub/gz", mode="r")
    assert gz.shards == (128, 90)  # 4 x 3 chunks of (32, 30): capped at the extent's 3
    # Native destinations have no shards; --resume cannot check chunk objects of shards.
    assert run_cli("cp", url, str(tmp_path / "n.h5"), "--shard", "4", capsys=capsys)[0] != 0
    assert run_cli("cp", native, backend.url("r.h5"), "--shard", "4", "--resume", capsys=capsys)[0] != 0


def test_verify_detects_a_corrupted_chunk(backend, native, tmp_path, capsys, monkeypatch):
    """--verify compares what was re-read: a chunk changed behind the copy's back is reported."""
    from arraymorph.cli import copy as copy_mod

    url = backend.url("v.h5")
    real_run = copy_mod._run

    def run_then_corrupt(src_loc, src, dst_loc, dst, plan, opts, report):
        original = copy_mod.verify_mod.compare

        def corrupt_then_compare(s, d, p, budget):
            d["grp/raw"][5] = -99
            return original(s, d, p, budget)

        monkeypatch.setattr(copy_mod.verify_mod, "compare", corrupt_then_compare)
        return real_run(src_loc, src, dst_loc, dst, plan, opts, report)

    monkeypatch.setattr(copy_mod, "_run", run_then_corrupt)
    code, _, err = run_cli("cp", native, url, "--verify", "--progress", "none", capsys=capsys)
    assert code == 1
    assert "verify failed" in err and "/grp/raw" in err


def test_subset_rechunk_compression(backend, native, capsys):
    url = backend.url("subset.h5")
    code, _, err = run_cli("cp", f"{native}:/grp/sub", url, "--chunks", "/grp/sub/gz=60,45",
                           "--compression", "zstd:5", "--progress", "none", capsys=capsys)
    assert code == 0, err
    with open_native(native) as a, arraymorph.open(url, "r") as b:
        assert sorted(b) == ["grp"] and sorted(b["grp"]) == ["sub"]
        assert b["grp/sub/gz"].chunks == (60, 45)
        assert dict(h5py._hl.filters.get_filters(b["grp/sub/gz"].id.get_create_plist())) == {"32015": (5,)}
        assert compare(a, b, "/grp/sub", chunks=False) == []
    url2 = backend.url("rechunk.h5")
    code, _, err = run_cli("cp", native, url2, "--rechunk", "--chunk-size", "16KiB", "--compression", "none",
                           "--progress", "none", capsys=capsys)
    assert code == 0, err
    with open_native(native) as a, arraymorph.open(url2, "r") as b:
        gz = b["grp/sub/gz"]
        assert gz.compression is None and np.prod(gz.chunks) * 8 <= 16 << 10
        assert compare(a, b, chunks=False) == []


def test_dry_run_writes_nothing(backend, native, capsys):
    url = backend.url("dry.h5")
    code, out, err = run_cli("cp", native, url, "--dry-run", capsys=capsys)
    assert code == 0, err
    assert "dataset  /grp/sub/gz" in out and "link     /latest -> /grp/sub/gz" in out
    assert backend.list_keys("dry.h5") == []


def test_exists_overwrite(backend, native, tmp_path, capsys):
    url = backend.url("x.h5")
    assert run_cli("cp", native, url, "--progress", "none", capsys=capsys)[0] == 0
    code, _, err = run_cli("cp", native, url, capsys=capsys)
    assert code == 4 and "destination exists" in err and "Traceback" not in err
    with arraymorph.open(url, "r+") as f:
        f["grp/raw"][0] = 12345
        f.create_dataset("extra", data=[1])
    assert run_cli("cp", native, url, "--overwrite", "--progress", "none", capsys=capsys)[0] == 0
    with open_native(native) as a, arraymorph.open(url, "r") as b:
        assert compare(a, b) == []


def test_resume_rewrites_only_missing_or_damaged_chunks(backend, native, capsys):
    url = backend.url("r.h5")
    assert run_cli("cp", native, url, "--progress", "none", capsys=capsys)[0] == 0
    gz_keys = [k for k in backend.list_keys("r.h5/grp/sub/gz/c/")]
    raw_keys = [k for k in backend.list_keys("r.h5/numeric/i8/c/")]
    assert len(gz_keys) == 12 and len(raw_keys) == 4
    # Lose two gzip chunks; damage an uncompressed one (wrong size = not intact).
    from arraymorph import _core

    for key in gz_keys[:2]:
        assert _core.store_delete(url, key[len("r.h5/"):]) == 1
    backend.write_key(raw_keys[1], b"short")
    with open_native(native) as a, arraymorph.open(url, "r") as b:
        with pytest.raises(OSError, match="5 bytes"):
            b["numeric/i8"][...]
        assert not np.array_equal(a["grp/sub/gz"][...], b["grp/sub/gz"][...])
    code, _, err = run_cli("cp", native, url, "--resume", "--progress", "none", capsys=capsys)
    assert code == 0, err
    # Written again: the 3 lost/damaged chunks, plus the 3 chunks of data copied through Python
    # objects (/scalar, /strings/vlen), which --resume always rewrites whole.
    skipped = int(err.split(" already stored")[0].rsplit(", ", 1)[1])
    written = int(err.split(" chunks, ")[0].rsplit(", ", 1)[1])
    assert written - skipped == 3 + 3
    with open_native(native) as a, arraymorph.open(url, "r") as b:
        assert compare(a, b) == []


def test_interrupted_copy_then_resume(backend, tmp_path):
    """A real Ctrl-C (SIGINT to the process) mid-copy: exit 130, the file opens and says which
    datasets are partial; --resume completes it with content identical to the source."""
    src = str(tmp_path / "big.h5")
    rng = np.random.default_rng(1)
    with open_native(src, "w") as f:
        for i in range(3):
            f.create_dataset(f"d{i}", data=rng.integers(0, 1 << 30, size=(256, 4096)), chunks=(16, 4096),
                             compression="gzip", compression_opts=1)
    url = backend.url("big.h5")
    env = dict(os.environ, ARRAYMORPH_PROGRESS="plain")
    proc = subprocess.Popen([sys.executable, "-m", "arraymorph", "cp", src, url, "--memory", "4MiB"],
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    first = proc.stderr.readline()
    while "progress:" not in first or " 0 B /" in first:
        assert first, "copy ended before any progress"
        first = proc.stderr.readline()
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    assert proc.wait(timeout=120) == 130, rest
    assert "interrupted" in rest and "partial datasets" in rest and "--resume" in rest
    assert "Traceback" not in rest
    listing = run_subprocess("ls", url)
    assert listing.returncode == 0 and "incomplete copy" in listing.stdout
    with arraymorph.open(url, "r") as f:  # consistent: every dataset listed and readable
        assert sorted(f) == ["d0", "d1", "d2"]
        marker = json.loads(f.attrs["_arraymorph_cp_incomplete"])
        assert marker["state"] == "interrupted" and (marker["partial"] or marker["not_started"])
    done = run_subprocess("cp", src, url, "--resume", "--progress", "plain", env=env)
    assert done.returncode == 0, done.stderr
    assert "already stored" in done.stderr
    with open_native(src) as a, arraymorph.open(url, "r") as b:
        assert compare(a, b) == []
        assert "_arraymorph_cp_incomplete" not in b.attrs


def test_large_copy_uses_read_ahead_process_and_slabs(backend, tmp_path, capsys):
    """Values larger than the memory bound are copied exactly through the read-ahead process."""
    src = str(tmp_path / "slabs.h5")
    data = np.arange(300 * 1000, dtype="f8").reshape(300, 1000)
    with open_native(src, "w") as f:
        f.create_dataset("a", data=data, chunks=(7, 130))
        f.create_dataset("b", data=data.T.copy())  # contiguous: chunked by the store's rule
    url = backend.url("slabs.h5")
    code, _, err = run_cli("cp", src, url, "--memory", "1MiB", "--progress", "none", capsys=capsys)
    assert code == 0, err
    with arraymorph.open(url, "r") as f:
        np.testing.assert_array_equal(f["a"][...], data)
        np.testing.assert_array_equal(f["b"][...], data.T)
        assert f["b"].chunks is None  # still contiguous for HDF5


def test_unsupported_object_is_reported_and_the_rest_copied(backend, tmp_path, capsys):
    """A dataset the store cannot hold (references next to variable-length strings in a compound)
    fails the command with its name; every other object is still copied (a null-dataspace one too)."""
    src = str(tmp_path / "odd.h5")
    with open_native(src, "w") as f:
        f.create_dataset("odd", shape=(2,), dtype=np.dtype([("r", h5py.ref_dtype), ("s", h5py.string_dtype())]))
        f.create_dataset("fine", data=np.arange(5), chunks=(2,))
        f.create_dataset("empty", data=h5py.Empty("f8"))
    url = backend.url("odd.h5")
    code, _, err = run_cli("cp", src, url, "--progress", "none", capsys=capsys)
    assert code == 1 and "/odd" in err and "not created" in err
    with arraymorph.open(url, "r") as f:
        np.testing.assert_array_equal(f["fine"][...], np.arange(5))
        assert f["empty"].shape is None


def test_references_dimension_scales_track_order(backend, tmp_path, capsys):
    """What the semantics work made storable is copied: object references (attribute and
    dataset, pointing at the same paths in the copy), dimension scales with labels, and creation
    order; and back to a native file."""
    src = str(tmp_path / "sem.h5")
    with open_native(src, "w") as f:
        g = f.create_group("ordered", track_order=True)
        for name in ("zeta", "alpha", "mid"):
            g.create_dataset(name, data=[1])
        time = f.create_dataset("time", data=np.arange(4.0))
        x = f.create_dataset("x", data=np.arange(8.0).reshape(4, 2), chunks=(2, 2))
        time.make_scale("time")
        x.dims[0].attach_scale(time)
        x.dims[0].label = "t"
        x.attrs["see"] = time.ref
        refs = f.create_dataset("refs", shape=(2,), dtype=h5py.ref_dtype)
        refs[0], refs[1] = x.ref, g.ref
    url = backend.url("sem.h5")
    code, _, err = run_cli("cp", src, url, "--progress", "none", "--strict", capsys=capsys)
    assert code == 0, err
    back = str(tmp_path / "back.h5")
    assert run_cli("cp", url, back, "--progress", "none", "--strict", capsys=capsys)[0] == 0
    for f in (arraymorph.open(url, "r"), open_native(back)):
        with f:
            assert list(f["ordered"]) == ["zeta", "alpha", "mid"]
            assert f["x"].dims[0].label == "t"
            assert [s.name for s in f["x"].dims[0].values()] == ["/time"]
            assert f[f["x"].attrs["see"]].name == "/time"
            assert [f[r].name for r in f["refs"][...]] == ["/x", "/ordered"]


def test_raw_batches_fill_the_read_ahead_buffer_by_stored_bytes():
    """Undecoded chunk batches are cut by the chunks' stored sizes: every chunk once, in grid
    order, each batch within the buffer (a chunk alone may exceed it), compressed chunks packed
    more densely than their logical size would allow."""
    from arraymorph.cli.chunk_copy import raw_batches

    budget = 1 << 20
    sizes = {(i, j): (i * 7919 + j * 104729) % 200_000 + 1 for i in range(9) for j in range(5)}
    batches = raw_batches(list(sizes.items())[::-1], budget)
    assert [c for b in batches for c in b] == sorted(sizes)
    for b in batches:
        assert len(b) == 1 or sum(sizes[c] * 1.25 + 4096 for c in b) <= budget
    # the next chunk did not fit: no batch was cut early
    for b, nxt in zip(batches, batches[1:]):
        assert sum(sizes[c] * 1.25 + 4096 for c in b + nxt[:1]) > budget
    assert raw_batches([((0,), 5 * budget)], budget) == [((0,),)]
    assert raw_batches([], budget) == []
