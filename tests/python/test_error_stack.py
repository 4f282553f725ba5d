"""The HDF5 error stack stays clean: after many refused or failed calls, the next unrelated error
carries its own message (KeyError for a missing object, KeyError for a missing attribute), as
with native files."""

from __future__ import annotations

import subprocess
import sys

import h5py
import numpy as np
import pytest

from native_files import native_file


def _refusals(f):
    """Calls that fail, each leaving whatever HDF5 pushed for it. The first group are HDF5's own
    refusals of non-native objects (they succeed on native files), which pushed the library's
    major code H5E_VOL as a minor code and so broke the error stack for good (errors.cpp)."""
    d = f.create_dataset("d", data=np.arange(4))
    for _ in range(20):
        for call in (lambda: h5py.h5o.get_info(f.id), lambda: h5py.h5g.get_objinfo(f.id),
                     lambda: d.id.get_offset(), lambda: f.id.links.iterate(lambda n: None), lambda: hash(d.id)):
            try:
                call()
            except Exception:
                pass
    for _ in range(5):
        with pytest.raises(Exception):
            f["nope_group/x"]
        with pytest.raises(Exception):
            f.create_dataset("d", data=[1])          # exists
        with pytest.raises(Exception):
            d.attrs["missing_before"]
        with pytest.raises(Exception):
            f["d"].resize((10,))                     # not chunked
        with pytest.raises(Exception):
            h5py.h5o.open(f.id, b"/no/such")
        with pytest.raises(Exception):
            f.create_group("d/sub")                  # inside a dataset
    return d


def _then_missing(f, d):
    with pytest.raises(KeyError) as e1:
        f["nope"]
    with pytest.raises(KeyError) as e2:
        d.attrs["nope_attr"]
    assert d.attrs.get("nope_attr", "dflt") == "dflt"
    assert "nope_attr" not in d.attrs
    return str(e1.value), str(e2.value)


def test_errors_after_refusals(backend, tmp_path):
    with native_file(tmp_path / "n.h5", "w") as f:
        d = _refusals(f)
        native_msgs = _then_missing(f, d)
    with h5py.File(backend.url("errs.h5"), "w") as f:
        d = _refusals(f)
        msgs = _then_missing(f, d)
    # Each message is about its own call, never about an earlier refusal.
    for m in msgs:
        assert "exists" not in m and "nope_group" not in m and "missing_before" not in m and "resize" not in m
    assert "nope" in msgs[0]
    assert "nope_attr" in msgs[1] or "not exist" in msgs[1].lower() or "can't open" in msgs[1].lower()
    assert type(native_msgs) is type(msgs)


def test_error_stack_clean_after_reference_and_scale_failures(backend):
    """References and dimension scales used to be refused; whatever still fails must not leave
    its message behind for the next call."""
    with h5py.File(backend.url("errs2.h5"), "w") as f:
        d = f.create_dataset("d", data=np.arange(4))
        for _ in range(3):
            with pytest.raises(Exception):
                f[h5py.Reference()]                  # null reference
            with pytest.raises(Exception):
                h5py.h5r.create(f.id, b"/absent", h5py.h5r.OBJECT)
        msgs = _then_missing(f, d)
        assert "absent" not in msgs[0] and "absent" not in msgs[1]


UNSILENCED = """
import sys
import h5py, numpy as np
from h5py import _errors
name = sys.argv[1]
with h5py.File(name, "w") as f:
    d = f.create_dataset("d", data=np.arange(4))
    for _ in range(400):                      # HDF5's own refusals of non-native objects
        for call in (lambda: h5py.h5o.get_info(f.id), lambda: h5py.h5g.get_objinfo(f.id),
                     lambda: d.id.get_offset(), lambda: f.id.links.iterate(lambda n: None)):
            try:
                call()
            except Exception:
                pass
    _errors.unsilence_errors()                # HDF5 now prints every error stack (to stderr)
    try:
        f["nope"]
    except KeyError as e:
        print("KeyError", e)
    _errors.silence_errors()
print("done")
"""


def test_unsilenced_error_printing_after_many_refusals(backend):
    """h5py's suite run as one process died with SIGSEGV at test_errors.py::test_unsilence_errors:
    once HDF5 1.14 had freed its H5E_VOL message after refusals that push it as a minor code,
    printing the stack (H5Eprint2) failed, and HDF5 auto-printed that failure with H5Eprint2
    again, recursing until the stack overflowed. arraymorph keeps the ids alive (errors.cpp); the
    unsilenced print must name the missing object and the process must end normally."""
    proc = subprocess.run([sys.executable, "-c", UNSILENCED, backend.url("print.h5")], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "KeyError" in proc.stdout and "done" in proc.stdout
    assert "HDF5-DIAG" in proc.stderr and "nope" in proc.stderr
    assert "Can't" not in proc.stderr.split("HDF5-DIAG")[0]  # nothing printed before the real error
