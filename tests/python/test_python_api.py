"""The public Python API: arraymorph.enable/get_plugin_path/configure*/stats/open/_core."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import version as dist_version
from pathlib import Path

import h5py
import numpy as np
import pytest

import arraymorph
from arraymorph import _core, _native

STAT_OPS = {"get", "put", "head", "list", "delete"}
OP_FIELDS = {"requests", "bytes", "retries", "errors", "not_found"}


def _all_counts(s: dict) -> list:
    counts = [v for op in STAT_OPS for v in s[op].values()]
    return (counts + list(s["cache"].values()) + list(s["zero_copy"].values())
            + list(s["direct_chunks"].values()) + list(s["readahead"].values()) + list(s["codec"].values())
            + [s["max_inflight_seen"]])


# ----------------------------------------------------------------------------- version, plugin
def test_version_is_the_library_and_distribution_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", arraymorph.__version__)
    assert arraymorph.__version__ == _core.version()
    assert arraymorph.__version__ == dist_version("arraymorph")


def _implementation_series() -> str:
    """The wheel's implementation folder suffix for the running HDF5 ("1_14" or "2")."""
    return arraymorph._hdf5_series(h5py.version.hdf5_version).replace(".", "_")


def test_plugin_folder_holds_exactly_one_plugin_file():
    path = Path(arraymorph.get_plugin_path())
    assert path.is_absolute() and path.is_dir()
    assert path == Path(arraymorph.__file__).resolve().parent / "lib"
    plugin = path / "libarraymorph.so"
    assert plugin.is_file() and not plugin.is_symlink()
    # HDF5 dlopen()s every lib*.so* in the folder: a second copy would be a second instance. The
    # wheel's per-series implementations live in impl/, which HDF5 does not scan.
    entries = sorted(p.name for p in path.iterdir())
    if _native.is_wheel_layout():
        assert entries == ["impl", "libarraymorph.so"]
        assert sorted(p.name for p in (path / "impl").iterdir()) == [
            "libarraymorph_h5_1_14.so", "libarraymorph_h5_2.so"]
    else:
        assert entries == ["libarraymorph.so"]


def test_hdf5_versions_agree():
    assert _core.hdf5_runtime_version() == h5py.version.hdf5_version
    if _native.is_wheel_layout():  # built against the series' headers, bound to h5py's library
        assert arraymorph._hdf5_series(_core.hdf5_build_version()) == arraymorph._hdf5_series(
            h5py.version.hdf5_version)
    else:
        assert _core.hdf5_build_version() == h5py.version.hdf5_version


def test_one_libhdf5_and_one_libarraymorph_in_the_process():
    maps = Path("/proc/self/maps").read_text().splitlines()
    hdf5 = {os.path.realpath(p) for p in arraymorph._loaded_libhdf5()}
    plugin = {os.path.realpath(l.split()[-1]) for l in maps if "libarraymorph" in l}
    assert len(hdf5) == 1, hdf5
    expected = {Path(arraymorph.get_plugin_path(), "libarraymorph.so").resolve()}
    if _native.is_wheel_layout():  # the loader + the one implementation it chose
        expected.add(Path(arraymorph.get_plugin_path(), "impl",
                          f"libarraymorph_h5_{_implementation_series()}.so").resolve())
    assert plugin == {str(p) for p in expected}


def test_hdf5_mismatch_accepts_same_series_and_one_library():
    assert arraymorph._hdf5_mismatch("1.14.5", "1.14.5", ["/p/lib/libhdf5.so.310"]) is None
    assert arraymorph._hdf5_mismatch("1.14.6", "1.14.5", []) is None
    assert arraymorph._hdf5_mismatch("2.0.0", "2.2.0", []) is None  # 2.x: one ABI series


def test_hdf5_mismatch_names_both_versions():
    msg = arraymorph._hdf5_mismatch("2.0.0", "1.14.5", [])
    assert msg is not None
    assert "HDF5 1.14.5" in msg and "HDF5 2.0.0" in msg and "h5py" in msg


def test_hdf5_mismatch_names_both_loaded_files(tmp_path):
    a, b = tmp_path / "libhdf5.so.310", tmp_path / "libhdf5-7d060e2f.so.310.5.1"
    a.touch()
    b.touch()
    msg = arraymorph._hdf5_mismatch("1.14.5", "1.14.5", [str(a), str(b)])
    assert msg is not None and str(a) in msg and str(b) in msg


def test_loaded_libhdf5_lists_the_prefix_library():
    libs = arraymorph._loaded_libhdf5()
    assert len(libs) >= 1
    assert all(re.search(r"/libhdf5(-[0-9a-f]+)?\.so", p) for p in libs)
    assert not any("hdf5_hl" in p for p in libs)


