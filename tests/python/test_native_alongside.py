"""Native HDF5 files used while arraymorph objects are open in the same process.

HDF5 1.14's native H5Lmove/H5Ldelete walk the open group and dataset ids of every connector and
read them as native objects; with an arraymorph group or dataset open this crashed the process
(src/vol/object_model.hpp, `native_name_guard_`)."""

from __future__ import annotations

import h5py
import numpy as np

from native_files import native_file


def test_native_move_and_delete_with_arraymorph_objects_open(backend, tmp_path):
    with h5py.File(backend.url("open.h5"), "w") as am:
        g = am.create_group("g")
        d = g.create_dataset("d", data=np.arange(5))
        with native_file(tmp_path / "n.h5", "w") as f:
            f.create_dataset("a/data", data=np.arange(3))
            f.create_group("b")
            f.move("a", "c")
            f.move("b", "c/b")
            del f["c/b"]
            assert sorted(f) == ["c"] and list(f["c"]) == ["data"]
        # the arraymorph objects are untouched
        assert g.name == "/g" and d.name == "/g/d"
        np.testing.assert_array_equal(d[...], np.arange(5))
        am.move("g", "h")
        assert d.name == "/h/d"
