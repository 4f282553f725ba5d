#!/usr/bin/env bash
# quickstart.sh -- README's first command: sets everything up, then writes and reads a chunked
# HDF5 dataset with plain h5py through arraymorph on the local filesystem store (no cloud account
# needed) and shows what was stored.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

# shellcheck source=_install_package.sh
source scripts/_install_package.sh
install_package OFF

DATA="$ROOT/quickstart-data"
rm -rf "$DATA"
mkdir -p "$DATA"
echo "== running examples/quickstart.py (local store: $DATA)"
# The connector is enabled by arraymorph.enable() inside the example; these select the store.
STORAGE_PLATFORM=Local ARRAYMORPH_LOCAL_ROOT="$DATA" python examples/quickstart.py

echo "== $(find "$DATA" -type f -name zarr.json | wc -l) zarr.json + $(find "$DATA" -type f -path '*/c/*' | wc -l) chunk objects stored under $DATA"