# ----------------------------------------------------------------------------- enable
def test_enable_sets_the_environment_and_is_idempotent(monkeypatch):
    from h5py._hl import files

    monkeypatch.delenv("HDF5_PLUGIN_PATH", raising=False)
    monkeypatch.delenv("HDF5_VOL_CONNECTOR", raising=False)
    arraymorph.enable()
    assert os.environ["HDF5_PLUGIN_PATH"] == arraymorph.get_plugin_path()
    assert os.environ["HDF5_VOL_CONNECTOR"] == "arraymorph"
    wrapped = files.make_fapl
    arraymorph.enable()
    assert files.make_fapl is wrapped
    assert getattr(files.make_fapl, "_arraymorph", False)


def test_enable_reaches_child_processes(monkeypatch):
    monkeypatch.delenv("HDF5_VOL_CONNECTOR", raising=False)
    arraymorph.enable()
    out = subprocess.run(
        [sys.executable, "-c", "import os; print(os.environ['HDF5_VOL_CONNECTOR'], "
                               "os.environ['HDF5_PLUGIN_PATH'])"],
        check=True, capture_output=True, text=True).stdout.split()
    assert out == ["arraymorph", arraymorph.get_plugin_path()]


def test_enable_selects_arraymorph_on_h5py_fapls():
    from h5py._hl import files

    arraymorph.enable()
    fapl = files.make_fapl("sec2", None, None, None, None, None)
    assert _core.fapl_uses_arraymorph(fapl.id)


def test_h5py_file_after_enable_writes_through_arraymorph(local_root):
    arraymorph.enable()
    with h5py.File("enabled.h5", "w") as f:
        f.create_dataset("x", data=np.arange(10, dtype="i4"), chunks=(5,))
    assert (local_root / "enabled.h5" / "zarr.json").is_file()
    assert (local_root / "enabled.h5" / "x" / "zarr.json").is_file()


# ----------------------------------------------------------------------------- configure_s3/azure
S3_VARS = ["STORAGE_PLATFORM", "BUCKET_NAME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
           "AWS_REGION", "AWS_ENDPOINT_URL_S3", "AWS_USE_TLS", "AWS_S3_ADDRESSING_STYLE",
           "AWS_SIGNED_PAYLOADS"]


def test_configure_s3_defaults_set_the_published_variables(monkeypatch):
    for v in S3_VARS:
        monkeypatch.delenv(v, raising=False)
    arraymorph.configure_s3("bkt", "AKID", "SECRET")
    env = {v: os.environ.get(v) for v in S3_VARS}
    assert env == {
        "STORAGE_PLATFORM": "S3", "BUCKET_NAME": "bkt", "AWS_ACCESS_KEY_ID": "AKID",
        "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_REGION": "us-east-2",
        "AWS_ENDPOINT_URL_S3": None, "AWS_USE_TLS": "false",
        "AWS_S3_ADDRESSING_STYLE": "virtual", "AWS_SIGNED_PAYLOADS": "false",
    }


def test_configure_s3_all_arguments(monkeypatch):
    for v in S3_VARS:
        monkeypatch.delenv(v, raising=False)
    arraymorph.configure_s3(bucket="b2", access_key="k", secret_key="s",
                            endpoint="127.0.0.1:8333", region="us-east-1", use_tls=True,
                            addressing_style=True, use_signed_payloads=True)
    assert os.environ["AWS_ENDPOINT_URL_S3"] == "127.0.0.1:8333"  # no scheme: use_tls decides
    assert os.environ["AWS_REGION"] == "us-east-1"
    assert os.environ["AWS_USE_TLS"] == "true"
    assert os.environ["AWS_S3_ADDRESSING_STYLE"] == "path"
    assert os.environ["AWS_SIGNED_PAYLOADS"] == "true"


def test_configure_s3_needs_credentials(monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    with pytest.raises(ValueError, match="access_key"):
        arraymorph.configure_s3("bkt")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "envkey")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
    arraymorph.configure_s3("bkt")  # falls back to the environment
    assert os.environ["BUCKET_NAME"] == "bkt"
    assert os.environ["AWS_ACCESS_KEY_ID"] == "envkey"


def test_configure_azure_sets_the_published_variables(monkeypatch):
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    cs = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5"
    arraymorph.configure_azure("cont", cs)
    assert os.environ["STORAGE_PLATFORM"] == "Azure"
    assert os.environ["BUCKET_NAME"] == "cont"
    assert os.environ["AZURE_STORAGE_CONNECTION_STRING"] == cs


