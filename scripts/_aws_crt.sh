# _aws_crt.sh -- sourced by bootstrap.sh; builds aws-c-auth and the AWS Common Runtime libraries it
# needs (docs/design.md, "AWS credentials from aws-c-auth").
#
# Source: the C folders inside the awscrt sdist (PyPI, `crt/`), pinned by AWSCRT_VERSION. Built as
# static PIC libraries (Release, no tests) into $CACHE/aws-crt-<version>-<key>, against the
# system OpenSSL's libcrypto (aws-c-cal USE_OPENSSL, s2n without its bundled aws-lc: aws-lc alone
# would take longer than everything else together). The prefix is kept as a tarball under
# $CACHE/prefix, so a warm run restores or skips it. CMake finds the libraries through
# CMAKE_PREFIX_PATH, the same path conda-forge/spack packages of aws-c-auth use: the step writes
# $CACHE/aws-crt.env, which env.sh, _install_package.sh and build_wheel.sh source. (A file of its
# own, because a bootstrap.sh of an older checkout sharing the cache rewrites env.sh without it.)
#
# Requires (from bootstrap.sh): CACHE, PIP array, log(). Sets AWS_CRT_PREFIX.
AWSCRT_VERSION=0.38.0
AWS_CRT_LIBS=(aws-c-common s2n aws-c-cal aws-c-io aws-c-compression aws-c-http aws-c-sdkutils aws-c-auth)
AWS_CRT_FLAGS=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DBUILD_TESTING=OFF
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DCMAKE_INSTALL_LIBDIR=lib)

aws_crt_build() {
  local key stamp
  key=$(printf '%s\n' "$AWSCRT_VERSION" "${AWS_CRT_LIBS[*]}" "${AWS_CRT_FLAGS[*]}" "$(gcc -dumpfullversion)" \
    "$(dpkg-query -W -f='${Version}' libssl-dev 2>/dev/null)" | sha256sum | cut -c1-12)
  AWS_CRT_PREFIX="$CACHE/aws-crt-$AWSCRT_VERSION-$key"
  stamp="$AWS_CRT_PREFIX/.bootstrap-$key"
  [[ -f $stamp ]] || aws_crt_install "$key" || return 1
  cat > "$CACHE/aws-crt.env.tmp" <<ENVEOF
# source this (idempotent): puts the bootstrapped aws-c-auth on CMAKE_PREFIX_PATH
case ":\${CMAKE_PREFIX_PATH:-}:" in
  *":$AWS_CRT_PREFIX:"*) ;;
  *) export CMAKE_PREFIX_PATH="$AWS_CRT_PREFIX\${CMAKE_PREFIX_PATH:+:\$CMAKE_PREFIX_PATH}" ;;
esac
ENVEOF
  mv "$CACHE/aws-crt.env.tmp" "$CACHE/aws-crt.env"
}

# Builds (or restores from the tarball) the prefix of key $1.
aws_crt_install() {
  local key=$1 sdist work src stage lib args jobs=${AWS_CRT_JOBS:-2}
  if [[ ! -f "$CACHE/prefix/aws-crt-$key.tar.gz" ]]; then
    sdist="$CACHE/src/awscrt-$AWSCRT_VERSION.tar.gz"
    if [[ ! -f $sdist ]]; then
      log "aws-crt: fetching the awscrt $AWSCRT_VERSION sdist"
      "${PIP[@]}" download --no-binary :all: --no-deps --no-build-isolation -d "$CACHE/src" "awscrt==$AWSCRT_VERSION"
    fi
    log "aws-crt: building ${AWS_CRT_LIBS[*]} (static, -j$jobs), about 3 minutes"
    work=$(mktemp -d "$CACHE/build.XXXXXX")
    # only the folders we build (aws-lc alone is 100 MB)
    tar -xzf "$sdist" -C "$work" --wildcards "${AWS_CRT_LIBS[@]/#/awscrt-$AWSCRT_VERSION/crt/}"
    src="$work/awscrt-$AWSCRT_VERSION/crt"
    stage="$work/stage$AWS_CRT_PREFIX"
    for lib in "${AWS_CRT_LIBS[@]}"; do
      args=("${AWS_CRT_FLAGS[@]}" -DCMAKE_INSTALL_PREFIX="$AWS_CRT_PREFIX" -DCMAKE_PREFIX_PATH="$stage")
      case $lib in
        s2n) args+=(-DS2N_INTERN_LIBCRYPTO=OFF -DUNSAFE_TREAT_WARNINGS_AS_ERRORS=OFF) ;;
        aws-c-cal) args+=(-DUSE_OPENSSL=ON) ;;
      esac
      cmake -S "$src/$lib" -B "$work/build-$lib" "${args[@]}" >"$work/$lib.log" 2>&1 \
        && cmake --build "$work/build-$lib" -j "$jobs" >>"$work/$lib.log" 2>&1 \
        && DESTDIR="$work/stage" cmake --install "$work/build-$lib" >>"$work/$lib.log" 2>&1 \
        || { tail -n 40 "$work/$lib.log"; log "aws-crt: $lib failed (log: $work/$lib.log)"; return 1; }
    done
    tar -C "$stage" -czf "$CACHE/prefix/aws-crt-$key.tar.gz.tmp" .
    mv "$CACHE/prefix/aws-crt-$key.tar.gz.tmp" "$CACHE/prefix/aws-crt-$key.tar.gz"
    rm -rf "$work"
  else
    log "aws-crt: restoring $AWS_CRT_PREFIX from cache"
  fi
  rm -rf "$AWS_CRT_PREFIX"; mkdir -p "$AWS_CRT_PREFIX"
  tar -C "$AWS_CRT_PREFIX" -xzf "$CACHE/prefix/aws-crt-$key.tar.gz"
  touch "$AWS_CRT_PREFIX/.bootstrap-$key"
}
