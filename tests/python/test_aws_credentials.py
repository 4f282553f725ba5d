"""S3 credentials from aws-c-auth's default chain, each source against a server of our own.

Every test writes a dataset through arraymorph with the SeaweedFS keys, then reads it back in a
fresh interpreter whose only credentials come from the source under test (environment, profile
file, credential_process, STS web identity, SSO, the ECS container endpoint, EC2 IMDSv2), with
ARRAYMORPH_LOG_LEVEL=debug. No secret key or session token handed out may appear in the output,
the log or an error message. Sources with a session token go through ``TokenGateway``, which
checks the signature and token as AWS does (SeaweedFS only accepts tokens of its own STS).
STS and the SSO portal are reached by aws-c-auth only over HTTPS on port 443: their mocks
listen on 127.0.0.1:443 with a test CA given as AWS_CA_BUNDLE.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest

import arraymorph  # noqa: F401  (registers the connector for the writes)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers.aws_credential_mocks import (  # noqa: E402
    EcsEndpoint, ImdsEndpoint, SsoPortal, StsEndpoint, TlsFiles, TokenGateway, credential_json,
    expiring_in)

READER = textwrap.dedent('''\
    import sys, time
    import h5py, arraymorph
    arraymorph.enable()
    url = sys.argv[1]
    for step in sys.argv[2:] or ["read"]:
        if step.startswith("sleep"):
            time.sleep(float(step[5:]))
            continue
        try:
            with h5py.File(url, "r") as f:
                print("READ", float(f["data"][...].sum()), flush=True)
        except OSError as e:
            print("OSERROR", " ".join(str(e).split()), flush=True)
''')


@pytest.fixture
def dataset(seaweedfs, monkeypatch):
    """(url, sum) of a dataset written through arraymorph with the server's own keys."""
    for k, v in seaweedfs.env().items():
        monkeypatch.setenv(k, v)
    url = f"s3://{seaweedfs.bucket}/credentials-{secrets.token_hex(4)}.h5"
    data = np.arange(60.0).reshape(6, 10)
    with h5py.File(url, "w") as f:
        f.create_dataset("data", data=data, chunks=(3, 5))
    return url, float(data.sum())


