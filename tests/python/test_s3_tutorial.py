"""The published S3 tutorial, run verbatim against the session's SeaweedFS, and clean failures.

1. ``test_readme_tutorial_runs_verbatim``: the ArrayMorph README's S3 walk-through (enable,
   configure_s3 with an endpoint, path-style addressing and signed payloads; h5py writes
   ``demo.h5`` with a (100, 100) float dataset in (10, 10) chunks; reads ``[5:15, 5:15]``) runs in
   a fresh interpreter, as a user would run it; its objects are then listed with boto3.
2. Wrong secret, unknown bucket, server down and a key the user may not read: h5py raises
   OSError naming the bucket (or the endpoint), never showing the secret, within 30 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

import arraymorph

from failure_checks import expect_clean_oserror
from servers.seaweedfs import free_port


TUTORIAL = textwrap.dedent('''\
    import arraymorph
    arraymorph.enable()

    arraymorph.configure_s3(
        bucket=BUCKET,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        endpoint=ENDPOINT,
        region="us-east-1",
        use_tls=False,
        addressing_style=True,
        use_signed_payloads=True,
    )

    import h5py
    import numpy as np

    data = np.random.rand(100, 100)
    with h5py.File("demo.h5", "w") as f:
        f.create_dataset("data", data=data, chunks=(10, 10))

    with h5py.File("demo.h5", "r") as f:
        part = f["data"][5:15, 5:15]
        print(part)

    assert np.array_equal(part, data[5:15, 5:15])
    print("TUTORIAL OK", part.shape, part.dtype)
''')


# Appended after the tutorial: the libhdf5 files mapped in the process (h5py's only).
ONE_LIBHDF5 = textwrap.dedent('''\
    import os, re
    libs = {os.path.realpath(line.split()[-1]) for line in open("/proc/self/maps")
            if re.search(r"/libhdf5(-[0-9a-f]+)?\\.so", line)}
    print("LIBHDF5", len(libs), sorted(libs))
''')

# The same walk-through with the connector chosen by the environment before Python starts
# (published variables): the tutorial from `import h5py` on, no arraymorph call at all.
ENV_TUTORIAL = TUTORIAL[TUTORIAL.index("import h5py\n"):]


def _user_env() -> dict:
    """A user's shell: no HDF5/arraymorph/AWS variables, no ~/.aws files of this machine."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "AZURE_", "HDF5_", "ARRAYMORPH_"))
           and k not in ("STORAGE_PLATFORM", "BUCKET_NAME")}
    env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/credentials"
    env["AWS_CONFIG_FILE"] = "/nonexistent/config"
    # The interpreter must find the same arraymorph as this one (PYTHONPATH installs included).
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


def _run_tutorial(tmp_path, script_text: str, env: dict, *, as_c: bool = False) -> subprocess.CompletedProcess:
    """Runs the tutorial as a script file, or (as_c) as `python -c "import h5py ..."`."""
    code = script_text + "\n" + ONE_LIBHDF5
    argv = [sys.executable, "-c", code]
    if not as_c:
        (tmp_path / "tutorial.py").write_text(code)
        argv = [sys.executable, str(tmp_path / "tutorial.py")]
    p = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=110)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert "TUTORIAL OK (10, 10) float64" in p.stdout, p.stdout[-3000:]
    assert "LIBHDF5 1 " in p.stdout, p.stdout[-3000:]  # h5py's libhdf5 only, never a second
    assert not (tmp_path / "demo.h5").exists(), "written to the local disk instead of S3"
    return p


def _assert_tutorial_objects(s3, bucket: str) -> None:
    keys = []
    for page in s3.client().get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys += [o["Key"] for o in page.get("Contents", [])]
    chunks = {f"demo.h5/data/c/{i}/{j}" for i in range(10) for j in range(10)}
    assert set(keys) == chunks | {"demo.h5/zarr.json", "demo.h5/data/zarr.json"}, keys


