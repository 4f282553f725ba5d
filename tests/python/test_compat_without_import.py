"""With only HDF5_VOL_CONNECTOR/HDF5_PLUGIN_PATH set (no `import arraymorph`), the plugin makes
arraymorph's h5py compatibility layer active: iteration, `in`, visit (h5py's 1.10-API calls that
HDF5 refuses for non-native connectors) work, and a BytesIO goes to the native connector. Before,
each of these failed (or, for the BytesIO, wrote to a stray object key)."""

import os
import subprocess
import sys

import pytest

CODE = """
import io, sys
import h5py
f = h5py.File({url!r}, "w")
f.create_group("g")["x"] = [1, 2, 3]
f["y"] = 5
seen = []
f.visit(seen.append)
print("in", "g" in f, "x" in f)
print("iter", sorted(f), sorted(seen))
f.close()
bio = io.BytesIO()
with h5py.File(bio, "w") as g:
    g["z"] = 1
print("bytesio", bio.getvalue()[:4] == b"\\x89HDF")
print("imported", "arraymorph" in sys.modules)
"""


@pytest.mark.parametrize("compat", ["on", "off"])
def test_layer_active_with_environment_only(backend, compat):
    env = dict(os.environ)
    if compat == "off":
        env["ARRAYMORPH_PYTHON_COMPAT"] = "0"
    out = subprocess.run([sys.executable, "-c", CODE.format(url=backend.url("c.h5"))], env=env,
                         capture_output=True, text=True, timeout=180)
    if compat == "on":
        assert out.returncode == 0, out.stderr
        assert out.stdout.split("\n")[:4] == ["in True False", "iter ['g', 'y'] ['g', 'g/x', 'y']",
                                              "bytesio True", "imported True"]
    else:  # the old behaviour, kept behind the switch: h5py's 1.10-API iteration is refused
        assert out.returncode != 0
        assert "arraymorph" not in out.stdout
