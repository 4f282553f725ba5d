#!/usr/bin/env bash
# build_lib.sh -- build script of the `libarraymorph` conda output: the C/C++ library, header,
# CMake package, arraymorph.pc, and the VOL plugin link in $PREFIX/lib/hdf5/plugin (HDF5's
# default plugin folder in conda, so HDF5_VOL_CONNECTOR=arraymorph works without
# HDF5_PLUGIN_PATH).
#
# Inputs (set by conda-build / rattler-build; tests/python/test_packaging.py sets them by hand):
#   SRC_DIR, PREFIX, CMAKE_ARGS (conda's toolchain/prefix flags), CPU_COUNT,
#   ARRAYMORPH_MPI ("nompi" or an MPI name; default nompi),
#   ARRAYMORPH_LIB_BUILD_DIR (optional: reuse a build folder so repeat runs are incremental).
# Fails before compiling when zstd or blosc is missing from the host prefix.
set -euo pipefail

build_dir=${ARRAYMORPH_LIB_BUILD_DIR:-$SRC_DIR/build-libarraymorph}
enable_mpi=ON
[[ ${ARRAYMORPH_MPI:-nompi} == nompi ]] && enable_mpi=OFF

# CMAKE_ARGS is a space-separated flag list by conda convention: split it on purpose.
# shellcheck disable=SC2086
cmake -S "$SRC_DIR" -B "$build_dir" -G Ninja ${CMAKE_ARGS:-} \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$PREFIX" \
  -DCMAKE_INSTALL_LIBDIR=lib \
  -DARRAYMORPH_PLUGIN_INSTALL_DIR=lib/hdf5/plugin \
  -DARRAYMORPH_ENABLE_MPI="$enable_mpi" \
  -DARRAYMORPH_BUILD_PYTHON=OFF \
  -DBUILD_TESTING=OFF
# The project treats zstd and blosc as optional (a source build without them still works), but
# the package promises both codecs: stop here rather than ship a library that silently lacks one.
for codec in ZSTD BLOSC; do
  if ! grep -qx "${codec}_FOUND:INTERNAL=1" "$build_dir/CMakeCache.txt"; then
    echo "build_lib.sh: ${codec,,} not found by pkg-config in the host prefix; refusing to build" \
      "libarraymorph without it" >&2
    exit 1
  fi
done
cmake --build "$build_dir" --parallel "${CPU_COUNT:-1}"
cmake --install "$build_dir"
