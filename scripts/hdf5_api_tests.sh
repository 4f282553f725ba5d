#!/usr/bin/env bash
# hdf5_api_tests.sh -- run HDF5's own API test suite (test/API, H5_api_test) against arraymorph.
#
#   bash scripts/hdf5_api_tests.sh            # build (cached) + run every group + check baseline
#   ARRAYMORPH_PLUGIN_DIR=build/dev bash scripts/hdf5_api_tests.sh
#
# 1. Build. H5_api_test is compiled from the SAME HDF5 source tarball the bootstrap built
#    ($ARRAYMORPH_HDF5_SRC) and linked against the INSTALLED libhdf5 in $HDF5_DIR, so the test
#    program and the plugin (linked to $HDF5_DIR/lib/libhdf5.so.310) share one libhdf5. Only the
#    API-test sources are compiled (test/API/*.c + test/h5test.c + test/testframe.c, ~30 s cold on
#    2 cores): configuring the whole HDF5 tree with -DHDF5_TEST_API=ON would also rebuild libhdf5
#    (its h5test library links the in-tree hdf5-shared target). The test's config header is made
#    from HDF5's own template (test/API/H5_api_test_config.h.in) by CMake's configure_file with
#    the defaults of -DHDF5_TEST_API=ON (no async, no driver); the private headers it needs
#    (H5private.h, ...) come from the tarball's src/ and H5pubconf.h from the installed prefix.
#    Cached in $ARRAYMORPH_CACHE/api-tests-<key> (key: tarball name, gcc version, compiler,
#    prefix, RECIPE_REV below), so repeat runs take seconds.
# 2. Run. Every group (file group dataset datatype attribute link object misc) runs as its own
#    process, with a timeout, in a fresh local store (STORAGE_PLATFORM=Local,
#    ARRAYMORPH_LOCAL_ROOT=<empty dir>; the suite's plain file names such as H5_api_test.h5 become
#    directories there) and HDF5_VOL_CONNECTOR=arraymorph. The loader log (LD_DEBUG=files) of
#    each run is checked: arraymorph was loaded and exactly one libhdf5, the prefix's, was.
#    A group that crashes or times out counts as: passed 0, failed = every test it reached.
# 3. Report. Per-group and total passed/failed/skipped (from the suite's own summary lines) go to
#    build/api-tests.json (logs: build/api-tests-logs/), plus a one-line summary on stdout.
#    Exit status: 0 unless the total passed count is below tests/hdf5_api_baseline.json (or the
#    build / library checks fail). The many expected failures do not make the exit non-zero.
#
# Knobs (environment):
#   ARRAYMORPH_PLUGIN_DIR     directory holding libarraymorph.so (default: $ARRAYMORPH_BUILD_DIR
#                             if it holds one, else python -c 'arraymorph.get_plugin_path()')
#   API_TEST_GROUPS           space-separated subset of groups (default: all)
#   API_TEST_TIMEOUT          seconds per group (default 300)
#   API_TEST_JSON             output path (default build/api-tests.json)
#   API_TEST_BASELINE         baseline path (default tests/hdf5_api_baseline.json)
#   API_TEST_UPDATE_BASELINE=1  rewrite the baseline from this run's numbers
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RECIPE_REV=1   # bump to force a rebuild of the cached test program

