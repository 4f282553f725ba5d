"""Quickstart: plain h5py code, stored by arraymorph as Zarr v3 objects in a local store.

Run it through ``bash scripts/quickstart.sh`` (which sets up everything), or by hand::

    STORAGE_PLATFORM=Local ARRAYMORPH_LOCAL_ROOT=/tmp/am python examples/quickstart.py

With STORAGE_PLATFORM=S3 + configure_s3(...) (or the AWS_* variables) the same code writes to a
bucket instead.
"""

import os

import arraymorph

arraymorph.enable()  # HDF5_PLUGIN_PATH + HDF5_VOL_CONNECTOR=arraymorph, also for h5py.File below

import h5py  # noqa: E402
import numpy as np  # noqa: E402

root = os.environ.get("ARRAYMORPH_LOCAL_ROOT", os.getcwd())

data = np.arange(40 * 30, dtype="float32").reshape(40, 30) / 10
labels = np.arange(100, dtype="int64")

# Ordinary h5py: "demo.h5" is a key prefix in the store, each 10x10 chunk one object.
with h5py.File("demo.h5", "w") as f:
    f.create_dataset("data", data=data, chunks=(10, 10))
    f.create_dataset("labels", data=labels, chunks=(25,))

with h5py.File("demo.h5", "r") as f:
    block = f["data"][5:15, 5:15]
    print(f"data: shape={f['data'].shape} dtype={f['data'].dtype} chunks={f['data'].chunks}")
    print("data[5:15, 5:15] =")
    print(block)
    assert np.array_equal(block, data[5:15, 5:15]), "read back differs from what was written"
    assert np.array_equal(f["labels"][::10], labels[::10])
print("read back OK: equals what was written")

print(f"\nobjects stored under {root}:")
for dirpath, _dirs, files in sorted(os.walk(root)):
    for name in sorted(files):
        path = os.path.join(dirpath, name)
        print(f"  {os.path.relpath(path, root):<28} {os.path.getsize(path):>7} bytes")
print(f"\nrequests made: {arraymorph.stats()['put']['requests']} PUT, "
      f"{arraymorph.stats()['get']['requests']} GET")
