"""`arraymorph` ls / tree / info / du / rm / doctor, progress output in both modes, exit codes
and one-line errors, `python -m arraymorph` and the console script."""

from __future__ import annotations

import json
import os
import shutil
import sys

import pytest

import arraymorph
from cli_files import make_native, run_cli, run_subprocess


@pytest.fixture
def stored(backend, tmp_path, capsys):
    """(backend, url) of a store file copied from the test's native file."""
    native = make_native(tmp_path / "source.h5")
    url = backend.url("data.h5")
    code, _, err = run_cli("cp", native, url, "--progress", "none", capsys=capsys)
    assert code == 0, err
    return backend, url


def test_ls_plain_recursive_long(stored, capsys):
    backend, url = stored
    code, out, _ = run_cli("ls", url, capsys=capsys)
    assert code == 0
    assert "group    /grp/" in out and "link     /latest -> /grp/sub/gz" in out
    assert "dataset  /grp/sub/gz" not in out  # not recursive
    code, out, _ = run_cli("ls", url, "-r", "-l", capsys=capsys)
    assert code == 0
    line = next(l for l in out.splitlines() if l.startswith("dataset  /grp/sub/gz "))
    assert "(120, 90)" in line and "float64" in line and "chunks 32x30" in line
    assert "gzip(6)" in line and "shuffle" in line
    chunk_bytes = sum(len(backend.read_key(k)) for k in backend.list_keys("data.h5/grp/sub/gz/c/"))
    assert "12 objects" in line and "ratio" in line
    ratio = float(line.split("ratio ")[1])
    assert ratio == pytest.approx(chunk_bytes / (120 * 90 * 8), abs=0.01)
    code, out, _ = run_cli("ls", url + ":/grp/sub", capsys=capsys)
    assert code == 0 and out.split()[0:2] == ["group", "/grp/sub/deeper/"]


def test_tree(stored, capsys):
    _, url = stored
    code, out, _ = run_cli("tree", url, capsys=capsys)
    assert code == 0
    assert "├── grp/" in out and "gz  (120, 90)  float64  shuffle,gzip(6)" in out
    assert "latest -> /grp/sub/gz" in out


def test_info_dataset_group_json(stored, capsys):
    _, url = stored
    code, out, _ = run_cli("info", url + ":/grp/sub/gz", "--json", capsys=capsys)
    assert code == 0
    data = json.loads(out)
    assert data["kind"] == "dataset" and data["shape"] == [120, 90] and data["chunks"] == [32, 30]
    assert data["attributes"]["units"]["value"] == "m/s"
    assert data["fillvalue"] == -1.0 and data["stored_objects"] == 12
    assert data["zarr_codecs"] == ["bytes", "numcodecs.shuffle", "gzip"]
    code, out, _ = run_cli("info", url, "--json", capsys=capsys)
    data = json.loads(out)
    assert data["kind"] == "group" and {"name": "latest", "kind": "link", "target": "/grp/sub/gz"} in data["members"]
    assert data["attributes"]["title"]["value"] == "cli test"
    code, out, _ = run_cli("info", url + ":/enum", capsys=capsys)
    assert code == 0 and "enum" in out and "BLUE" in out


def test_du_and_rm(stored, capsys, monkeypatch):
    backend, url = stored
    keys = backend.list_keys("data.h5/")
    total = sum(len(backend.read_key(k)) for k in keys)
    code, out, _ = run_cli("du", url, "-d", capsys=capsys)
    assert code == 0
    last = out.splitlines()[-1].split()
    assert int(last[0]) == total and int(last[1]) == len(keys)
    # Without -y and without a terminal to ask on, rm refuses.
    code, _, err = run_cli("rm", url, capsys=capsys)
    assert code == 2 and "-y" in err
    assert backend.list_keys("data.h5/") == keys
    code, _, err = run_cli("rm", url, "-y", capsys=capsys)
    assert code == 0 and f"deleted {len(keys)} objects" in err
    assert backend.list_keys("data.h5/") == []
    code, _, err = run_cli("rm", url, "-y", capsys=capsys)
    assert code == 3 and "no such file" in err