def test_configure_azure_needs_a_connection_string(monkeypatch):
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    with pytest.raises(ValueError, match="connection_string"):
        arraymorph.configure_azure("cont")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "AccountName=x;AccountKey=eQ==")
    arraymorph.configure_azure("cont")
    assert os.environ["AZURE_STORAGE_CONNECTION_STRING"] == "AccountName=x;AccountKey=eQ=="


# ----------------------------------------------------------------------------- configure
def test_configure_accepts_valid_settings():
    arraymorph.configure(threads=2, max_inflight=8, cache_bytes="64MiB")
    arraymorph.configure(cache_bytes=0, log_level="debug", **{"s3.use_tls": True})
    _core.configure(**{"s3.signed_payloads": False, "retry_total_timeout": 1.5})


def test_configure_none_values_are_skipped():
    arraymorph.configure(threads=None, max_inflight=None, cache_bytes=None)


@pytest.mark.parametrize("key", ["no_such_key", "s3.nope"])
def test_configure_unknown_key_raises_naming_it(key):
    with pytest.raises(ValueError, match=re.escape(key)):
        arraymorph.configure(**{key: 1})


@pytest.mark.parametrize("settings", [{"threads": -1}, {"max_inflight": "lots"},
                                      {"cache_bytes": "12 parsecs"}, {"platform": "Floppy"}])
def test_configure_bad_value_raises_naming_the_key(settings):
    key = next(iter(settings))
    with pytest.raises(ValueError, match=re.escape(key)):
        arraymorph.configure(**settings)


def test_configure_round_trip_through_a_file(tmp_path, monkeypatch):
    # Explicit settings beat the environment: the file lands in local.root, not in the cwd.
    store, cwd = tmp_path / "store", tmp_path / "cwd"
    store.mkdir()
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("STORAGE_PLATFORM", "Local")
    monkeypatch.setenv("ARRAYMORPH_LOCAL_ROOT", str(cwd))
    arraymorph.configure(threads=2, **{"platform": "Local", "local.root": str(store)})
    with h5py.File("rt.h5", "w") as f:
        f.create_dataset("v", data=np.arange(4.0))
    assert (store / "rt.h5" / "zarr.json").is_file()
    assert not (cwd / "rt.h5").exists()
    arraymorph.reset_configuration()
    with h5py.File("rt2.h5", "w") as f:
        f.create_dataset("v", data=np.arange(4.0))
    assert (cwd / "rt2.h5" / "zarr.json").is_file()


# ----------------------------------------------------------------------------- stats
def test_stats_shape():
    s = arraymorph.stats()
    assert set(s) == STAT_OPS | {"cache", "zero_copy", "direct_chunks", "readahead", "codec", "max_inflight_seen"}
    for op in STAT_OPS:
        assert set(s[op]) == OP_FIELDS
    assert set(s["cache"]) == {"hits", "misses"}
    assert set(s["zero_copy"]) == {"reads", "bytes"}
    assert set(s["direct_chunks"]) == {"verbatim", "reframed", "recoded"}
    assert set(s["readahead"]) == {"chunks", "hits", "unused", "cancelled", "waits"}
    assert all(isinstance(v, int) and v >= 0 for v in _all_counts(s))
    assert json.loads(_core.stats_json()).keys() == s.keys()


def test_reset_stats_zeroes_every_counter(backend):
    with h5py.File(backend.url("s.h5"), "w") as f:
        f.create_dataset("x", data=np.arange(100))
    assert arraymorph.stats()["put"]["requests"] > 0
    arraymorph.reset_stats()
    assert _all_counts(arraymorph.stats()) == [0] * len(_all_counts(arraymorph.stats()))


def test_one_connector_instance_counts_h5py_requests(backend):
    # h5py's HDF5 loaded the plugin from HDF5_PLUGIN_PATH; _core linked it via RUNPATH. If they
    # were two instances, _core would see none of the requests h5py caused.
    arraymorph.reset_stats()
    data = np.arange(400, dtype="f4").reshape(20, 20)
    with h5py.File(backend.url("one.h5"), "w") as f:
        f.create_dataset("d", data=data, chunks=(10, 10))
    written = arraymorph.stats()
    assert written["put"]["requests"] >= 4  # four chunks (+ metadata)
    assert written["put"]["bytes"] >= data.nbytes
    with h5py.File(backend.url("one.h5"), "r") as f:
        np.testing.assert_array_equal(f["d"][...], data)
    assert arraymorph.stats()["get"]["requests"] > written["get"]["requests"]


