"""Shared pytest set-up for the arraymorph Python suites.

Session set-up runs at import of this file, before any test module imports h5py: HDF5 reads
HDF5_PLUGIN_PATH / HDF5_VOL_CONNECTOR once, when the library initialises, so setting them here
makes every h5py call in the session go through arraymorph exactly as a user's
``export HDF5_VOL_CONNECTOR=arraymorph`` would.

Fixtures:
- ``backend``: one fresh store per parameter of ``BACKENDS``: "local" (a directory in tmp_path),
  "s3" (a unique key prefix in one bucket of a SeaweedFS started once per session, SigV4
  enforced) and "azure" (a new container on an Azurite started once per session, SharedKey
  enforced). Each gives ``.name``, ``.url(name)``, ``.root``, ``.list_keys(prefix)`` (keys
  relative to the store), ``.read_key(key)``, ``.write_key(key, data)`` and
  ``.zarr_store(path, read_only)`` (a zarr-python store rooted at a file, e.g. "demo.h5", for
  interop tests on every backend: LocalStore, or zarr's ObjectStore over obstore); the S3 and Azure
  ones also set their environment variables for the test (restored by ``_isolate``). A server
  that cannot start makes its tests fail (fixture error), never skip.
- ``seaweedfs`` / ``azurite`` (session): the running servers themselves.
- ``local_root``: plain file names ("demo.h5") go to a fresh local store in tmp_path.
- ``_isolate`` (autouse): every test starts from the session's environment and the connector's
  default configuration, whatever the previous test set.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import uuid
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers.azurite import ACCOUNT as AZURE_ACCOUNT  # noqa: E402
from servers.azurite import ACCOUNT_KEY as AZURE_ACCOUNT_KEY  # noqa: E402
from servers.azurite import AzureBackend, Azurite  # noqa: E402
from servers.seaweedfs import SeaweedFS  # noqa: E402


def _plugin_dir() -> str:
    """arraymorph.get_plugin_path() without importing arraymorph (which imports h5py)."""
    spec = importlib.util.find_spec("arraymorph")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("arraymorph is not installed in this Python (run scripts/test.sh)")
    return str(Path(list(spec.submodule_search_locations)[0]).resolve() / "lib")


# Cloud variables from the developer's shell would silently switch the default store to S3.
for _name in ("STORAGE_PLATFORM", "BUCKET_NAME", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL",
              "AZURE_STORAGE_CONNECTION_STRING", "ARRAYMORPH_LOCAL_ROOT", "AZURE_STORAGE_ACCOUNT",
              "AZURE_STORAGE_ACCOUNT_NAME", "ARRAYMORPH_AZURE_CREDENTIAL", "AZURE_TENANT_ID",
              "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_AUTHORITY_HOST",
              "AZURE_FEDERATED_TOKEN_FILE", "AZURE_POD_IDENTITY_AUTHORITY_HOST", "IDENTITY_ENDPOINT",
              "IDENTITY_HEADER", "ARRAYMORPH_AZURE_CA_BUNDLE"):
    os.environ.pop(_name, None)
os.environ["HDF5_PLUGIN_PATH"] = _plugin_dir()
os.environ["HDF5_VOL_CONNECTOR"] = "arraymorph"

import arraymorph  # noqa: E402  (after the environment above, on purpose)

assert arraymorph.get_plugin_path() == os.environ["HDF5_PLUGIN_PATH"]


# Modules that need the source build: the CMake build tree (C++ test tools, C examples), the HDF5
# API test suite built against the bootstrapped HDF5, MPI, or the packaging scripts. They carry
# the `source_build` marker, which the wheel matrix deselects (scripts/test_wheels.sh).
SOURCE_BUILD_MODULES = {"test_s3_store.py", "test_hdf5_api_suite.py", "test_packaging.py",
                        "test_parallel_hdf5_c.py", "test_mpi_bench_smoke.py"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SOURCE_BUILD_MODULES:
            item.add_marker(pytest.mark.source_build)


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

    def read_key(self, key: str) -> Optional[bytes]:
        """Bytes of the object ``key`` (relative to the root), or None if it does not exist."""
        path = self.root / key
        return path.read_bytes() if path.is_file() else None

    def write_key(self, key: str, data: bytes) -> None:
        """Store ``data`` as object ``key`` (relative to the root), behind the connector's back."""
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def zarr_store(self, path: str = "", read_only: bool = False):
        """A zarr-python store whose root is ``path`` (e.g. ``"demo.h5"``) in this store."""
        import zarr

        return zarr.storage.LocalStore(self.root / path, read_only=read_only)