def _chain_env(s3, home: Path, endpoint: str | None = None, **extra: str) -> dict:
    """A process with no static keys: credentials only from the source the test sets up."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "AZURE_", "HDF5_", "ARRAYMORPH_"))
           and k not in ("STORAGE_PLATFORM", "BUCKET_NAME")}
    env.update(HOME=str(home), PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
               AWS_SHARED_CREDENTIALS_FILE=str(home / "no-credentials"),
               AWS_CONFIG_FILE=str(home / "no-config"), AWS_EC2_METADATA_DISABLED="true",
               AWS_REGION=s3.region, AWS_ENDPOINT_URL_S3=endpoint or s3.endpoint,
               AWS_USE_TLS="false", AWS_S3_ADDRESSING_STYLE="path", ARRAYMORPH_LOG_LEVEL="debug")
    env.update(extra)
    return env


def _read(tmp_path, url: str, env: dict, *steps: str) -> tuple[list[str], str]:
    script = tmp_path / "reader.py"
    script.write_text(READER)
    p = subprocess.run([sys.executable, str(script), url, *steps], env=env, capture_output=True,
                       text=True, timeout=120, cwd=tmp_path)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return p.stdout.splitlines(), p.stdout + p.stderr


def _assert_no_secret(output: str, *secret_values: str) -> None:
    for s in secret_values:
        assert s and s not in output, "a secret or token reached the output or the log"


def _assert_read_by_chain(lines, output, expected_sum):
    assert lines == [f"READ {expected_sum}"], output[-3000:]
    assert "S3 credentials from the aws-c-auth default chain" in output, output[-3000:]


def _temporary(s3, token: bool, expires_in: float = 3600, valid: bool = True) -> dict:
    """Credentials for SeaweedFS (its own keys) or, with a token, fresh ones for the gateway."""
    if not token:
        key, secret = (s3.access_key, s3.secret_key) if valid else (
            "AKBAD" + secrets.token_hex(6).upper(), secrets.token_urlsafe(30))
        return credential_json(key, secret, None, expires_in)
    return credential_json("ASIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30),
                           "tok-" + secrets.token_urlsafe(40), expires_in)


@pytest.fixture
def gateway(seaweedfs):
    with TokenGateway(seaweedfs.endpoint, seaweedfs.access_key, seaweedfs.secret_key) as gw:
        yield gw


def _allow(gw: TokenGateway, creds: dict) -> dict:
    gw.allow(creds["AccessKeyId"], creds["SecretAccessKey"], creds["Token"])
    return creds


# ------------------------------------------------------------------------------ one per source

def test_environment_keys(seaweedfs, dataset, tmp_path):
    url, total = dataset
    env = _chain_env(seaweedfs, tmp_path, AWS_ACCESS_KEY_ID=seaweedfs.access_key,
                     AWS_SECRET_ACCESS_KEY=seaweedfs.secret_key)
    lines, out = _read(tmp_path, url, env)
    assert lines == [f"READ {total}"], out[-3000:]
    _assert_no_secret(out, seaweedfs.secret_key)


def test_profile_in_shared_credentials_file(seaweedfs, dataset, tmp_path):
    url, total = dataset
    creds = tmp_path / "credentials"
    creds.write_text(f"[default]\naws_access_key_id = AKNOPE\naws_secret_access_key = nope\n\n"
                     f"[arraymorph]\naws_access_key_id = {seaweedfs.access_key}\n"
                     f"aws_secret_access_key = {seaweedfs.secret_key}\n")
    env = _chain_env(seaweedfs, tmp_path, AWS_PROFILE="arraymorph",
                     AWS_SHARED_CREDENTIALS_FILE=str(creds))
    lines, out = _read(tmp_path, url, env)
    _assert_read_by_chain(lines, out, total)
    _assert_no_secret(out, seaweedfs.secret_key)


def test_credential_process(seaweedfs, dataset, tmp_path):
    url, total = dataset
    helper = tmp_path / "issue_credentials.py"
    helper.write_text("import json\nprint(json.dumps(" + repr({
        "Version": 1, "AccessKeyId": seaweedfs.access_key,
        "SecretAccessKey": seaweedfs.secret_key}) + "))\n")
    config = tmp_path / "config"
    config.write_text(f"[profile proc]\ncredential_process = {sys.executable} {helper}\n")
    env = _chain_env(seaweedfs, tmp_path, AWS_PROFILE="proc", AWS_CONFIG_FILE=str(config))
    lines, out = _read(tmp_path, url, env)
    _assert_read_by_chain(lines, out, total)
    _assert_no_secret(out, seaweedfs.secret_key)


def test_ecs_container_endpoint(seaweedfs, dataset, tmp_path):
    url, total = dataset
    auth = "ecs-auth-" + secrets.token_hex(8)
    with EcsEndpoint([_temporary(seaweedfs, token=False)], auth_token=auth) as ecs:
        env = _chain_env(seaweedfs, tmp_path, AWS_CONTAINER_CREDENTIALS_FULL_URI=ecs.full_uri,
                         AWS_CONTAINER_AUTHORIZATION_TOKEN=auth)
        lines, out = _read(tmp_path, url, env)
    _assert_read_by_chain(lines, out, total)
    assert ecs.served >= 1
    _assert_no_secret(out, seaweedfs.secret_key, auth)


def test_ecs_session_token_is_sent(seaweedfs, dataset, gateway, tmp_path):
    url, total = dataset
    creds = _allow(gateway, _temporary(seaweedfs, token=True))
    with EcsEndpoint([creds]) as ecs:
        env = _chain_env(seaweedfs, tmp_path, gateway.endpoint,
                         AWS_CONTAINER_CREDENTIALS_FULL_URI=ecs.full_uri)
        lines, out = _read(tmp_path, url, env)
    _assert_read_by_chain(lines, out, total)
    assert gateway.hits >= 2 and gateway.refused == 0
    _assert_no_secret(out, creds["SecretAccessKey"], creds["Token"])


def test_ec2_imds_v2(seaweedfs, dataset, gateway, tmp_path):
    url, total = dataset
    creds = _allow(gateway, _temporary(seaweedfs, token=True))
    with ImdsEndpoint([creds]) as imds:
        env = _chain_env(seaweedfs, tmp_path, gateway.endpoint,
                         AWS_EC2_METADATA_DISABLED="false",
                         AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url)
        lines, out = _read(tmp_path, url, env)
    _assert_read_by_chain(lines, out, total)
    assert imds.served >= 1 and gateway.refused == 0
    _assert_no_secret(out, creds["SecretAccessKey"], creds["Token"], imds.session_token)


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return TlsFiles(tmp_path_factory.mktemp("tls"))


def test_sts_web_identity(seaweedfs, dataset, gateway, tls, tmp_path):
    url, total = dataset
    creds = _allow(gateway, _temporary(seaweedfs, token=True))
    jwt = "eyJ.test-web-identity." + secrets.token_urlsafe(24)
    token_file = tmp_path / "web-identity-token"
    token_file.write_text(jwt)
    role = "arn:aws:iam::123456789012:role/arraymorph-test"
    with StsEndpoint([creds], tls, role, jwt) as sts:
        env = _chain_env(seaweedfs, tmp_path, gateway.endpoint, AWS_ROLE_ARN=role,
                         AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file),
                         AWS_ROLE_SESSION_NAME="arraymorph-test",
                         AWS_ENDPOINT_URL_STS="localhost", AWS_CA_BUNDLE=tls.ca)
        lines, out = _read(tmp_path, url, env)
    _assert_read_by_chain(lines, out, total)
    assert sts.served >= 1 and gateway.refused == 0
    _assert_no_secret(out, creds["SecretAccessKey"], creds["Token"], jwt)


def test_sso_profile(seaweedfs, dataset, gateway, tls, tmp_path):
    url, total = dataset
    creds = _allow(gateway, _temporary(seaweedfs, token=True))
    start_url = "https://d-0123456789.awsapps.example/start"
    access_token = "sso-access-" + secrets.token_urlsafe(24)
    cache = tmp_path / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    (cache / (hashlib.sha1(start_url.encode()).hexdigest() + ".json")).write_text(json.dumps(
        {"accessToken": access_token, "expiresAt": expiring_in(3600), "region": "us-east-1",
         "startUrl": start_url}))
    config = tmp_path / "config"
    config.write_text(f"[profile sso]\nsso_start_url = {start_url}\nsso_region = us-east-1\n"
                      "sso_account_id = 123456789012\nsso_role_name = ArraymorphReader\n")
    with SsoPortal([creds], tls, "123456789012", "ArraymorphReader", access_token) as portal:
        env = _chain_env(seaweedfs, tmp_path, gateway.endpoint, AWS_PROFILE="sso",
                         AWS_CONFIG_FILE=str(config), AWS_ENDPOINT_URL_SSO="localhost",
                         AWS_CA_BUNDLE=tls.ca)
        lines, out = _read(tmp_path, url, env)
    _assert_read_by_chain(lines, out, total)
    assert portal.served >= 1 and gateway.refused == 0
    _assert_no_secret(out, creds["SecretAccessKey"], creds["Token"], access_token)


def test_region_from_the_profile_in_the_config_file(seaweedfs, dataset, gateway, tmp_path):
    url, total = dataset
    creds = _allow(gateway, _temporary(seaweedfs, token=True))
    config = tmp_path / "config"
    config.write_text(f"[profile regional]\nregion = eu-central-1\n"
                      f"aws_access_key_id = {creds['AccessKeyId']}\n"
                      f"aws_secret_access_key = {creds['SecretAccessKey']}\n"
                      f"aws_session_token = {creds['Token']}\n")
    env = _chain_env(seaweedfs, tmp_path, gateway.endpoint, AWS_PROFILE="regional",
                     AWS_CONFIG_FILE=str(config))
    del env["AWS_REGION"]
    lines, out = _read(tmp_path, url, env)
    _assert_read_by_chain(lines, out, total)
    assert gateway.regions == {"eu-central-1"}, gateway.regions  # not the default us-east-2
    _assert_no_secret(out, creds["SecretAccessKey"], creds["Token"])


# ------------------------------------------------------------------------------ precedence, errors

def test_configured_keys_take_precedence_over_the_chain(seaweedfs, dataset, tmp_path):
    url, total = dataset
    with EcsEndpoint([_temporary(seaweedfs, token=False, valid=False)]) as ecs:
        env = _chain_env(seaweedfs, tmp_path, AWS_CONTAINER_CREDENTIALS_FULL_URI=ecs.full_uri,
                         AWS_ACCESS_KEY_ID=seaweedfs.access_key,
                         AWS_SECRET_ACCESS_KEY=seaweedfs.secret_key)
        lines, out = _read(tmp_path, url, env)
    assert lines == [f"READ {total}"], out[-3000:]
    assert ecs.hits == 0, "the chain was asked although static keys were configured"


def test_refused_chain_credentials_name_no_secret(seaweedfs, dataset, gateway, tmp_path):
    url, _ = dataset
    creds = _temporary(seaweedfs, token=True)  # never allowed at the gateway
    with EcsEndpoint([creds]) as ecs:
        env = _chain_env(seaweedfs, tmp_path, gateway.endpoint,
                         AWS_CONTAINER_CREDENTIALS_FULL_URI=ecs.full_uri)
        lines, out = _read(tmp_path, url, env)
    assert len(lines) == 1 and lines[0].startswith("OSERROR"), out[-3000:]
    assert "403" in lines[0] and seaweedfs.bucket in lines[0], lines[0]
    _assert_no_secret(out, creds["SecretAccessKey"], creds["Token"])


def test_no_source_names_the_variables(seaweedfs, dataset, tmp_path):
    url, _ = dataset
    lines, out = _read(tmp_path, url, _chain_env(seaweedfs, tmp_path))
    assert len(lines) == 1 and lines[0].startswith("OSERROR"), out[-3000:]
    for name in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
                 "AWS_NO_SIGN_REQUEST"):
        assert name in lines[0], lines[0]


# ------------------------------------------------------------------------------ refresh

@pytest.mark.timeout(120)
def test_credentials_refreshed_before_expiry_during_a_long_job(seaweedfs, dataset, gateway,
                                                                tmp_path):
    """aws-c-auth refreshes 5 minutes before expiry: credentials valid for 306 s are replaced
    after about 6 s. The second issue is refused by the server, the third accepted, so the
    reads of one process show that each refresh was fetched and used."""
    url, total = dataset
    first = _temporary(seaweedfs, token=True, expires_in=306)
    refused = _temporary(seaweedfs, token=True, expires_in=306)
    last = _temporary(seaweedfs, token=True, expires_in=3600)
    _allow(gateway, first)
    _allow(gateway, last)
    with EcsEndpoint([first, refused, last]) as ecs:
        env = _chain_env(seaweedfs, tmp_path, gateway.endpoint,
                         AWS_CONTAINER_CREDENTIALS_FULL_URI=ecs.full_uri)
        lines, out = _read(tmp_path, url, env, "read", "sleep7", "read", "sleep7", "read", "read")
    assert lines[0] == f"READ {total}", out[-3000:]
    assert lines[1].startswith("OSERROR") and "403" in lines[1], out[-3000:]
    assert lines[2:] == [f"READ {total}"] * 2, out[-3000:]
    assert ecs.served == 3, ecs.served
    _assert_no_secret(out, *(c[k] for c in (first, refused, last)
                             for k in ("SecretAccessKey", "Token")))


@pytest.mark.timeout(120)
def test_failed_refresh_is_reported_not_silent(seaweedfs, dataset, tmp_path):
    """When the source is down at refresh time, the next request fails naming the refresh
    failure (aws-c-auth's error), not a bare 403 and never with the old secret."""
    url, total = dataset
    first = _temporary(seaweedfs, token=False, expires_in=306)
    with EcsEndpoint([first, {"HttpStatus": 500}]) as ecs:
        env = _chain_env(seaweedfs, tmp_path, AWS_CONTAINER_CREDENTIALS_FULL_URI=ecs.full_uri)
        lines, out = _read(tmp_path, url, env, "read", "sleep7", "read")
    assert lines[0] == f"READ {total}", out[-3000:]
    assert lines[1].startswith("OSERROR") and "could not be refreshed" in lines[1], out[-3000:]
    assert ecs.served >= 2
    _assert_no_secret(out, seaweedfs.secret_key)