log() { printf '[hdf5-api %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }

CACHE=${ARRAYMORPH_CACHE:-$HOME/.cache/arraymorph}
if [[ -z ${HDF5_DIR:-} || -z ${ARRAYMORPH_HDF5_SRC:-} ]]; then
  [[ -f $CACHE/env.sh ]] || die "no $CACHE/env.sh: run scripts/bootstrap.sh first"
  # shellcheck disable=SC1091
  source "$CACHE/env.sh"
fi
[[ -f $ARRAYMORPH_HDF5_SRC ]] || die "HDF5 source tarball $ARRAYMORPH_HDF5_SRC not found"
LIBHDF5=$(ls "$HDF5_DIR"/lib/libhdf5.so.[0-9]* 2>/dev/null | grep -E 'libhdf5\.so\.[0-9]+$' | head -n1)
[[ -n $LIBHDF5 ]] || die "no libhdf5.so.<N> in $HDF5_DIR/lib"
LIBHDF5=$(readlink -f "$LIBHDF5")

GROUPS_ALL=(file group dataset datatype attribute link object misc)
read -r -a GROUPS_RUN <<<"${API_TEST_GROUPS:-${GROUPS_ALL[*]}}"
for g in "${GROUPS_RUN[@]}"; do   # H5_api_test runs EVERY group when given an unknown name
  [[ " ${GROUPS_ALL[*]} " == *" $g "* ]] || die "unknown API test group '$g' (known: ${GROUPS_ALL[*]})"
done
TIMEOUT=${API_TEST_TIMEOUT:-300}
JSON_OUT=${API_TEST_JSON:-$ROOT/build/api-tests.json}
BASELINE=${API_TEST_BASELINE:-$ROOT/tests/hdf5_api_baseline.json}
LOGDIR=$ROOT/build/api-tests-logs
PY=$(command -v python3 || command -v python) || die "no python3"

# ---------------------------------------------------------------- 1. build (cached)
if grep -q '^#define H5_HAVE_PARALLEL 1' "$HDF5_DIR/include/H5pubconf.h"; then
  CC_API=${MPICC:-$(command -v mpicc)}
  [[ -x $CC_API ]] || die "HDF5 in $HDF5_DIR is parallel but no mpicc found (set MPICC)"
else
  CC_API=${CC:-gcc}
fi
src_name=$(basename "$ARRAYMORPH_HDF5_SRC")
key=$(printf '%s\n' "$RECIPE_REV" "$src_name" "$(gcc -dumpfullversion)" "$CC_API" "$HDF5_DIR" \
  | sha256sum | cut -c1-16)
BIN_DIR="$CACHE/api-tests-$key"
EXE="$BIN_DIR/H5_api_test"

build_api_tests() {
  # Builds in place in $BIN_DIR (the sources stay there, so -g backtraces and the suite's
  # "at <file>:<line>" messages point at real files); BUILD_INFO, written last, marks it complete.
  local src b f objs=()
  rm -rf "$BIN_DIR" && mkdir -p "$BIN_DIR" || return 1
  log "building H5_api_test from $src_name against $HDF5_DIR (cold build, ~30 s on 2 cores)"
  tar -xzf "$ARRAYMORPH_HDF5_SRC" -C "$BIN_DIR" --wildcards \
    '*/src/*.h' '*/test/*.h' '*/test/h5test.c' '*/test/testframe.c' '*/test/H5srcdir_str.h.in' \
    '*/test/API/*' || return 1
  src=$(find "$BIN_DIR" -mindepth 1 -maxdepth 1 -type d -name 'hdf5-*' | head -n1)
  [[ -n $src ]] || return 1
  b="$BIN_DIR/obj"; mkdir -p "$b" || return 1
  # HDF5's own templates, filled the way its CMake does for -DHDF5_TEST_API=ON (no async/driver)
  printf '%s\n' "set (srcdir \"$src/test\")" \
    "configure_file (\"$src/test/API/H5_api_test_config.h.in\" \"$b/H5_api_test_config.h\")" \
    "configure_file (\"$src/test/H5srcdir_str.h.in\" \"$b/H5srcdir_str.h\" @ONLY)" >"$b/gen.cmake"
  cmake -P "$b/gen.cmake" || return 1
  local sources=("$src"/test/API/H5_api_{file,group,dataset,datatype,attribute,link,misc,object}_test.c
    "$src/test/API/H5_api_test.c" "$src/test/API/H5_api_test_util.c" "$src/test/h5test.c"
    "$src/test/testframe.c")
  for f in "${sources[@]}"; do [[ -f $f ]] || { log "missing $f"; return 1; }; done
  # -O0: compile time dominates (the tests themselves run in seconds); -g for backtraces.
  printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -I{} sh -c \
    'f="$1"; shift; exec "$@" -c "$f" -o "'"$b"'/$(basename "$f" .c).o"' _ {} \
    "$CC_API" -O0 -g -w -std=gnu99 -DH5_HAVE_TEST_API -DH5_TEST_EXPRESS_LEVEL_DEFAULT=3 \
    -I"$b" -I"$src/src" -I"$src/test" -I"$src/test/API" -I"$HDF5_DIR/include" || return 1
  for f in "${sources[@]}"; do objs+=("$b/$(basename "$f" .c).o"); done
  "$CC_API" -o "$EXE" "${objs[@]}" -L"$HDF5_DIR/lib" -Wl,-rpath,"$HDF5_DIR/lib" -lhdf5 -lm \
    || return 1
  rm -f "${objs[@]}"
  printf 'source: %s\nprefix: %s\ncompiler: %s\ngcc: %s\n' "$src_name" "$HDF5_DIR" "$CC_API" \
    "$(gcc -dumpfullversion)" >"$BIN_DIR/BUILD_INFO"
}

mkdir -p "$CACHE"
exec 9>"$CACHE/api-tests.lock"
flock 9   # concurrent runs (pytest + a developer) build once
if [[ ! -x $EXE || ! -f $BIN_DIR/BUILD_INFO ]]; then
  t0=$SECONDS
  build_api_tests || { rm -rf "$BIN_DIR"; die "building H5_api_test failed"; }
  log "built $EXE in $((SECONDS - t0)) s"
fi
flock -u 9

# the test program must resolve libhdf5 to the prefix's library (the one the plugin links)
exe_h5=$(ldd "$EXE" | awk '/libhdf5\.so/{print $3; exit}')
[[ -n $exe_h5 && $(readlink -f "$exe_h5") == "$LIBHDF5" ]] \
  || die "$EXE resolves libhdf5 to '${exe_h5}', expected $LIBHDF5"

# ---------------------------------------------------------------- 2. plugin
PLUGIN_DIR=${ARRAYMORPH_PLUGIN_DIR:-}
if [[ -z $PLUGIN_DIR && -n ${ARRAYMORPH_BUILD_DIR:-} && -e ${ARRAYMORPH_BUILD_DIR}/libarraymorph.so ]]; then
  PLUGIN_DIR=$ARRAYMORPH_BUILD_DIR
fi
if [[ -z $PLUGIN_DIR ]]; then
  PLUGIN_DIR=$("$PY" -c 'import arraymorph; print(arraymorph.get_plugin_path())' 2>/dev/null) \
    || die "cannot find the plugin: set ARRAYMORPH_PLUGIN_DIR or install the arraymorph package"
fi
PLUGIN_DIR=$(cd "$PLUGIN_DIR" && pwd) || die "plugin dir $PLUGIN_DIR missing"
[[ -e $PLUGIN_DIR/libarraymorph.so ]] || die "no libarraymorph.so in $PLUGIN_DIR"
plug_h5=$(ldd "$PLUGIN_DIR/libarraymorph.so" | awk '/libhdf5\.so/{print $3; exit}')
[[ -n $plug_h5 && $(readlink -f "$plug_h5") == "$LIBHDF5" ]] \
  || die "$PLUGIN_DIR/libarraymorph.so resolves libhdf5 to '${plug_h5}', expected $LIBHDF5"

# ---------------------------------------------------------------- 3. run each group
rm -rf "$LOGDIR"; mkdir -p "$LOGDIR"
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/arraymorph-api-tests.XXXXXX") || die "mktemp"
trap 'rm -rf "$RUN_DIR"' EXIT
log "running ${GROUPS_RUN[*]} with plugin $PLUGIN_DIR (timeout ${TIMEOUT}s per group)"
for g in "${GROUPS_RUN[@]}"; do
  mkdir -p "$RUN_DIR/$g/store" "$RUN_DIR/$g/cwd"
  t0=$(date +%s.%N)
  # env -u: cloud settings from the caller's shell would switch the default store away from Local
  # (the outer { } 2>/dev/null only swallows bash's own "Segmentation fault" job report)
  { (cd "$RUN_DIR/$g/cwd" && exec env -u BUCKET_NAME -u AWS_ENDPOINT_URL_S3 -u AWS_ENDPOINT_URL \
      -u AZURE_STORAGE_CONNECTION_STRING -u HDF5_API_TEST_PATH_PREFIX -u HDF5_VOL_CONNECTOR_INFO \
      HDF5_VOL_CONNECTOR=arraymorph HDF5_PLUGIN_PATH="$PLUGIN_DIR" STORAGE_PLATFORM=Local \
      ARRAYMORPH_LOCAL_ROOT="$RUN_DIR/$g/store" LD_DEBUG=files LD_DEBUG_OUTPUT="$RUN_DIR/$g/ld" \
      timeout -k 10 "$TIMEOUT" "$EXE" "$g") >"$LOGDIR/$g.out" 2>"$LOGDIR/$g.err" </dev/null; } 2>/dev/null
  rc=$?
  ((rc == 0 || rc == 1)) || log "$g: exit status $rc (crash or timeout; see $LOGDIR/$g.err)"
  t1=$(date +%s.%N)
  cat "$RUN_DIR/$g"/ld.* >"$LOGDIR/$g.ld" 2>/dev/null
  printf '%s %s %s\n' "$rc" "$t0" "$t1" >"$LOGDIR/$g.rc"
done

# ---------------------------------------------------------------- 4. parse, report, baseline
"$PY" - "$LOGDIR" "$JSON_OUT" "$BASELINE" "$LIBHDF5" "$PLUGIN_DIR" "$src_name" "$TIMEOUT" \
  "${API_TEST_UPDATE_BASELINE:-0}" "${GROUPS_RUN[@]}" <<'PYEOF'
import datetime, json, os, re, sys

logdir, out, baseline_path, libhdf5, plugin_dir, src_name, timeout, update = sys.argv[1:9]
groups = sys.argv[9:]
SUMMARY = re.compile(r"^(\d+)/(\d+) \(.*\) API tests (passed|did not pass|were skipped) with VOL")
KEYS = {"passed": "passed", "did not pass": "failed", "were skipped": "skipped"}

def loaded_libs(ld_log):
    """Objects the dynamic loader initialised ('calling init: <path>')."""
    libs = []
    try:
        for line in open(ld_log, errors="replace"):
            m = re.search(r"calling init: (\S+)", line)
            if m:
                libs.append(os.path.realpath(m.group(1)))
    except OSError:
        pass
    return libs

result = {"date": datetime.date.today().isoformat(), "hdf5_source": src_name, "libhdf5": libhdf5,
          "plugin_dir": plugin_dir, "groups": {}, "total": {}}
problems = []
for g in groups:
    rc, t0, t1 = open(f"{logdir}/{g}.rc").read().split()
    rc = int(rc)
    text = open(f"{logdir}/{g}.out", errors="replace").read()
    summary, markers = {}, {"passed": 0, "failed": 0, "skipped": 0}
    failed_tests, current, parent = [], None, None
    for line in text.splitlines():
        m = SUMMARY.match(line)
        if m:
            summary[KEYS[m.group(3)]] = int(m.group(1))
            summary["run"] = int(m.group(2))
            continue
        t = re.match(r"^(\s*)Testing (.*?)\s*(PASSED|\*FAILED\*|-SKIP-)?$", line)
        if t:  # "Testing X" is a test, "  Testing Y" one of its parts
            if t.group(1):
                current = f"{parent} / {t.group(2)}" if parent else t.group(2)
            else:
                parent = current = t.group(2)
        if line.rstrip().endswith("PASSED"):
            markers["passed"] += 1
        elif "*FAILED*" in line:
            markers["failed"] += 1
            if current and current not in failed_tests:
                failed_tests.append(current)
        elif line.rstrip().endswith("-SKIP-"):
            markers["skipped"] += 1
    if rc == 124 or rc == 137:
        status = "timeout"
    elif rc > 128 or rc < 0:
        status = f"crashed (signal {rc - 128 if rc > 128 else -rc})"
    elif "passed" not in summary:
        status = f"no summary (exit {rc})"
    else:
        status = "ok"
    entry = {"status": status, "exit_code": rc, "seconds": round(float(t1) - float(t0), 2)}
    if status == "ok":
        entry.update(passed=summary["passed"], failed=summary["failed"],
                     skipped=summary.get("skipped", 0), run=summary["run"])
    else:
        # the suite died: every test it reached counts as failed, plus the one it died in
        entry.update(passed=0, failed=markers["passed"] + markers["failed"] + 1,
                     skipped=markers["skipped"], passed_before_abort=markers["passed"],
                     aborted_in=current)
    entry["failed_tests"] = failed_tests
    libs = loaded_libs(f"{logdir}/{g}.ld")
    h5 = sorted({l for l in libs if re.search(r"/libhdf5\.so", l)})
    entry["libhdf5_loaded"] = h5
    entry["plugin_loaded"] = any(l.endswith("libarraymorph.so") or "/libarraymorph.so." in l for l in libs)
    if h5 != [libhdf5]:
        problems.append(f"{g}: libhdf5 loaded {h5}, expected exactly [{libhdf5}]")
    if not entry["plugin_loaded"]:
        problems.append(f"{g}: libarraymorph.so was not loaded (see {logdir}/{g}.err)")
    result["groups"][g] = entry

tot = {k: sum(e[k] for e in result["groups"].values()) for k in ("passed", "failed", "skipped")}
tot["aborted_groups"] = [g for g, e in result["groups"].items() if e["status"] != "ok"]
result["total"] = tot

baseline = None
if os.path.exists(baseline_path):
    baseline = json.load(open(baseline_path))
full_run = sorted(groups) == sorted(["file", "group", "dataset", "datatype", "attribute", "link",
                                     "object", "misc"])
rc = 0
if problems:
    rc = 2
verdict = ""
if update == "1":
    if not full_run:
        problems.append("API_TEST_UPDATE_BASELINE needs a run of every group")
        rc = 2
    else:
        new = {"note": "minimum passed counts of scripts/hdf5_api_tests.sh; raise when more pass",
               "date": result["date"], "hdf5_source": src_name, "total_passed": tot["passed"],
               "groups": {g: {k: e[k] for k in ("passed", "failed", "skipped")}
                          for g, e in result["groups"].items()}}
        with open(baseline_path, "w") as f:
            json.dump(new, f, indent=2)
            f.write("\n")
        verdict = f"; baseline written to {baseline_path}"
elif baseline is not None:
    if full_run:
        want = baseline["total_passed"]
        verdict = f"; baseline {want} passed"
        if tot["passed"] < want:
            verdict += " -> REGRESSION"
            rc = rc or 1
        elif tot["passed"] > want:
            verdict += " (more pass now: raise it with API_TEST_UPDATE_BASELINE=1)"
    for g, e in result["groups"].items():
        b = baseline.get("groups", {}).get(g)
        if b and e["passed"] < b["passed"]:
            msg = f"{g}: {e['passed']} passed < baseline {b['passed']}"
            print(f"[hdf5-api] note: {msg}", file=sys.stderr)
            if not full_run:
                rc = rc or 1
else:
    verdict = f"; no baseline at {baseline_path}"
result["baseline"] = baseline
result["exit_status"] = rc
result["problems"] = problems

os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
with open(out + ".tmp", "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")
os.replace(out + ".tmp", out)
for p in problems:
    print(f"[hdf5-api] ERROR: {p}", file=sys.stderr)
per = " ".join(f"{g}={e['passed']}/{e['failed']}/{e['skipped']}"
               + ("" if e["status"] == "ok" else f"[{e['status']}]")
               for g, e in result["groups"].items())
print(f"HDF5 API tests (arraymorph): {tot['passed']} passed, {tot['failed']} failed, "
      f"{tot['skipped']} skipped ({per} as passed/failed/skipped){verdict}; details in {out}")
sys.exit(rc)
PYEOF