@pytest.mark.timeout(120)
def test_readme_tutorial_with_connector_exported_before_python(seaweedfs, tmp_path):
    s3 = seaweedfs
    bucket = "tutorial-env-" + os.urandom(4).hex()
    s3.client().create_bucket(Bucket=bucket)
    env = _user_env()
    env.update(HDF5_VOL_CONNECTOR="arraymorph", HDF5_PLUGIN_PATH=arraymorph.get_plugin_path(),
               BUCKET_NAME=bucket, AWS_ACCESS_KEY_ID=s3.access_key,
               AWS_SECRET_ACCESS_KEY=s3.secret_key, AWS_ENDPOINT_URL_S3=s3.endpoint,
               AWS_REGION="us-east-1", AWS_S3_ADDRESSING_STYLE="path", AWS_SIGNED_PAYLOADS="true")
    assert ENV_TUTORIAL.startswith("import h5py\n")
    _run_tutorial(tmp_path, ENV_TUTORIAL, env, as_c=True)  # python -c "import h5py ..."
    _assert_tutorial_objects(s3, bucket)


@pytest.mark.timeout(120)
def test_readme_tutorial_runs_verbatim(seaweedfs, tmp_path):
    s3 = seaweedfs
    bucket = "tutorial-" + os.urandom(4).hex()
    s3.client().create_bucket(Bucket=bucket)
    prologue = (f"BUCKET = {bucket!r}\nACCESS_KEY = {s3.access_key!r}\n"
                f"SECRET_KEY = {s3.secret_key!r}\nENDPOINT = {s3.endpoint!r}\n\n")
    p = _run_tutorial(tmp_path, prologue + TUTORIAL, _user_env())
    assert s3.secret_key not in p.stdout + p.stderr

    _assert_tutorial_objects(s3, bucket)

    # Readable with plain boto3: a chunk is 10x10 little-endian float64 (no compressor).
    body = s3.client().get_object(Bucket=bucket, Key="demo.h5/data/c/0/0")["Body"].read()
    assert len(body) == 800


# ------------------------------------------------------------------------------ failures

def _expect_clean_oserror(url: str, mode: str, must_name: list, secret: str) -> str:
    return expect_clean_oserror(url, mode, must_name, [secret])


@pytest.mark.timeout(60)
def test_wrong_secret(seaweedfs, monkeypatch):
    s3 = seaweedfs
    wrong = "wrong-" + s3.secret_key[::-1]
    for k, v in s3.env(AWS_SECRET_ACCESS_KEY=wrong).items():
        monkeypatch.setenv(k, v)
    for mode in ("w", "r"):
        msg = _expect_clean_oserror(f"s3://{s3.bucket}/wrong-secret.h5", mode, [s3.bucket], wrong)
        assert s3.secret_key not in msg
        assert "403" in msg or "denied" in msg.lower() or "signature" in msg.lower(), msg


@pytest.mark.timeout(60)
def test_unknown_bucket(seaweedfs, monkeypatch):
    s3 = seaweedfs
    for k, v in s3.env().items():
        monkeypatch.setenv(k, v)
    missing = "no-such-bucket-" + os.urandom(4).hex()
    for mode in ("w", "r"):
        _expect_clean_oserror(f"s3://{missing}/x.h5", mode, [missing], s3.secret_key)


@pytest.mark.timeout(60)
def test_server_down(seaweedfs, monkeypatch):
    s3 = seaweedfs
    port = free_port()  # nothing listens there
    endpoint = f"http://127.0.0.1:{port}"
    for k, v in s3.env(AWS_ENDPOINT_URL_S3=endpoint).items():
        monkeypatch.setenv(k, v)
    for mode in ("w", "r"):
        _expect_clean_oserror(f"s3://{s3.bucket}/down.h5", mode, [f"127.0.0.1:{port}"],
                              s3.secret_key)


@pytest.mark.timeout(60)
def test_key_the_user_may_not_read(seaweedfs, monkeypatch):
    s3 = seaweedfs
    # The admin writes a file; the "reader" identity may only read another bucket.
    for k, v in s3.env().items():
        monkeypatch.setenv(k, v)
    url = f"s3://{s3.bucket}/private-{os.urandom(3).hex()}.h5"
    with h5py.File(url, "w") as f:
        f.create_dataset("d", data=np.arange(100.0), chunks=(10,))
    for k, v in s3.env(AWS_ACCESS_KEY_ID=s3.reader_access_key,
                       AWS_SECRET_ACCESS_KEY=s3.reader_secret_key).items():
        monkeypatch.setenv(k, v)
    msg = _expect_clean_oserror(url, "r", [s3.bucket], s3.reader_secret_key)
    assert s3.secret_key not in msg
