#!/usr/bin/env bash
# hdf5_series.sh SERIES -- headers and runtime libhdf5 to build arraymorph's wheel parts for one
# HDF5 series (1_14 or 2). Prints two lines: the header folder, then the libhdf5 to link against.
#
# No HDF5 with headers exists for both series on Debian 12, and the wheel must bind to the libhdf5
# that h5py's PyPI wheels bundle. So (see ../shared/BOOTSTRAP.md):
#   headers: Debian's binary libhdf5-dev (trixie: 1.14.5, sid: 2.2.x), unpacked, never installed
#            (they need a newer glibc to run); fetched with a private apt configuration whose URI
#            is the archive this machine's apt already uses (no host name is written anywhere);
#   runtime: the libhdf5 inside the h5py wheel of the lowest HDF5 of the series we test
#            (h5py 3.15.1: 1.14.6; h5py 3.16.0: 2.0.0), linked with --no-undefined, so a symbol
#            that runtime lacks fails the build.
# Cached under $ARRAYMORPH_CACHE/hdf5-series/ (keyed by series, suite and h5py version).
set -euo pipefail
series=${1:?usage: hdf5_series.sh 1_14|2}
CACHE=${ARRAYMORPH_CACHE:-$HOME/.cache/arraymorph}
PYTHON=${PYTHON:-python3}
case $series in
  1_14) suite=trixie; h5py=3.15.1 ;;
  2) suite=sid; h5py=3.16.0 ;;
  *) echo "hdf5_series.sh: unknown series '$series' (1_14 or 2)" >&2; exit 2 ;;
esac
dir="$CACHE/hdf5-series/$series-$suite-h5py$h5py"
if [[ ! -f $dir/.done ]]; then
  rm -rf "$dir"; mkdir -p "$dir/deb" "$dir/lib"
  A="$CACHE/apt-$suite-bin"; mkdir -p "$A/lists/partial" "$A/cache/archives/partial"
  mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null | awk '$2=="bookworm"{print $1; exit}')
  [[ -n $mirror ]] || { echo "hdf5_series.sh: no bookworm archive in apt's sources" >&2; exit 1; }
  echo "deb [arch=amd64] ${mirror%/} $suite main" > "$A/sources.list"
  APTO=(-o Dir::Etc::SourceList="$A/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State::Lists="$A/lists" -o Dir::Cache="$A/cache" -o Dir::State::status=/dev/null
    -o APT::Sandbox::User=root)
  apt-get "${APTO[@]}" update -qq >&2
  (cd "$dir/deb" && apt-get "${APTO[@]}" download -qq libhdf5-dev >&2)
  dpkg-deb -x "$dir"/deb/libhdf5-dev_*.deb "$dir/deb/x"
  mv "$dir/deb/x/usr/include/hdf5/serial" "$dir/include"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$PYTHON" -m pip download -q --no-deps --only-binary=:all: \
    -d "$dir/deb" "h5py==$h5py" 2> >(grep -v "is ignored: it is neither" >&2)
  "$PYTHON" -m zipfile -e "$dir"/deb/h5py-*.whl "$dir/deb/whl"
  mv "$dir"/deb/whl/h5py.libs/* "$dir/lib/"
  rm -rf "$dir/deb"
  touch "$dir/.done"
fi
echo "$dir/include"
ls "$dir"/lib/libhdf5-*.so* | grep -v '_hl' | head -n1
