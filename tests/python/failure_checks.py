"""Shared check of the network failure tests (S3 and Azure): an h5py open/read fails with an
OSError, quickly, naming what is wrong and never printing a secret."""

from __future__ import annotations

import time

import h5py
import pytest

DEADLINE_S = 30.0  # every failure must surface well within this (pytest-timeout backs it up)


def expect_clean_oserror(url: str, mode: str, must_name: list, secrets: list) -> str:
    """Opens `url` in `mode` (and reads dataset "d"); returns the error message."""
    t0 = time.monotonic()
    with pytest.raises(OSError) as e:
        with h5py.File(url, mode) as f:
            f["d"][...]  # a read-mode open may be lazy: touch the data
    elapsed = time.monotonic() - t0
    msg = str(e.value)
    assert elapsed < DEADLINE_S, f"took {elapsed:.1f} s: {msg}"
    for word in must_name:
        assert word in msg, f"{word!r} not in: {msg}"
    for secret in secrets:
        assert secret not in msg
    return msg