# ------------------------------------------------------------------------------ servers
# No profile or credentials of the machine may leak into the cloud backends.
_NO_AWS_FILES = {"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
                 "AWS_CONFIG_FILE": "/nonexistent/config"}


@pytest.fixture(scope="session")
def seaweedfs():
    """One SeaweedFS (``weed mini``, SigV4 on) for the whole session; fails if it cannot start."""
    server = SeaweedFS()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def azurite():
    """One Azurite (SharedKey on) for the whole session; fails if it cannot start."""
    server = Azurite()
    server.start()
    yield server
    server.stop()


def _test_slug(request) -> str:
    """A short, key- and container-safe form of the test's name, for finding leftovers."""
    return re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40] or "t"


class S3Backend:
    """A unique key prefix in the session's SeaweedFS bucket, used as an ``s3://`` store.

    ``url(name)`` is ``s3://<bucket>/<prefix>/<name>``; ``list_keys`` and friends take keys
    relative to that prefix, as LocalBackend's are relative to its root.
    """

    name = "s3"

    def __init__(self, server: SeaweedFS, prefix: str) -> None:
        self.server = server
        self.bucket = server.bucket
        self.prefix = prefix
        self.root = f"{self.bucket}/{prefix}"
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = self.server.client()
        return self._client

    def url(self, name: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}/{name}"

    def env(self) -> Dict[str, str]:
        env = self.server.env()
        env.update(_NO_AWS_FILES)
        return env

    def list_keys(self, prefix: str = "") -> List[str]:
        full = f"{self.prefix}/"
        keys = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=full + prefix):
            keys += [o["Key"][len(full):] for o in page.get("Contents", [])]
        return sorted(keys)

    def read_key(self, key: str) -> Optional[bytes]:
        try:
            return self.client.get_object(Bucket=self.bucket,
                                          Key=f"{self.prefix}/{key}")["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def write_key(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}", Body=data)

    def zarr_store(self, path: str = "", read_only: bool = False):
        import obstore.store
        import zarr

        srv = self.server
        store = obstore.store.S3Store(
            self.bucket, prefix=f"{self.prefix}/{path}".rstrip("/"), endpoint=srv.endpoint,
            access_key_id=srv.access_key, secret_access_key=srv.secret_key, region=srv.region,
            virtual_hosted_style_request=False, client_options={"allow_http": True})
        return zarr.storage.ObjectStore(store, read_only=read_only)


class _AzureBackend(AzureBackend):
    """servers.azurite.AzureBackend plus the LocalBackend extras (read_key, write_key)."""

    def read_key(self, key: str) -> Optional[bytes]:
        return self.server.get_blob(self.container, key)

    def write_key(self, key: str, data: bytes) -> None:
        self.server.put_blob(self.container, key, data)

    def zarr_store(self, path: str = "", read_only: bool = False):
        import obstore.store
        import zarr

        store = obstore.store.AzureStore(
            self.container, prefix=path or None, account_name=AZURE_ACCOUNT,
            account_key=AZURE_ACCOUNT_KEY, endpoint=self.server.blob_endpoint,
            client_options={"allow_http": True})
        return zarr.storage.ObjectStore(store, read_only=read_only)


def _s3_backend(request, tmp_path) -> S3Backend:
    server = request.getfixturevalue("seaweedfs")
    b = S3Backend(server, f"{_test_slug(request)}-{uuid.uuid4().hex[:10]}")
    os.environ.update(b.env())
    return b


def _azure_backend(request, tmp_path) -> AzureBackend:
    server = request.getfixturevalue("azurite")
    # Container names: 3-63 of [a-z0-9-], starting with a letter or digit, no "--".
    slug = re.sub(r"-+", "-", _test_slug(request))[:30].strip("-")
    b = _AzureBackend(server, f"am-{slug}-{uuid.uuid4().hex[:12]}")
    os.environ.pop("AZURE_STORAGE_SAS_TOKEN", None)
    os.environ.update(b.env())
    return b


# name -> factory(request, tmp_path). An S3 or Azure entry starts (or reuses) its server through
# request.getfixturevalue(...) and returns an object with the same three members.
BACKENDS: Dict[str, Callable] = {
    "local": lambda request, tmp_path: LocalBackend(tmp_path / "store"),
    "s3": _s3_backend,
    "azure": _azure_backend,
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
