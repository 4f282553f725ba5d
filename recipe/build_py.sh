#!/usr/bin/env bash
# build_py.sh -- build script of the `arraymorph` conda output: ONLY the Python package
# (arraymorph/*.py and the nanobind _core module), built against the libarraymorph already in
# $PREFIX (host requirement, pinned exactly). The package carries no copy of the library: _core
# links $PREFIX/lib/libarraymorph.so.0 and HDF5 loads $PREFIX/lib/hdf5/plugin/libarraymorph.so,
# a link to the same file, so Python and HDF5 share one connector instance; get_plugin_path()
# returns $PREFIX/lib/hdf5/plugin.
#
# cmake.source-dir=python builds python/CMakeLists.txt standalone: it finds the library with
# find_package(arraymorph) (arraymorph_DIR pins the one in $PREFIX) instead of building it.
# scikit-build-core also reads conda's CMAKE_ARGS from the environment.
#
# Inputs (set by conda-build / rattler-build; tests/python/test_packaging.py sets them by hand):
#   SRC_DIR, PREFIX, PYTHON, CMAKE_ARGS,
#   ARRAYMORPH_PY_BUILD_DIR (optional: reuse a build folder so repeat runs are incremental).
set -euo pipefail

cd "$SRC_DIR"
"$PYTHON" -m pip install . -v --no-deps --no-build-isolation \
  -Ccmake.source-dir=python \
  -Cbuild-dir="${ARRAYMORPH_PY_BUILD_DIR:-$SRC_DIR/build-arraymorph-py}" \
  -Ccmake.define.arraymorph_DIR="$PREFIX/lib/cmake/arraymorph"
