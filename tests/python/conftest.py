"""Shared pytest set-up for the arraymorph Python suites.

Session set-up runs at import of this file, before any test module imports h5py: HDF5 reads
HDF5_PLUGIN_PATH / HDF5_VOL_CONNECTOR once, when the library initialises, so setting them here
makes every h5py call in the session go through arraymorph exactly as a user's
``export HDF5_VOL_CONNECTOR=arraymorph`` would.

Fixtures:
- ``backend``: one store per parameter ("local" now; S3 and Azure add one entry each to
  ``BACKENDS``), giving ``.url(name)``, ``.root`` and ``.list_keys(prefix)``.
- ``local_root``: plain file names ("demo.h5") go to a fresh local store in tmp_path.
- ``_isolate`` (autouse): every test starts from the session's environment and the connector's
  default configuration, whatever the previous test set.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Callable, Dict, List

import pytest


def _plugin_dir() -> str:
    """arraymorph.get_plugin_path() without importing arraymorph (which imports h5py)."""
    spec = importlib.util.find_spec("arraymorph")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("arraymorph is not installed in this Python (run scripts/test.sh)")
    return str(Path(list(spec.submodule_search_locations)[0]).resolve() / "lib")


# Cloud variables from the developer's shell would silently switch the default store to S3.
for _name in ("STORAGE_PLATFORM", "BUCKET_NAME", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL",
              "AZURE_STORAGE_CONNECTION_STRING", "ARRAYMORPH_LOCAL_ROOT"):
    os.environ.pop(_name, None)
os.environ["HDF5_PLUGIN_PATH"] = _plugin_dir()
os.environ["HDF5_VOL_CONNECTOR"] = "arraymorph"

import arraymorph  # noqa: E402  (after the environment above, on purpose)

assert arraymorph.get_plugin_path() == os.environ["HDF5_PLUGIN_PATH"]


@pytest.fixture(autouse=True)
def _isolate():
    """Restore os.environ and the connector's explicit configuration after each test."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    arraymorph.reset_configuration()


class LocalBackend:
    """A fresh directory used as a local-filesystem object store (``file://`` URLs)."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def url(self, name: str) -> str:
        """URL of a new file ``name`` in this store."""
        return f"file://{self.root}/{name}"

    def list_keys(self, prefix: str = "") -> List[str]:
        """Sorted keys (``/``-separated, relative to the root) that start with ``prefix``."""
        keys = []
        for dirpath, _dirs, files in os.walk(self.root):
            for f in files:
                key = Path(dirpath, f).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)


# name -> factory(request, tmp_path). An S3 or Azure entry starts (or reuses) its server through
# request.getfixturevalue(...) and returns an object with the same three members.
BACKENDS: Dict[str, Callable] = {
    "local": lambda request, tmp_path: LocalBackend(tmp_path / "store"),
}


@pytest.fixture(params=list(BACKENDS))
def backend(request, tmp_path):
    """A fresh, empty store of each available kind."""
    yield BACKENDS[request.param](request, tmp_path)


@pytest.fixture
def local_root(tmp_path, monkeypatch):
    """Make plain names (``h5py.File("demo.h5", "w")``) land in tmp_path; yields tmp_path."""
    monkeypatch.setenv("STORAGE_PLATFORM", "Local")
    monkeypatch.setenv("ARRAYMORPH_LOCAL_ROOT", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
