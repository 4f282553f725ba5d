#!/usr/bin/env bash
# Builds the aws-c-s3 prototype benchmark (crt_s3_bench.cpp; issue 18). Benchmark-only: neither
# the bootstrap nor CI builds it. aws-checksums and aws-c-s3 come from the same awscrt sdist as
# the aws-c-auth the project links (scripts/_aws_crt.sh), built static on top of that prefix into
# ~/.cache/arraymorph/crt-s3-proto-<version>; the program then goes to build/crt_s3/.
#
#   source ~/.cache/arraymorph/env.sh && bash benchmarks/crt_s3/build.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${ARRAYMORPH_CACHE:-$HOME/.cache/arraymorph}
VERSION=$(sed -n 's/^AWSCRT_VERSION=//p' "$ROOT/scripts/_aws_crt.sh")
SDIST="$CACHE/src/awscrt-$VERSION.tar.gz"
PREFIX="$CACHE/crt-s3-proto-$VERSION"
[[ -f $SDIST ]] || { echo "missing $SDIST (run scripts/bootstrap.sh first)" >&2; exit 1; }
[[ -n ${CMAKE_PREFIX_PATH:-} ]] || { echo "source ~/.cache/arraymorph/env.sh first" >&2; exit 1; }
if [[ ! -f $PREFIX/lib/libaws-c-s3.a ]]; then
  work=$(mktemp -d)
  tar -xzf "$SDIST" -C "$work" "awscrt-$VERSION/crt/aws-checksums" "awscrt-$VERSION/crt/aws-c-s3"
  for lib in aws-checksums aws-c-s3; do
    cmake -S "$work/awscrt-$VERSION/crt/$lib" -B "$work/build-$lib" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DBUILD_SHARED_LIBS=OFF -DBUILD_TESTING=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
      -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_INSTALL_PREFIX="$PREFIX" \
      -DCMAKE_PREFIX_PATH="$PREFIX;$CMAKE_PREFIX_PATH" >"$work/$lib.log"
    cmake --build "$work/build-$lib" -j 2 >>"$work/$lib.log"
    cmake --install "$work/build-$lib" >>"$work/$lib.log"
  done
  rm -rf "$work"
fi
cmake -S "$ROOT" -B "$ROOT/build/crt_s3" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DARRAYMORPH_CRT_S3_PROTOTYPE=ON -DCMAKE_PREFIX_PATH="$PREFIX;$CMAKE_PREFIX_PATH" >/dev/null
cmake --build "$ROOT/build/crt_s3" --target crt_s3_bench -j 2
echo "built $ROOT/build/crt_s3/benchmarks/crt_s3/crt_s3_bench"
