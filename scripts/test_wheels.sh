#!/usr/bin/env bash
# test_wheels.sh -- the wheel from scripts/build_wheel.sh, installed as a pip user would, next to
# the h5py wheels from PyPI (h5py 3.16.0 bundles HDF5 2.0.0, h5py 3.15.1 bundles HDF5 1.14.6), each
# in its own venv running the Python suite on the local, S3 (SeaweedFS) and Azure (Azurite) stores.
#
#   bash scripts/test_wheels.sh                 # not yet run by scripts/test.sh (see there)
#   H5PY_MATRIX="3.16.0" PYTEST_ARGS="-k tutorial" bash scripts/test_wheels.sh
#
# Tests that need the source build (C examples and build tree, MPI, the packaging scripts) carry
# the `source_build` marker and are deselected here. The venvs hold the test packages of
# bootstrap.sh's PY_TEST_PKGS (one list) and are cached under $ARRAYMORPH_CACHE/wheel, keyed by
# h5py's version, that list and the Python; the wheel is reinstalled on every run.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
H5PY_MATRIX=${H5PY_MATRIX:-"3.16.0 3.15.1"}

wheel=$(bash scripts/build_wheel.sh | tail -n1) && [[ -f $wheel ]] || { echo "FAILED: build_wheel.sh"; exit 1; }
# shellcheck disable=SC1091
source "${ARRAYMORPH_CACHE:-$HOME/.cache/arraymorph}/env.sh"
# A pip user's environment: nothing of the bootstrapped HDF5 (LD_LIBRARY_PATH would not matter for
# h5py's hashed sonames, but a user has none of it).
unset LD_LIBRARY_PATH HDF5_DIR HDF5_ROOT ARRAYMORPH_BUILD_DIR
# bootstrap.sh's test packages (its *_VERSION pins and PY_TEST_PKGS), minus the build tools.
eval "$(sed -n -e '/^[A-Z0-9_]*_VERSION=/p' -e '/^PY_TEST_PKGS=(/,/)$/p' scripts/bootstrap.sh)"
pkgs=()
for p in "${PY_TEST_PKGS[@]}"; do
  [[ $p =~ ^(Cython|setuptools|pkgconfig|nanobind|scikit-build-core) ]] || pkgs+=("$p")
done

failed=()
for v in $H5PY_MATRIX; do
  key=$(printf '%s\n' "$v" "${pkgs[@]}" "$(python3 -VV)" | sha256sum | cut -c1-12)
  venv="$ARRAYMORPH_CACHE/wheel/venv-h5py$v-$key"
  if [[ ! -f $venv/.ready ]]; then
    echo "== venv with PyPI h5py $v (first run: about a minute)"
    rm -rf "$venv"
    python3 -m venv "$venv" && PIP_CACHE_DIR="$ARRAYMORPH_CACHE/pip" PIP_DISABLE_PIP_VERSION_CHECK=1 \
      "$venv/bin/pip" install -q --only-binary=:all: "h5py==$v" "${pkgs[@]}" \
      2> >(grep -v "is ignored: it is neither" >&2) && touch "$venv/.ready" \
      || { failed+=("venv h5py $v"); continue; }
  fi
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/pip" install -q --no-deps --force-reinstall "$wheel" \
    2> >(grep -v "is ignored: it is neither" >&2) || { failed+=("install into h5py $v"); continue; }
  echo "== Python tests with PyPI h5py $v ($("$venv/bin/python" -c 'import h5py; print("HDF5", h5py.version.hdf5_version)'))"
  # shellcheck disable=SC2086
  "$venv/bin/python" -m pytest tests/python -q -p no:cacheprovider -m "not source_build" ${PYTEST_ARGS:-}
  rc=$?
  ((rc == 0)) || failed+=("h5py $v (pytest exit $rc)")
done

if ((${#failed[@]})); then
  echo "FAILED (wheel matrix): ${failed[*]}"
  exit 1
fi
echo "WHEEL MATRIX PASSED ($H5PY_MATRIX)"
