# _install_package.sh -- sourced by test.sh and quickstart.sh; defines install_package.
#
# install_package ON|OFF: runs bootstrap.sh (cached), sources its env.sh, then builds and installs
# the arraymorph package into the bootstrapped venv, with the C++ unit tests (ON) or without
# (OFF). ARRAYMORPH_PIP_ARGS adds pip arguments (e.g. "-C cmake.build-type=Debug"). Exports
# ARRAYMORPH_BUILD_DIR. Returns non-zero at the first failing step.
#
# Why these pip flags: --no-deps keeps pip from replacing our h5py (built against the
# bootstrapped libhdf5) with a wheel that bundles another libhdf5; --no-build-isolation builds
# with the venv's nanobind/scikit-build-core; a persistent build dir (build/py) makes re-runs
# incremental.
install_package() {
  local testing=${1:-ON} root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || return 1
  bash "$root/scripts/bootstrap.sh" || return 1
  # shellcheck disable=SC1091
  source "${ARRAYMORPH_CACHE:-$HOME/.cache/arraymorph}/env.sh" || return 1
  # again on its own: env.sh written by an older checkout's bootstrap lacks it (scripts/_aws_crt.sh)
  # shellcheck disable=SC1091
  source "$ARRAYMORPH_CACHE/aws-crt.env" || return 1
  export ARRAYMORPH_BUILD_DIR="$root/build/py"
  if [[ -n ${ARRAYMORPH_DEV_VENV:-} ]]; then
    _dev_venv "$ARRAYMORPH_DEV_VENV" || return 1
  fi
  if command -v ccache >/dev/null; then
    export CMAKE_C_COMPILER_LAUNCHER=${CMAKE_C_COMPILER_LAUNCHER:-ccache}
    export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}
    export CCACHE_DIR=${CCACHE_DIR:-$ARRAYMORPH_CACHE/ccache} CCACHE_BASEDIR=${CCACHE_BASEDIR:-/}
  fi
  echo "== building and installing arraymorph (build dir: build/py, C++ tests: $testing)"
  # shellcheck disable=SC2086
  (cd "$root" && python -m pip install -q --no-deps --no-build-isolation --force-reinstall \
      -C build-dir="$ARRAYMORPH_BUILD_DIR" -C cmake.define.BUILD_TESTING="$testing" \
      ${ARRAYMORPH_PIP_ARGS:-} . 2> >(grep -v -e "is ignored: it is neither" -e "^DEPRECATION" >&2))
}

# _dev_venv DIR: a venv whose site-packages chains to the bootstrapped venv's (a .pth file), put
# first on PATH. Packages installed into it shadow the shared ones for this shell only.
_dev_venv() {
  local dir=$1 shared_site site
  shared_site=$("$ARRAYMORPH_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') || return 1
  [[ -x $dir/bin/python ]] || "$ARRAYMORPH_VENV/bin/python" -m venv --without-pip "$dir" || return 1
  site=$("$dir/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') || return 1
  echo "$shared_site" > "$site/_arraymorph_shared_venv.pth"
  # mpi4py looks for the PyPI mpich's libmpi under sys.prefix/lib: point it at the shared one.
  mkdir -p "$dir/lib" && ln -sf "$ARRAYMORPH_VENV"/lib/libmpi* "$dir/lib/" 2>/dev/null || true
  export PATH="$dir/bin:$PATH" VIRTUAL_ENV="$dir"
}
