"""Nothing lost, nothing silently wrong (issue 17): hostile documents and configuration, the
metadata commit protocol under SIGKILL, writers in one process and in two, logging.

Every scenario asserts both halves: what a call reported as done is there afterwards (from a new
process), and what comes back as data is right (or an error naming the object).
Faults against a real server go through tests/python/fault_proxy.py (test_faults.py).
"""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest

import arraymorph


def run_py(code: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Runs `code` in a fresh Python with this session's environment (+ `env`)."""
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=full)


def start_py(code: str, env: dict | None = None) -> subprocess.Popen:
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.Popen([sys.executable, "-u", "-c", textwrap.dedent(code)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=full)


def wait_for_line(p: subprocess.Popen, expected: str, timeout: float = 60) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        line = p.stdout.readline()
        if not line:
            break
        if line.strip() == expected:
            return
    p.kill()
    raise AssertionError(f"child never printed {expected!r}: {p.stderr.read()}")


def kill_after(backend, body: str, ready: str) -> None:
    """Runs PRELUDE + body in a child with the backend's environment; SIGKILLs it once it prints
    `ready` (the body then sleeps), and waits for it to be gone."""
    p = start_py(PRELUDE + body + "time.sleep(600)\n", env=backend_env(backend))
    wait_for_line(p, ready)
    p.send_signal(signal.SIGKILL)
    p.wait()


PRELUDE = """
import arraymorph, h5py, numpy as np, sys, time
arraymorph.enable()
"""


# ------------------------------------------------------------------------------ hardening

def test_deeply_nested_attribute_is_an_error_not_a_crash(backend):
    """A zarr.json attribute nested 100,000 deep crashed the process (recursive flatten)."""
    url = backend.url("deep.h5")
    with h5py.File(url, "w") as f:
        f.create_group("g")
    root = json.loads(backend.read_key("deep.h5/zarr.json"))
    root["attributes"]["x"] = "PLACEHOLDER"
    text = json.dumps(root).replace('"PLACEHOLDER"', "[" * 100000 + "]" * 100000)
    backend.write_key("deep.h5/zarr.json", text.encode())
    r = run_py(PRELUDE + f"""
try:
    with h5py.File({url!r}, "r") as f:
        dict(f.attrs)
    print("NO ERROR")
except Exception as e:
    print("ERROR", e)
""", env=backend_env(backend))
    assert r.returncode == 0, r.stderr[-2000:]
    assert "ERROR" in r.stdout and "levels deep" in r.stdout, r.stdout
    assert "deep.h5/zarr.json" in r.stdout


def backend_env(backend) -> dict:
    return backend.env() if hasattr(backend, "env") else {}


def test_negative_shape_is_refused_naming_the_key(backend):
    url = backend.url("neg.h5")
    with h5py.File(url, "w") as f:
        f.create_dataset("d", data=np.arange(10), chunks=(5,))
    key = "neg.h5/d/zarr.json"
    doc = json.loads(backend.read_key(key))
    doc["shape"] = [-5]
    backend.write_key(key, json.dumps(doc).encode())
    root = json.loads(backend.read_key("neg.h5/zarr.json"))
    root.pop("consolidated_metadata", None)
    backend.write_key("neg.h5/zarr.json", json.dumps(root).encode())
    with h5py.File(url, "r") as f:
        with pytest.raises(Exception) as e:
            f["d"]
    assert "shape[0] = -5 is negative" in str(e.value)
    assert key in str(e.value)


def test_corrupt_child_does_not_break_the_listing_of_its_siblings(backend):
    url = backend.url("kids.h5")
    with h5py.File(url, "w") as f:
        for name in "abc":
            f.create_dataset(name, data=np.arange(4))
    root = json.loads(backend.read_key("kids.h5/zarr.json"))
    root.pop("consolidated_metadata", None)
    backend.write_key("kids.h5/zarr.json", json.dumps(root).encode())
    backend.write_key("kids.h5/b/zarr.json", b"{corrupt")
    with h5py.File(url, "r") as f:
        assert list(f) == ["a", "b", "c"]
        assert list(f["a"][...]) == [0, 1, 2, 3]
        assert list(f["c"][...]) == [0, 1, 2, 3]
        with pytest.raises(Exception) as e:
            f["b"]
        assert "kids.h5/b/zarr.json" in str(e.value)


def test_header_injection_through_the_session_token_is_refused(tmp_path):
    """AWS_SESSION_TOKEN with CR/LF injected an HTTP header; now the open fails naming it."""
    env = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
           "AWS_SESSION_TOKEN": "tok\r\nx-amz-injected: yes", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9"}
    r = run_py(PRELUDE + """
try:
    h5py.File("s3://bucket/x.h5", "w")
except Exception as e:
    print("ERROR", e)
""", env=env)
    assert "AWS_SESSION_TOKEN" in r.stdout and "control character" in r.stdout, r.stdout + r.stderr
    assert "injected" not in r.stdout


# ------------------------------------------------------------------------------ commit protocol

def _base_file(url: str) -> None:
    with h5py.File(url, "w") as f:
        f.create_dataset("base", data=np.arange(10))


def test_sigkill_mid_write_keeps_what_returned_success(backend):
    """A writer SIGKILLed after create_dataset returned: the dataset is listed, not only found by name."""
    url = backend.url("kill.h5")
    _base_file(url)
    kill_after(backend, f"""
f = h5py.File({url!r}, "a")
f.create_dataset("new", data=np.arange(100, dtype="i4"), chunks=(10,))
g = f.create_group("grp")
g.create_dataset("inner", data=np.ones(5))
print("created", flush=True)
""", "created")
    with h5py.File(url, "r") as f:
        assert list(f) == ["base", "grp", "new"]  # listed first, before any lookup by name
        assert list(f["grp"]) == ["inner"]
        np.testing.assert_array_equal(f["new"][...], np.arange(100))
        np.testing.assert_array_equal(f["grp/inner"][...], np.ones(5))
    # The killed writer's lock (this host, dead pid) does not block the next writer.
    with h5py.File(url, "a") as f:
        f.create_dataset("after", data=[1])
    with h5py.File(url, "r") as f:
        assert list(f) == ["after", "base", "grp", "new"]


def test_attributes_survive_sigkill_without_flush(backend):
    url = backend.url("attrs.h5")
    _base_file(url)
    kill_after(backend, f"""
f = h5py.File({url!r}, "a")
f.attrs["a"] = 1
f["base"].attrs["units"] = "m"
print("flushed", flush=True)
""", "flushed")
    with h5py.File(url, "r") as f:
        assert f.attrs["a"] == 1
        assert f["base"].attrs["units"] == "m"


def test_listing_does_not_depend_on_access_history(backend):
    """Stale consolidated metadata from a foreign writer: once found stale, never trusted again."""
    url = backend.url("hist.h5")
    _base_file(url)
    # Another tool adds a node without updating the consolidated copy.
    backend.write_key("hist.h5/new/zarr.json",
                      json.dumps({"zarr_format": 3, "node_type": "group", "attributes": {}}).encode())
    with h5py.File(url, "r") as f:
        first = list(f)
        assert "new" in f
        assert list(f) == ["base", "new"]
    assert first in (["base"], ["base", "new"])


# ------------------------------------------------------------------------------ writers

def test_two_handles_in_one_process_share_state(backend):
    url = backend.url("share.h5")
    _base_file(url)
    f1 = h5py.File(url, "r+")
    f2 = h5py.File(url, "r+")
    f1.create_dataset("one", data=[1, 2])
    assert "one" in f2
    f2.create_dataset("two", data=[3])
    f2.attrs["x"] = 5
    f1.close()
    f2.close()
    with h5py.File(url, "r") as f:
        assert list(f) == ["base", "one", "two"]
        assert f.attrs["x"] == 5


def test_closing_one_open_of_a_file_leaves_the_other_opens_objects(backend):
    # h5py's File.close closes the objects opened through that file id (H5F_OBJ_LOCAL) and then
    # the id: a second open of the same file shares its state but not its objects.
    url = backend.url("twohandles.h5")
    _base_file(url)
    f1 = h5py.File(url, "r+")
    d = f1["base"]
    g = f1.require_group("g")
    f2 = h5py.File(url, "r")
    d2 = f2["base"]
    assert h5py.h5f.get_obj_count(f1.id, h5py.h5f.OBJ_LOCAL | h5py.h5f.OBJ_ALL) == 3  # f1, d, g
    assert h5py.h5f.get_obj_count(f2.id, h5py.h5f.OBJ_LOCAL | h5py.h5f.OBJ_ALL) == 2  # f2, d2
    assert h5py.h5f.get_obj_count(f1.id, h5py.h5f.OBJ_ALL) == 5
    f2.close()
    assert not d2.id.valid
    assert d.id.valid and g.id.valid and f1.id.valid
    np.testing.assert_array_equal(d[...], np.arange(10))
    g.attrs["after"] = 1
    f1.close()
    with h5py.File(url, "r") as f:
        assert f["g"].attrs["after"] == 1


def test_file_id_from_an_object_keeps_the_file_shared(backend):
    # H5Iget_file_id (h5py's `obj.file`) after the opening handle was closed makes a new file id;
    # its close must not make the file look closed while another handle still has it open, or a
    # third open would get a separate state and the two would overwrite each other's metadata.
    url = backend.url("fileid.h5")
    _base_file(url)
    f1 = h5py.File(url, "r+")
    f2 = h5py.File(url, "r+")
    f2.close()
    d = f1["base"]
    fid = d.file.id  # a new file id for the shared state
    del fid
    gc.collect()
    f3 = h5py.File(url, "r+")
    f3.create_dataset("from_third", data=[7])
    f3.close()
    f1.create_dataset("from_first", data=[8])
    f1.close()
    with h5py.File(url, "r") as f:
        assert list(f) == ["base", "from_first", "from_third"]
        assert f["from_third"][0] == 7 and f["from_first"][0] == 8


def test_w_on_an_open_file_is_refused(backend):
    url = backend.url("open.h5")
    _base_file(url)
    with h5py.File(url, "r") as f:
        with pytest.raises(OSError) as e:
            h5py.File(url, "w")
        assert "already open" in str(e.value)
        np.testing.assert_array_equal(f["base"][...], np.arange(10))  # not truncated under us


def test_second_writer_process_is_refused_then_admitted(backend):
    url = backend.url("two.h5")
    _base_file(url)
    holder = start_py(PRELUDE + f"""
f = h5py.File({url!r}, "a")
f.create_dataset("first", data=[1])
print("open", flush=True)
time.sleep(600)
""", env=backend_env(backend))
    try:
        wait_for_line(holder, "open")
        r = run_py(PRELUDE + f"""
try:
    h5py.File({url!r}, "a")
    print("OPENED")
except OSError as e:
    print("REFUSED", e)
""", env=backend_env(backend))
        assert "REFUSED" in r.stdout, r.stdout + r.stderr
        assert "open for writing by process" in r.stdout and str(holder.pid) in r.stdout
        assert "HDF5_USE_FILE_LOCKING=FALSE" in r.stdout
        # Readers are not blocked, and see what the writer committed (its dataset creation).
        with h5py.File(url, "r") as f:
            assert "first" in list(f)
        # The documented override.
        r = run_py(PRELUDE + f"""
with h5py.File({url!r}, "a") as f:
    print("OPENED", list(f))
""", env={**backend_env(backend), "HDF5_USE_FILE_LOCKING": "FALSE"})
        assert "OPENED" in r.stdout, r.stderr
    finally:
        holder.terminate()
        holder.wait()


def test_racing_writers_lose_no_update(backend):
    """The issue's case: writers in several processes each adding attributes to `/` at the same
    time. Each waits for the write lock (retrying the refusal) and every attribute is kept; before
    the lock, every close rewrote the root document and 26 of 40 survived."""
    url = backend.url("race.h5")
    _base_file(url)
    workers, per = 4, 10
    body = f"""
done = 0
deadline = time.monotonic() + 240
while done < {per}:
    try:
        f = h5py.File({url!r}, "a")
    except OSError as e:
        if "open for writing" not in str(e):
            raise
        assert time.monotonic() < deadline, "never admitted"
        time.sleep(0.02)
        continue
    with f:
        f.attrs[f"w{{worker}}_{{done}}"] = worker * 100 + done
    done += 1
print("done", flush=True)
"""
    procs = [start_py(PRELUDE + f"worker = {w}\n" + body, env=backend_env(backend)) for w in range(workers)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and "done" in out, err
    with h5py.File(url, "r") as f:
        got = {k: int(v) for k, v in f.attrs.items()}
    want = {f"w{w}_{i}": w * 100 + i for w in range(workers) for i in range(per)}
    assert got == want


# ------------------------------------------------------------------------------ integrity

def test_crc32c_codec_is_standard_and_detects_flipped_bytes(backend):
    """ARRAYMORPH_CHUNK_CHECKSUM adds Zarr's crc32c codec; zarr-python reads it; flips are errors."""
    import zarr

    url = backend.url("crc.h5")
    arraymorph.configure(chunk_checksum=True)
    data = np.arange(1000, dtype="<i4")
    with h5py.File(url, "w") as f:
        f.create_dataset("d", data=data, chunks=(100,))
    meta = json.loads(backend.read_key("crc.h5/d/zarr.json"))
    assert meta["codecs"][-1]["name"] == "crc32c"
    z = zarr.open_group(backend.zarr_store("crc.h5", read_only=True), mode="r")
    np.testing.assert_array_equal(z["d"][...], data)
    chunk = bytearray(backend.read_key("crc.h5/d/c/3"))
    chunk[17] ^= 0x04
    backend.write_key("crc.h5/d/c/3", bytes(chunk))
    with h5py.File(url, "r") as f:
        np.testing.assert_array_equal(f["d"][:300], data[:300])
        with pytest.raises(OSError) as e:
            f["d"][...]
        assert "crc32c checksum mismatch" in str(e.value) and "crc.h5/d/c/3" in str(e.value)


# ------------------------------------------------------------------------------ logging

def test_debug_log_shows_commit_steps_on_stderr(backend):
    url = backend.url("log.h5")
    r = run_py(PRELUDE + f"""
with h5py.File({url!r}, "w") as f:
    f.create_dataset("d", data=[1, 2, 3])
""", env={**backend_env(backend), "ARRAYMORPH_LOG_LEVEL": "debug"})
    assert r.returncode == 0, r.stderr
    assert "DEBUG commit" in r.stderr and "root zarr.json written with consolidated metadata" in r.stderr
    assert "INFO file: created" in r.stderr
    quiet = run_py(PRELUDE + f"""
with h5py.File({url!r}, "a") as f:
    f.attrs["x"] = 1
""", env=backend_env(backend))
    assert "arraymorph[" not in quiet.stderr
