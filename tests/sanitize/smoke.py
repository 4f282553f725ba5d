"""Python subset run under ASan+UBSan (scripts/sanitize.sh): h5py through the sanitized plugin.

No `import arraymorph` on purpose: the installed package links the regular build; HDF5 loads the
sanitized plugin from HDF5_PLUGIN_PATH. Covers create/read/write of several types and codecs,
attributes, groups, resize, deletion, the commit protocol, the write lock, two handles of one
file closed one after the other, repeated open/close (the path of the intermittent H5Fclose
crash), and hostile documents, on the local store; then, when SeaweedFS is installed, the
round trips again over S3 (the libcurl transport's threads, signing, checksums). Any sanitizer
report aborts the process (non-zero exit).
"""

import json
import os
import sys
from pathlib import Path

# The ASan runtime is loaded into this process already; servers started below must not get it.
os.environ.pop("LD_PRELOAD", None)

import h5py  # noqa: E402
import numpy as np  # noqa: E402

root = Path(os.environ["ARRAYMORPH_LOCAL_ROOT"])
NUMERIC = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64"]


def round_trips(url_of, rounds: int) -> None:
    """test_h5py_datasets.py::test_numeric_dtypes_round_trip, several times over."""
    for r in range(rounds):
        for dtype in NUMERIC:
            info = np.iinfo(dtype) if dtype[0] in "iu" else np.finfo(dtype)
            data = np.linspace(info.min / 2, info.max / 2, 60).astype(dtype).reshape(6, 10)
            url = url_of(f"{dtype}-{r}.h5")
            with h5py.File(url, "w") as f:
                f.create_dataset("d", data=data, chunks=(4, 3))
            with h5py.File(url, "r") as f:
                check((f["d"][...] == data).all(), f"{dtype} round trip")


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAILED: {what}")


with h5py.File("s.h5", "w") as f:
    f.create_dataset("i", data=np.arange(1000, dtype="i4").reshape(10, 100), chunks=(3, 7))
    f.create_dataset("g", data=np.linspace(0, 1, 5000), chunks=(512,), compression="gzip", shuffle=True)
    f.create_dataset("s", data=np.array(["a", "bb", "ccc"], dtype=object), dtype=h5py.string_dtype())
    f.create_dataset("r", shape=(4,), maxshape=(None,), dtype="f8", chunks=(2,))
    f["r"].resize((9,))
    f["r"][:] = np.arange(9)
    grp = f.create_group("a/b")
    grp.attrs["x"] = 1
    grp.attrs["v"] = [1.5, 2.5]
    grp.attrs["t"] = "text"
    f.attrs["compound"] = np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")])
    f.create_dataset("gone", data=[1])
    del f["gone"]

with h5py.File("s.h5", "r") as f:
    check(list(f) == ["a", "g", "i", "r", "s"], f"listing {list(f)}")
    check((f["i"][...] == np.arange(1000).reshape(10, 100)).all(), "int data")
    check(np.allclose(f["g"][100:200], np.linspace(0, 1, 5000)[100:200]), "gzip data")
    check(list(f["s"].asstr()[...]) == ["a", "bb", "ccc"], "strings")
    check((f["r"][...] == np.arange(9)).all(), "resized data")
    check(f["a/b"].attrs["x"] == 1 and f["a/b"].attrs["t"] == "text", "attributes")

# A second writer from this process shares the open file; "w" on it is refused.
f1 = h5py.File("s.h5", "r+")
f2 = h5py.File("s.h5", "r+")
f1.create_dataset("shared", data=[7])
check("shared" in f2, "shared state")
try:
    h5py.File("s.h5", "w")
    check(False, "'w' on an open file was accepted")
except OSError:
    pass
f2.close()
f1.close()

# Two handles: closing one closes only the objects opened through it (per-handle tracking).
f1 = h5py.File("s.h5", "r+")
f2 = h5py.File("s.h5", "r+")
g1, g2 = f1["a"], f2["a"]
g1.create_dataset("via1", data=[1, 2])
f1.close()
check(not g1.id.valid and g2.id.valid, "closing one handle closed the other's objects")
check(list(g2["via1"][...]) == [1, 2], "the other handle sees the first one's writes")
f2.close()

round_trips(lambda name: name, 3)

# Hostile documents: every one an error, none a crash.
meta = root / "s.h5" / "zarr.json"
doc = json.loads(meta.read_text())
doc.pop("consolidated_metadata", None)
meta.write_text(json.dumps(doc))
(root / "s.h5" / "i" / "zarr.json").write_text(
    (root / "s.h5" / "i" / "zarr.json").read_text().replace('"shape": [\n    10,', '"shape": [\n    -10,'))
(root / "s.h5" / "g" / "zarr.json").write_text("{broken")
deep = json.loads((root / "s.h5" / "a" / "zarr.json").read_text())
deep["attributes"]["deep"] = "X"
(root / "s.h5" / "a" / "zarr.json").write_text(json.dumps(deep).replace('"X"', "[" * 50000 + "]" * 50000))
chunk = root / "s.h5" / "r" / "c" / "1"
chunk.write_bytes(chunk.read_bytes()[:3])
with h5py.File("s.h5", "r") as f:
    check(sorted(f) == ["a", "g", "i", "r", "s", "shared"], f"listing with corrupt children {list(f)}")
    for name in ("i", "g", "a"):
        try:
            f[name]
            check(name == "i", f"hostile {name} opened")  # "i": shape edit may not match the layout
        except (OSError, KeyError, ValueError, RuntimeError):
            pass
    try:
        f["r"][...]
        check(False, "truncated chunk returned as data")
    except OSError:
        pass
print("sanitizer smoke (local): OK")

# The same over S3 (SeaweedFS on 127.0.0.1), when it is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
try:
    from servers.seaweedfs import SeaweedFS, find_weed

    find_weed()
except (ImportError, RuntimeError) as e:
    print(f"sanitizer smoke (S3): skipped ({e})")
    raise SystemExit(0)
with SeaweedFS(bucket="sanitize-smoke") as s3:
    os.environ.update(s3.env(AWS_SHARED_CREDENTIALS_FILE="/nonexistent", AWS_CONFIG_FILE="/nonexistent"))
    round_trips(lambda name: f"s3://{s3.bucket}/{name}", 2)
    with h5py.File(f"s3://{s3.bucket}/attrs.h5", "w") as f:
        f.attrs["x"] = np.arange(3)
        f.create_dataset("z", data=np.arange(10000.0), chunks=(1000,), compression="gzip")
    with h5py.File(f"s3://{s3.bucket}/attrs.h5", "r") as f:
        check((f["z"][...] == np.arange(10000.0)).all() and list(f.attrs["x"]) == [0, 1, 2], "S3 data")
    print("sanitizer smoke (S3): OK")

