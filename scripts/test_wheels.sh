#!/usr/bin/env bash
# test_wheels.sh -- the wheel from scripts/build_wheel.sh, installed as a pip user would, next to
# the h5py wheels from PyPI, each in its own venv (a step of scripts/test.sh):
#   H5PY_MATRIX (3.16.0: HDF5 2.0.0; 3.15.1: HDF5 1.14.6): the whole Python suite on the local,
#     S3 (SeaweedFS) and Azure (Azurite) stores;
#   H5PY_SHORT_MATRIX (3.12.1: HDF5 1.14.4; 3.11.0: HDF5 1.14.2, the oldest h5py the wheel
#     accepts): the README tutorial (S3 and environment variables), every dtype on every store,
#     and connector loading (SHORT_TESTS).
#
#   bash scripts/test_wheels.sh
#   H5PY_MATRIX="3.16.0" H5PY_SHORT_MATRIX="" PYTEST_ARGS="-k tutorial" bash scripts/test_wheels.sh
#
# Tests that need the source build (C examples and build tree, MPI, the packaging scripts) carry
# the `source_build` marker and are deselected here. The venvs hold the test packages of
# bootstrap.sh's PY_TEST_PKGS (one list) and are cached under $ARRAYMORPH_CACHE/wheel, keyed by
# h5py's version, that list and the Python; the wheel (cached by build_wheel.sh, keyed on the
# sources) is reinstalled into them on every run, so they always test the current sources.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
H5PY_MATRIX=${H5PY_MATRIX-"3.16.0 3.15.1"}
H5PY_SHORT_MATRIX=${H5PY_SHORT_MATRIX-"3.12.1 3.11.0"}
SHORT_TESTS=(tests/python/test_s3_tutorial.py tests/python/test_dtypes.py
             tests/python/test_connector_loading.py)
SECONDS=0

wheel=$(bash scripts/build_wheel.sh | tail -n1) && [[ -f $wheel ]] || { echo "FAILED: build_wheel.sh"; exit 1; }
echo "== wheel: $(basename "$wheel") (${SECONDS}s)"
# shellcheck disable=SC1091
source "${ARRAYMORPH_CACHE:-$HOME/.cache/arraymorph}/env.sh"
# A pip user's environment: nothing of the bootstrapped HDF5 or of the source build's venv
# (LD_LIBRARY_PATH would not matter for h5py's hashed sonames, but a user has none of it).
unset LD_LIBRARY_PATH HDF5_DIR HDF5_ROOT ARRAYMORPH_BUILD_DIR VIRTUAL_ENV PYTHONPATH
# bootstrap.sh's test packages (its *_VERSION pins and PY_TEST_PKGS), minus the build tools.
eval "$(sed -n -e '/^[A-Z0-9_]*_VERSION=/p' -e '/^PY_TEST_PKGS=(/,/)$/p' scripts/bootstrap.sh)"
pkgs=()
for p in "${PY_TEST_PKGS[@]}"; do
  [[ $p =~ ^(Cython|setuptools|pkgconfig|nanobind|scikit-build-core) ]] || pkgs+=("$p")
done

failed=()

# venv_for V: the cached venv with PyPI's h5py V and the test packages, the current wheel installed.
venv_for() {
  local v=$1 key venv
  key=$(printf '%s\n' "$v" "${pkgs[@]}" "$(python3 -VV)" | sha256sum | cut -c1-12)
  venv="$ARRAYMORPH_CACHE/wheel/venv-h5py$v-$key"
  if [[ ! -f $venv/.ready ]]; then
    echo "== venv with PyPI h5py $v (first run: about a minute)" >&2
    rm -rf "$venv"
    python3 -m venv "$venv" && PIP_CACHE_DIR="$ARRAYMORPH_CACHE/pip" PIP_DISABLE_PIP_VERSION_CHECK=1 \
      "$venv/bin/pip" install -q --only-binary=:all: "h5py==$v" "${pkgs[@]}" \
      2> >(grep -v "is ignored: it is neither" >&2) && touch "$venv/.ready" || return 1
  fi
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/pip" install -q --no-deps --force-reinstall "$wheel" \
    2> >(grep -v "is ignored: it is neither" >&2) || return 1
  echo "$venv"
}

# run_matrix VERSIONS TEST-ARGS...: one pytest per h5py version, one after the other (run side by
# side on a loaded 2-core machine, Azurite requests timed out).
run_matrix() {
  local versions=$1 v venv rc; shift
  for v in $versions; do
    venv=$(venv_for "$v") || { failed+=("venv/install h5py $v"); continue; }
    echo "== Python tests with PyPI h5py $v ($("$venv/bin/python" -c \
      'import h5py; print("HDF5", h5py.version.hdf5_version)' 2>&1)): $* (${SECONDS}s)"
    # shellcheck disable=SC2086
    PATH="$venv/bin:$PATH" "$venv/bin/python" -X faulthandler -m pytest -q -p no:cacheprovider \
      -rfEsxX -m "not source_build" "$@" ${PYTEST_ARGS:-}
    rc=$?
    ((rc == 0)) || failed+=("h5py $v (pytest exit $rc)")
  done
}

[[ -z $H5PY_MATRIX ]] || run_matrix "$H5PY_MATRIX" tests/python
[[ -z $H5PY_SHORT_MATRIX ]] || run_matrix "$H5PY_SHORT_MATRIX" "${SHORT_TESTS[@]}"

if ((${#failed[@]})); then
  echo "FAILED (wheel matrix, ${SECONDS}s): ${failed[*]}"
  exit 1
fi
echo "WHEEL MATRIX PASSED (${SECONDS}s; full suite: $H5PY_MATRIX; tutorial, dtypes, loading: $H5PY_SHORT_MATRIX)"