# ----------------------------------------------------------------------------- open
def test_open_w_then_r(backend):
    data = np.arange(30, dtype="i8").reshape(5, 6)
    with arraymorph.open(backend.url("o.h5"), "w") as f:
        assert isinstance(f, h5py.File)
        f.create_dataset("d", data=data, chunks=(2, 3))
    assert "o.h5/zarr.json" in backend.list_keys("o.h5/")
    assert "o.h5/d/zarr.json" in backend.list_keys("o.h5/")
    with arraymorph.open(backend.url("o.h5")) as f:
        assert f.mode == "r"
        np.testing.assert_array_equal(f["d"][...], data)
        with pytest.raises((OSError, ValueError)):
            f["d"][0, 0] = 1


def test_open_r_plus_modifies(backend):
    with arraymorph.open(backend.url("rp.h5"), "w") as f:
        f.create_dataset("d", data=np.zeros(8, "i4"), chunks=(4,))
    with arraymorph.open(backend.url("rp.h5"), "r+") as f:
        assert f.mode == "r+"
        f["d"][2] = 7
    with arraymorph.open(backend.url("rp.h5")) as f:
        assert f["d"][...].tolist() == [0, 0, 7, 0, 0, 0, 0, 0]


def test_open_w_truncates(backend):
    with arraymorph.open(backend.url("t.h5"), "w") as f:
        f.create_dataset("old", data=np.arange(3))
    with arraymorph.open(backend.url("t.h5"), "w") as f:
        f.create_dataset("new", data=np.arange(3))
    with arraymorph.open(backend.url("t.h5")) as f:
        # membership, not keys(): group iteration is covered by the h5py group tests
        assert "new" in f and "old" not in f
    assert not any(k.startswith("t.h5/old/") for k in backend.list_keys("t.h5/"))


@pytest.mark.parametrize("mode", ["w-", "x"])
def test_open_exclusive_modes(backend, mode):
    with arraymorph.open(backend.url("e.h5"), mode) as f:
        f.create_dataset("x", data=np.arange(3))
    with pytest.raises(OSError):
        arraymorph.open(backend.url("e.h5"), mode)
    with arraymorph.open(backend.url("e.h5")) as f:  # untouched by the failed create
        assert f["x"][...].tolist() == [0, 1, 2]


def test_open_a_creates_then_appends(backend):
    with arraymorph.open(backend.url("a.h5"), "a") as f:
        f.create_dataset("one", data=np.arange(2))
    with arraymorph.open(backend.url("a.h5"), "a") as f:
        assert "one" in f and "two" not in f
        f.create_dataset("two", data=np.arange(3))
    with arraymorph.open(backend.url("a.h5")) as f:
        assert f["one"][...].tolist() == [0, 1] and f["two"][...].tolist() == [0, 1, 2]


@pytest.mark.parametrize("mode", ["r", "r+"])
def test_open_missing_file_raises_naming_it(backend, mode):
    with pytest.raises(OSError, match="missing.h5"):
        arraymorph.open(backend.url("missing.h5"), mode)
    assert backend.list_keys("missing.h5") == []


def test_open_invalid_mode():
    with pytest.raises(ValueError, match="mode"):
        arraymorph.open("file:///nonexistent/x.h5", "rw")


def test_open_per_file_settings(backend):
    with arraymorph.open(backend.url("ps.h5"), "w", threads=1, cache_bytes=0) as f:
        f.create_dataset("x", data=np.arange(5))
    with arraymorph.open(backend.url("ps.h5"), "r", max_inflight=2) as f:
        assert f["x"][...].tolist() == [0, 1, 2, 3, 4]


def test_settings_string():
    assert arraymorph._settings_string({}) is None
    assert arraymorph._settings_string({"threads": 4, "s3.use_tls": True}) == \
        "threads=4;s3.use_tls=true"
    with pytest.raises(ValueError, match="bad"):
        arraymorph._settings_string({"bad": "a;b"})


def test_set_fapl_rejects_an_invalid_property_list():
    with pytest.raises(RuntimeError, match="H5Pset_fapl_arraymorph"):
        _core.set_fapl(-1, None)


def test_register_returns_the_same_connector():
    a, b = _core.register(), _core.register()
    assert a > 0 and a == b  # idempotent: the connector is registered once per process
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    _core.set_fapl(fapl.id, None)
    assert _core.fapl_uses_arraymorph(fapl.id)


def test_configure_s3_https_endpoint_means_tls(monkeypatch):
    """A scheme in the endpoint decides TLS (it used to send plain HTTP to https:// endpoints)."""
    arraymorph.configure_s3(bucket="b", access_key="k", secret_key="s", endpoint="https://example.invalid:9000")
    assert os.environ["AWS_USE_TLS"] == "true"
    arraymorph.configure_s3(bucket="b", access_key="k", secret_key="s", endpoint="http://127.0.0.1:9000",
                            use_tls=True)
    assert os.environ["AWS_USE_TLS"] == "false"
