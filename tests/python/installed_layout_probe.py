"""Run by the packaging tests with the Python of an install prefix (conda, spack): reports, as one
JSON line, which arraymorph package and which library files this process really loads.

    HDF5_VOL_CONNECTOR=arraymorph HDF5_PLUGIN_PATH=<plugin dir> python installed_layout_probe.py STORE

HDF5 loads the connector by name from HDF5_PLUGIN_PATH when h5py initialises it (before
arraymorph is imported); arraymorph._core then links its libarraymorph. The report lists the
libarraymorph/libhdf5 files mapped afterwards (one each when both resolve to the same file), and
the Zarr codecs of a zstd and a blosc dataset written and read back through that connector.
"""

import json
import os
import re
import sys
from pathlib import Path

store = Path(sys.argv[1])
os.environ["ARRAYMORPH_LOCAL_ROOT"] = str(store)


def mapped(pattern: str) -> list:
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "/" in line}
    return sorted({os.path.realpath(p) for p in paths if re.search(pattern, os.path.basename(p))})


import h5py  # noqa: E402  (HDF5 starts and loads the connector named in HDF5_VOL_CONNECTOR)

loaded_by_hdf5 = mapped(r"^libarraymorph")

import hdf5plugin  # noqa: E402
import numpy as np  # noqa: E402

import arraymorph  # noqa: E402

data = np.tile(np.arange(500, dtype="i4"), 8)
with h5py.File("probe.h5", "w") as f:
    fapl = f.id.get_access_plist()  # kept: a temporary would close the list before the call
    assert arraymorph._core.fapl_uses_arraymorph(fapl.id)
    f.create_dataset("z", data=data, chunks=(1000,), **hdf5plugin.Zstd(clevel=3))
    f.create_dataset("b", data=data, chunks=(1000,), **hdf5plugin.Blosc(cname="lz4", clevel=5))
with h5py.File("probe.h5", "r") as f:
    for name in ("z", "b"):
        assert np.array_equal(f[name][...], data), name

codecs = {}
for name in ("z", "b"):
    meta = json.loads((store / "probe.h5" / name / "zarr.json").read_text())
    codecs[name] = [c["name"] for c in meta["codecs"]]

print(json.dumps({
    "package": str(Path(arraymorph.__file__).parent),
    "core": arraymorph._core.__file__,
    "plugin_dir": arraymorph.get_plugin_path(),
    "connector_loaded_by_hdf5": loaded_by_hdf5 == mapped(r"^libarraymorph") and len(loaded_by_hdf5) == 1,
    "libarraymorph_mapped": mapped(r"^libarraymorph"),
    "libhdf5_mapped": mapped(r"^libhdf5(-[0-9a-f]+)?\.so"),
    "codecs": codecs,
}))
