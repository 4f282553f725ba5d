#!/usr/bin/env bash
# build_py.sh -- build script of the `arraymorph` conda output: ONLY the Python package
# (arraymorph/*.py and the nanobind _core module), built against the libarraymorph already in
# $PREFIX (host requirement, pinned exactly). The wheel must not carry its own copy of the plugin:
# _core links $PREFIX/lib/libarraymorph.so.0 and HDF5 loads $PREFIX/lib/hdf5/plugin/libarraymorph.so,
# the same file, so Python and HDF5 share one connector instance.
#
# cmake.source-dir=python builds python/CMakeLists.txt as its own project, which then finds the
# library with find_package(arraymorph) instead of building it (see docs/install.md).
set -euo pipefail

"${PYTHON:-python}" -m pip install . -vv --no-deps --no-build-isolation \
  -Ccmake.source-dir=python \
  -Cbuild-dir="${SRC_DIR}/build-arraymorph-py" \
  -Ccmake.define.CMAKE_PREFIX_PATH="$PREFIX"
