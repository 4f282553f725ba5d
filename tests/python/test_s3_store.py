"""The S3 backend against a real SeaweedFS (SigV4 enforced) started by this module.

Needs ARRAYMORPH_BUILD_DIR: a build tree holding `s3_tool` (tests/cpp/store/s3/s3_tool.cpp) and
`test_store_conformance`. Every test runs; a missing binary is a failure, not a skip.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers.seaweedfs import SeaweedFS, free_port  # noqa: E402

BOUNDED_SECONDS = 15.0  # every failure must surface well within this


def _find_binary(name: str) -> str:
    build = os.environ.get("ARRAYMORPH_BUILD_DIR")
    assert build, "set ARRAYMORPH_BUILD_DIR to the CMake build directory"
    hits = sorted(p for p in Path(build).rglob(name) if p.is_file() and os.access(p, os.X_OK))
    assert hits, f"{name} not found under ARRAYMORPH_BUILD_DIR={build}"
    return str(hits[0])


@pytest.fixture(scope="module")
def s3():
    with SeaweedFS() as server:
        yield server


@pytest.fixture(scope="module")
def tool():
    return _find_binary("s3_tool")


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "ARRAYMORPH_TEST_")) and k != "BUCKET_NAME"}
    # No ~/.aws profile of the machine may leak into these tests.
    env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/credentials"
    env["AWS_CONFIG_FILE"] = "/nonexistent/config"
    env.update(extra)
    return env


def probe(tool: str, env: dict[str, str], *args: str):
    t0 = time.monotonic()
    p = subprocess.run([tool, "probe", *args], env=_clean_env(env), capture_output=True,
                       text=True, timeout=120)
    return p.returncode, p.stdout.strip(), p.stderr, time.monotonic() - t0


# ------------------------------------------------------------------------------ conformance

def test_store_conformance_suite(s3):
    exe = _find_binary("test_store_conformance")
    env = _clean_env(s3.env(ARRAYMORPH_TEST_STORE_URL=f"s3://{s3.bucket}"))
    p = subprocess.run([exe], env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]


@pytest.mark.parametrize("signed", ["false", "true"])
def test_roundtrip(s3, tool, signed):
    rc, out, err, _ = probe(tool, s3.env(AWS_SIGNED_PAYLOADS=signed), "roundtrip", f"rt-{signed}")
    assert (rc, out) == (0, "OK roundtrip"), err


def test_batch_requests_run_concurrently(s3, tool):
    rc, out, err, _ = probe(tool, s3.env(ARRAYMORPH_MAX_INFLIGHT="16"), "many", "batch")
    assert rc == 0, out + err
    seen = int(out.rsplit("=", 1)[1])
    assert 1 < seen <= 16
    stats = json.loads(err.split("stats ", 1)[1])
    assert stats["put"]["requests"] == 64
    assert stats["get"]["requests"] == 65
    assert stats["get"]["not_found"] == 1
    assert stats["get"]["bytes"] == 64 * 4096


def test_multipart_upload_visible_with_boto3(s3, tool):
    rc, out, err, _ = probe(tool, s3.env(), "bigput", "big/object.bin")
    assert rc == 0, out + err
    size = (12 << 20) + 1
    # initiate + 3 parts + complete
    assert out == f"OK put {size} bytes in 5 requests"
    body = s3.client().get_object(Bucket=s3.bucket, Key="big/object.bin")["Body"].read()
    expected = bytes((i * 31 + 7) & 0xFF for i in range(size))
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(expected).hexdigest()
    uploads = s3.client().list_multipart_uploads(Bucket=s3.bucket).get("Uploads", [])
    assert [u for u in uploads if u["Key"] == "big/object.bin"] == []


def test_put_sends_a_crc32c_the_server_keeps_and_get_checks(s3, tool):
    """Every PUT carries x-amz-checksum-crc32c (issue 17): the server stores it (and would reject
    a body that does not match), and whole-object GETs ask for it back and check the body."""
    crc32c = pytest.importorskip("crc32c")
    rc, out, err, _ = probe(tool, s3.env(), "put", "sum/k")
    assert (rc, out) == (0, "OK put"), err
    head = s3.client().head_object(Bucket=s3.bucket, Key="sum/k", ChecksumMode="ENABLED")
    expected = base64.b64encode(crc32c.crc32c(b"probe").to_bytes(4, "big")).decode()
    assert head.get("ChecksumCRC32C") == expected
    rc, out, err, _ = probe(tool, s3.env(), "get", "sum/k")
    assert (rc, out) == (0, "OK 5 bytes"), err


@pytest.mark.parametrize("key", ["plain/key", "sp ace/k", "plus+pct%eq=co:lon", "uni/d\u00e9j\u00e0/\u6570"])
def test_keys_interoperate_with_boto3(s3, tool, key):
    rc, out, err, _ = probe(tool, s3.env(), "put", key)
    assert (rc, out) == (0, "OK put"), err
    assert s3.client().get_object(Bucket=s3.bucket, Key=key)["Body"].read() == b"probe"
    s3.client().put_object(Bucket=s3.bucket, Key=key + ".boto", Body=b"0123456789")
    rc, out, err, _ = probe(tool, s3.env(), "get", key + ".boto")
    assert (rc, out) == (0, "OK 10 bytes"), err
    rc, out, err, _ = probe(tool, s3.env(), "head", key + ".boto")
    assert (rc, out) == (0, "OK 10 bytes"), err


def test_missing_key_is_not_an_error(s3, tool):
    assert probe(tool, s3.env(), "get", "never/written")[:2] == (0, "OK missing")
    assert probe(tool, s3.env(), "head", "never/written")[:2] == (0, "OK missing")
    assert probe(tool, s3.env(), "delete", "never/written")[:2] == (0, "OK deleted")


# ------------------------------------------------------------------------------ failures

def _assert_error(result, *fragments, secret=None):
    rc, out, err, took = result
    assert rc == 1, out + err
    assert out.startswith("ERROR "), out
    for f in fragments:
        assert f in out, f"{f!r} not in {out!r}"
    assert took < BOUNDED_SECONDS
    if secret:
        assert secret not in out and secret not in err


def test_wrong_secret(s3, tool):
    bad = "wrong" + s3.secret_key[5:]
    for op in ("get", "put", "head", "list"):
        r = probe(tool, s3.env(AWS_SECRET_ACCESS_KEY=bad), op, "some/key")
        _assert_error(r, "ERROR permission_denied", s3.bucket, secret=bad)
        if op != "head":  # HEAD responses have no body, so no error code
            assert "SignatureDoesNotMatch" in r[1] and "AWS_SECRET_ACCESS_KEY" in r[1]
        else:
            assert "wrong key" in r[1] and "clock" in r[1] and "AWS_REGION" in r[1]
    assert s3.secret_key not in r[1]


def test_unknown_access_key(s3, tool):
    r = probe(tool, s3.env(AWS_ACCESS_KEY_ID="AKIAUNKNOWN0000000"), "get", "k")
    _assert_error(r, "InvalidAccessKeyId", "AWS_ACCESS_KEY_ID", "'k'", secret=s3.secret_key)


def test_unknown_bucket(s3, tool):
    r = probe(tool, s3.env(BUCKET_NAME="no-such-bucket-42"), "get", "k")
    _assert_error(r, "ERROR not_found", "bucket 'no-such-bucket-42' does not exist", s3.endpoint)
    r = probe(tool, s3.env(BUCKET_NAME="no-such-bucket-42"), "put", "k")
    _assert_error(r, "bucket 'no-such-bucket-42'")


def test_key_the_user_may_not_read(s3, tool):
    s3.client().put_object(Bucket=s3.bucket, Key="private/x", Body=b"secret data")
    env = s3.env(AWS_ACCESS_KEY_ID=s3.reader_access_key, AWS_SECRET_ACCESS_KEY=s3.reader_secret_key)
    r = probe(tool, env, "get", "private/x")
    _assert_error(r, "ERROR permission_denied", "AccessDenied", s3.bucket, "private/x",
                  secret=s3.reader_secret_key)


def test_server_down(tool):
    port = free_port()
    env = {"BUCKET_NAME": "b", "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SECRETVALUE",
           "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{port}", "AWS_REGION": "us-east-1"}
    r = probe(tool, env, "get", "k")
    _assert_error(r, "ERROR unavailable", f"127.0.0.1:{port}", "connection refused",
                  secret="SECRETVALUE")


def test_missing_credentials_name_the_variables(tool):
    env = {"BUCKET_NAME": "b", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:1"}
    _assert_error(probe(tool, env, "get", "k"), "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                  "AWS_NO_SIGN_REQUEST")


def test_profile_credentials_file(s3, tool, tmp_path):
    creds = tmp_path / "credentials"
    creds.write_text(f"[default]\naws_access_key_id = nope\naws_secret_access_key = nope\n\n"
                     f"[arraymorph]\naws_access_key_id = {s3.access_key}\n"
                     f"aws_secret_access_key = {s3.secret_key}\n")
    env = s3.env(AWS_PROFILE="arraymorph")
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    env_full = dict(env, AWS_SHARED_CREDENTIALS_FILE=str(creds))
    t0 = time.monotonic()
    p = subprocess.run([tool, "probe", "put", "profile/key"],
                       env={**_clean_env({}), **env_full}, capture_output=True, text=True,
                       timeout=60)
    assert (p.returncode, p.stdout.strip()) == (0, "OK put"), p.stdout + p.stderr
    assert time.monotonic() - t0 < BOUNDED_SECONDS


# ------------------------------------------------------------------------------ signer vs botocore

SIGN_CASES = [
    dict(method="GET", url="http://127.0.0.1:8333/bucket/demo.h5/x/c/0/1",
         headers=[["Range", "bytes=0-1023"]], body=""),
    dict(method="PUT", url="http://127.0.0.1:8333/bucket/a%20b/%2B%25%3D%3A/d%C3%A9j%C3%A0",
         headers=[["Content-Type", "application/octet-stream"]], body="chunk bytes \u00e9"),
    dict(method="GET", url="http://127.0.0.1:8333/bucket?list-type=2&prefix=demo.h5%2F"
                           "&delimiter=%2F&max-keys=1000&continuation-token=abc%2B%2F%3D", body=""),
    dict(method="POST", url="http://127.0.0.1:8333/bucket?delete=",
         headers=[["Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="], ["Content-Type", "application/xml"]],
         body="<Delete><Quiet>true</Quiet></Delete>"),
    dict(method="HEAD", url="https://bucket.s3.eu-central-1.amazonaws.com/k%20ey", body="",
         region="eu-central-1", session_token="FwoGZXIvYXdzE+token/=="),
    dict(method="POST", url="https://s3.us-east-2.amazonaws.com/bucket/big?uploads=", body="",
         region="us-east-2"),
]


@pytest.mark.parametrize("case", SIGN_CASES, ids=lambda c: c["method"] + " " + c["url"][:50])
def test_signature_matches_botocore(tool, case):
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    when = datetime.datetime(2024, 3, 9, 12, 34, 56, tzinfo=datetime.timezone.utc)
    access, secret = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    region = case.get("region", "us-east-1")
    token = case.get("session_token")
    request = dict(case, access_key=access, secret_key=secret, region=region,
                   time=int(when.timestamp()), signed_payload=True)
    request.pop("session_token", None)
    if token:
        request["session_token"] = token
    p = subprocess.run([tool, "sign"], input=json.dumps(request) + "\n", capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    ours = json.loads(p.stdout)

    body = case["body"].encode()
    aws = AWSRequest(method=case["method"], url=case["url"], data=body,
                     headers=dict(case.get("headers", [])))
    aws.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
    aws.context["payload_signing_enabled"] = True
    signer = S3SigV4Auth(Credentials(access, secret, token), "s3", region)
    with mock.patch("botocore.auth.get_current_datetime", return_value=when.replace(tzinfo=None)):
        signer.add_auth(aws)
    theirs = aws.headers["Authorization"]
    assert ours["authorization"] == theirs
    assert ours["signature"] == theirs.rsplit("Signature=", 1)[1]
