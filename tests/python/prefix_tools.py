"""Helpers of the packaging tests (test_packaging.py: conda, test_packaging_spack.py: spack):
subprocesses with a controlled environment, a Python environment inside an install prefix, and
the checks every packaged install must pass (the quickstart runs; Python and HDF5 use the one
libarraymorph of that prefix; zstd and blosc are compiled in).

Every subprocess gets an environment without this session's HDF5_VOL_CONNECTOR /
HDF5_PLUGIN_PATH (conftest.py sets both) or store selection, so each test states exactly how the
plugin is found.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).resolve().parent / "installed_layout_probe.py"
BUILD_TIMEOUT = 1200  # a cold build of the library on 2 shared cores takes several minutes


def hdf5_dir() -> str:
    hdf5 = os.environ.get("HDF5_DIR")
    assert hdf5 and Path(hdf5, "include", "hdf5.h").is_file(), \
        "HDF5_DIR must name the bootstrapped HDF5 (source ~/.cache/arraymorph/env.sh)"
    return hdf5


def clean_env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("HDF5_VOL_CONNECTOR", "HDF5_PLUGIN_PATH", "STORAGE_PLATFORM",
                        "ARRAYMORPH_LOCAL_ROOT", "PYTHONPATH", "VIRTUAL_ENV")}
    env.update(extra)
    return env


def run(cmd: List[object], env: Dict[str, str], cwd: Optional[Path] = None,
        timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, (
        f"{' '.join(proc.args)} -> exit {proc.returncode}\n"
        f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}")
    return proc.stdout


def shared_site_packages() -> str:
    """site-packages of the bootstrapped venv: h5py built against the bootstrapped HDF5, numpy,
    pip, nanobind, scikit-build-core, hdf5plugin."""
    venv = os.environ.get("ARRAYMORPH_VENV")
    assert venv, "ARRAYMORPH_VENV must name the bootstrapped venv (source ~/.cache/arraymorph/env.sh)"
    out = ok(run([Path(venv, "bin", "python"), "-c",
                  "import sysconfig; print(sysconfig.get_paths()['purelib'])"], clean_env()))
    return out.strip()


def python_in_prefix(prefix: Path) -> Path:
    """Makes `prefix` a Python environment the way conda's $PREFIX is one ($PREFIX/bin/python,
    packages in $PREFIX/lib/pythonX.Y/site-packages): a venv created in place whose site-packages
    chain (a .pth file) to the bootstrapped venv's, like scripts/_install_package.sh's _dev_venv.
    Packages installed into the prefix shadow the chained ones."""
    base = Path(os.environ["ARRAYMORPH_VENV"], "bin", "python")
    ok(run([base, "-m", "venv", "--without-pip", prefix], clean_env()))
    python = prefix / "bin" / "python"
    site = Path(ok(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                       clean_env())).strip())
    assert site.is_relative_to(prefix), site
    (site / "_arraymorph_shared_venv.pth").write_text(shared_site_packages() + "\n")
    return python


def site_packages(prefix: Path) -> Path:
    """<prefix>/lib/pythonX.Y/site-packages for this interpreter's X.Y (spack's python_platlib)."""
    rel = Path(sysconfig.get_path("platlib")).relative_to(sysconfig.get_path("data"))
    return prefix / rel


def run_quickstart(python: Path, tmp_path: Path, env: Dict[str, str]) -> Path:
    """examples/quickstart.py, verbatim, with `python`, into a local store; returns the store."""
    store = tmp_path / "quickstart-store"
    store.mkdir()
    out = ok(run([python, ROOT / "examples" / "quickstart.py"],
                 dict(env, STORAGE_PLATFORM="Local", ARRAYMORPH_LOCAL_ROOT=str(store)),
                 cwd=tmp_path, timeout=300))
    assert "data: shape=(40, 30) dtype=float32 chunks=(10, 10)" in out
    assert "read back OK: equals what was written" in out
    # 40x30 float32 in 10x10 chunks: 4x3 objects; labels 100 int64 in chunks of 25: 4 objects.
    chunks = sorted(p.relative_to(store / "demo.h5").as_posix()
                    for p in (store / "demo.h5").rglob("c/*/*") if p.is_file())
    assert chunks == [f"data/c/{i}/{j}" for i in range(4) for j in range(3)]
    assert sorted(p.name for p in (store / "demo.h5" / "labels" / "c").iterdir()) == \
        ["0", "1", "2", "3"]
    assert "requests made: " in out and " PUT, " in out
    return store


def probe(python: Path, tmp_path: Path, env: Dict[str, str]) -> dict:
    """Runs installed_layout_probe.py with `python`: what the installed package really loads."""
    store = tmp_path / "probe-store"
    store.mkdir()
    out = ok(run([python, PROBE, store], env, cwd=tmp_path, timeout=300))
    return json.loads(out.splitlines()[-1])


def assert_one_library(info: dict, prefix: Path, python_dir: Path) -> None:
    """The installed package is the one in `python_dir` and, with HDF5, uses exactly one
    libarraymorph: the regular file in `prefix`/lib (no copy anywhere in the prefix)."""
    real = (prefix / "lib" / "libarraymorph.so").resolve()
    assert real.is_file() and real.parent == prefix / "lib"
    copies = sorted(str(p) for p in prefix.rglob("libarraymorph*")
                    if p.is_file() and not p.is_symlink())
    assert copies == [str(real)], f"more than one libarraymorph file in the prefix: {copies}"

    assert Path(info["package"]).is_relative_to(python_dir), info["package"]
    assert Path(info["core"]).parent == Path(info["package"]), info["core"]
    assert not (Path(info["package"]) / "lib").exists()
    assert info["plugin_dir"] == str(prefix / "lib" / "hdf5" / "plugin")
    assert Path(info["plugin_dir"], "libarraymorph.so").resolve() == real
    # Mapped once, from that file: _core's link and HDF5's plugin load are one object.
    assert info["libarraymorph_mapped"] == [str(real)]
    assert len(info["libhdf5_mapped"]) == 1, info["libhdf5_mapped"]
    assert info["connector_loaded_by_hdf5"] is True
    # Both codecs the packages promise are compiled in (the data went through them).
    assert info["codecs"] == {"z": ["bytes", "zstd"], "b": ["bytes", "blosc"]}, info["codecs"]


def python_version_tag() -> str:
    return f"python{sys.version_info.major}.{sys.version_info.minor}"