def test_doctor_ok_and_failing(backend, capsys):
    code, out, _ = run_cli("doctor", capsys=capsys) if backend.name != "local" else \
        run_cli("doctor", f"file://{backend.root}", capsys=capsys)
    assert code == 0, out
    assert "round trip" in out and "PUT" in out and "DELETE" in out and "all checks passed" in out
    assert "libhdf5 loaded" in out
    for secret in ("AWS_SECRET_ACCESS_KEY", "AZURE_STORAGE_CONNECTION_STRING"):
        value = os.environ.get(secret)
        if value:
            assert value not in out
    if backend.name == "s3":
        proc = run_subprocess("doctor", env=dict(os.environ, AWS_SECRET_ACCESS_KEY="wrong-secret"))
        assert proc.returncode == 1 and "FAIL" in proc.stdout and "credentials" in proc.stdout
        assert "wrong-secret" not in proc.stdout
    assert backend.list_keys("") == [] or all(".arraymorph-doctor" not in k for k in backend.list_keys(""))


def test_progress_plain_and_rich(backend, tmp_path):
    native = make_native(tmp_path / "p.h5", scale=20)
    plain = run_subprocess("cp", native, backend.url("plain.h5"), "--memory", "512KiB", "--progress", "plain")
    assert plain.returncode == 0, plain.stderr
    lines = [l for l in plain.stderr.splitlines() if l.startswith("progress:")]
    assert lines and all("chunks" in l and "/s" in l and "ETA" in l for l in lines)
    assert "\x1b[" not in plain.stderr  # no terminal escapes when not a terminal
    assert "(100%)" in lines[-1]
    rich = run_subprocess("cp", native, backend.url("rich.h5"), "--memory", "512KiB",
                          env=dict(os.environ, ARRAYMORPH_PROGRESS="rich"))
    assert rich.returncode == 0, rich.stderr
    assert "\x1b[" in rich.stderr and "chunks" in rich.stderr and "progress:" not in rich.stderr
    auto = run_subprocess("cp", native, backend.url("auto.h5"), "--memory", "512KiB")
    assert auto.returncode == 0 and "progress:" in auto.stderr  # stderr is a pipe: plain


@pytest.mark.parametrize("args, code, text", [
    (["cp", "/nonexistent/file.h5", "s3://b/x.h5"], 3, "no such file"),
    (["cp", "gs://bucket/a.h5", "out.h5"], 2, "unsupported URL scheme 'gs://'"),
    (["cp", "s3://bucket", "out.h5"], 2, "names a bucket or container"),
    (["ls", "file:///nonexistent/dir/a.h5"], 3, "no such file"),
    (["cp", "--memory", "lots", "x.h5", "y.h5"], 2, "bad size"),
])
def test_error_exits(args, code, text, local_root):
    proc = run_subprocess(*args)
    assert proc.returncode == code, proc.stderr
    assert text in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0  # one line


def test_debug_shows_traceback(local_root):
    proc = run_subprocess("--debug", "ls", "file:///nonexistent/dir/a.h5")
    assert proc.returncode == 3 and "Traceback" in proc.stderr


@pytest.mark.parametrize("kind", ["s3", "azure"])
def test_bad_credentials_exit(kind, request, tmp_path):
    from conftest import BACKENDS

    backend = BACKENDS[kind](request, tmp_path)
    native = make_native(tmp_path / "c.h5")
    env = dict(os.environ)
    if kind == "s3":
        env["AWS_SECRET_ACCESS_KEY"] = "wrong"
    else:
        env["AZURE_STORAGE_CONNECTION_STRING"] = env["AZURE_STORAGE_CONNECTION_STRING"].replace(
            "AccountKey=", "AccountKey=AAAA")
    proc = run_subprocess("cp", native, backend.url("c.h5"), env=env)
    assert proc.returncode == 5, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


def test_console_script_and_module(local_root):
    proc = run_subprocess("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"arraymorph {arraymorph.__version__}"
    script = shutil.which("arraymorph", path=os.path.dirname(sys.executable))
    assert script, "the arraymorph console script is not installed next to python"
    import subprocess

    out = subprocess.run([script, "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for command in ("cp", "ls", "tree", "info", "du", "rm", "doctor"):
        assert command in out.stdout
