#!/usr/bin/env bash
# One-shot CUDA check of k2k on a throwaway GPU machine that has no network: builds the project
# against the LibTorch of the machine's PyTorch wheel, runs the k2k smoke pipeline end to end on
# CUDA (data prepare, pipeline incl. reader and baseline, samples, generate, eval), then ctest.
#
#   bash bench/cuda_check.sh            (run from anywhere; works in the repository root)
#
# Needs on the machine: python3 with a CUDA torch, cmake, a C++ compiler, nvcc (/usr/local/cuda),
# ideally ninja. Two git-ignored folders travel with the working tree (make both here with
# `bash bench/make_gpu_carry.sh`):
#   .gpu_deps/root  Debian bookworm packages unpacked with `dpkg -x` (the -dev packages k2k builds
#                   against and the shared libraries they need; see .gpu_deps/MANIFEST.txt).
#                   They are copied to a private prefix ($K2K_DEPS_PREFIX, default /opt/k2k-deps)
#                   and used from there: CMake through CMAKE_PREFIX_PATH, pkg-config through
#                   rewritten .pc files, the loader through LD_LIBRARY_PATH (only libraries the
#                   machine lacks), fontconfig through FONTCONFIG_FILE. If configuring fails that
#                   way, they are copied into / instead (cp -rn: nothing that exists is replaced)
#                   and the configure is retried.
#   .gpu_data       a small data set: kanjivg/kanji/*.svg and kkanji2/U+XXXX/*.png (300 SVGs,
#                   44 classes of up to 30 images; includes every file the tests name).
#
# Results go to $OUT (default /tmp/k2k-cuda-check/out), at most 8 files: env.log, build.log,
# pipeline.log, generate.log, eval.log, ctest.log, sheet.png, summary.txt. Every step prints one
# OK/FAILED/SKIPPED line with its seconds; the exit status is non-zero if any step failed.
# The whole run keeps within $K2K_CHECK_BUDGET seconds (default 450) by giving every command a
# timeout out of what is left. The CUDA steps run before ctest so they get the time first.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${K2K_WORK:-/tmp/k2k-cuda-check}
OUT=${OUT:-$WORK/out}
DATA=${K2K_GPU_DATA:-$REPO/.gpu_data}
CARRIED=${K2K_CARRIED_DEPS:-$REPO/.gpu_deps/root}
DEPS=${K2K_DEPS_PREFIX:-/opt/k2k-deps}
SYSROOT=${K2K_SYSTEM_ROOT:-/}          # target of the fallback install (tests point it elsewhere)
BUILD=${K2K_BUILD_DIR:-$REPO/build-cuda}
BUDGET=${K2K_CHECK_BUDGET:-450}
ARCH=x86_64-linux-gnu
CPATH_BEFORE=${CPATH:-}
JOBS=$(nproc 2>/dev/null || echo 4)
START=$(date +%s)
K2K=$BUILD/k2k

# Tests that count the whole shared data set (42,562 images, 6,703 KanjiVG characters, > 1000 SVG
# files); they cannot pass on the small carried subset, so ctest leaves them out.
SUBSET_EXCLUDE='^(Kuzushiji\.RealSharedSubset|Pairing\.RealKuzushijiClassesAgainstKanjiVG|RenderAgreement\.FastMatchesCairoOnKanjiVg|KanjiVgRealData\.WholeCorpusParses)$'

# ---------------------------------------------------------------------------------------------
# Step bookkeeping. run_step must be called as a plain statement (never in `if`, `||`, `&&`):
# bash ignores `set -e` inside anything called from such a context, and each step body relies on
# `set -e` to stop at its first failing command. run_step itself always returns 0 and leaves the
# body's exit status in LAST_RC.
# ---------------------------------------------------------------------------------------------
S_NAME=() S_STATE=() S_SECS=()
LAST_RC=0
ANY_FAILED=0

left() {  # seconds left of the budget (at least 1)
    local l=$((START + BUDGET - $(date +%s)))
    ((l > 0)) || l=1
    echo "$l"
}

tmo() {  # tmo CAP cmd...: run cmd with a timeout of min(CAP, time left)
    local cap=$1 l
    shift
    l=$(left)
    ((cap < l)) || cap=$l
    timeout -k 10 "$cap" "$@"
}

record() {  # record NAME STATE SECONDS
    S_NAME+=("$1") S_STATE+=("$2") S_SECS+=("$3")
    printf '[cuda_check] %-12s %-8s %7s s\n' "$1" "$2" "$3"
}

step_table() {  # one line per recorded step: name, state, seconds
    local i
    for i in "${!S_NAME[@]}"; do printf '%-12s %-8s %7s s\n' "${S_NAME[$i]}" "${S_STATE[$i]}" "${S_SECS[$i]}"; done
}

skip() {  # skip NAME WHY
    record "$1" SKIPPED 0.0
    echo "[cuda_check]   ($1 skipped: $2)"
}

run_step() {  # run_step NAME LOG MIN_SECONDS_LEFT FUNC [ARGS...]
    local name=$1 log=$2 need=$3 rc=0 t0 t1 secs
    shift 3
    if (($(left) < need)); then
        skip "$name" "only $(left) s of the ${BUDGET} s budget left"
        LAST_RC=99
        return 0
    fi
    echo "==== [$name] $(date -u +%H:%M:%S) $*" >>"$log"
    t0=$(date +%s.%N)
    (set -euo pipefail; "$@") >>"$log" 2>&1 &
    wait $! || rc=$?
    t1=$(date +%s.%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    LAST_RC=$rc
    if ((rc == 0)); then
        record "$name" OK "$secs"
    else
        ANY_FAILED=1
        if ((rc == 124 || rc == 137)); then record "$name" TIMEOUT "$secs"; else record "$name" FAILED "$secs"; fi
        echo "---- last lines of $(basename "$log") ($name, exit $rc) ----"
        tail -n 40 "$log" | cut -c1-300
        echo "----"
    fi
    return 0
}

# ---------------------------------------------------------------------------------------------
# Machine facts
# ---------------------------------------------------------------------------------------------
step_env() {
    echo "== date: $(date -u)   host: $(uname -srm)   cores: $JOBS"
    grep PRETTY_NAME /etc/os-release || true
    ldd --version 2>&1 | head -n 1 || true
    echo "== nvidia-smi -L"
    nvidia-smi -L
    nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv || true
    echo "== tools"
    for t in python3 cmake ninja g++ c++ nvcc pkg-config ldconfig readelf; do
        printf '%-11s %s\n' "$t" "$(command -v "$t" || echo MISSING)"
    done
    cmake --version | head -n 1
    (ninja --version || true) 2>&1 | head -n 1
    (g++ --version || c++ --version) 2>&1 | head -n 1
    ("$NVCC" --version || true) 2>&1 | tail -n 2
    echo "== torch"
    python3 - <<'PY'
import sys
import torch
print("python", sys.version.split()[0], sys.executable)
print("torch", torch.__version__, "built for CUDA", torch.version.cuda)
print("cuda available", torch.cuda.is_available(), "devices", torch.cuda.device_count())
if torch.cuda.is_available():
    print("device 0", torch.cuda.get_device_name(0), "capability", torch.cuda.get_device_capability(0))
print("cxx11 abi", torch.compiled_with_cxx11_abi())
print("cmake prefix", torch.utils.cmake_prefix_path)
PY
    command -v g++ >/dev/null || command -v c++ >/dev/null || { echo "no C++ compiler on this machine"; exit 1; }
    python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' ||
        { echo "torch sees no CUDA device"; exit 1; }
}

# ---------------------------------------------------------------------------------------------
# Dependencies
# ---------------------------------------------------------------------------------------------
# The carried tree holds Debian's files as installed (paths under /usr). CMake config files of these
# packages locate themselves relative to their own folder, so they work from any prefix; the .pc
# files name /usr and are rewritten; the few absolute symlinks were made relative when packing.
step_deps_private() {
    [ -d "$CARRIED/usr" ] || { echo "no carried dependencies in $CARRIED"; exit 1; }
    rm -rf "$DEPS"
    mkdir -p "$(dirname "$DEPS")"
    cp -a "$CARRIED" "$DEPS"
    local pc n
    for pc in "$DEPS/usr/lib/$ARCH"/pkgconfig/*.pc "$DEPS"/usr/share/pkgconfig/*.pc; do
        # Links (libpng.pc -> libpng16.pc) are skipped: sed would rewrite their target twice.
        [ -L "$pc" ] && continue
        sed -i -E "s#/usr(/|\$|[[:space:]])#$DEPS/usr\\1#g" "$pc"
    done
    echo "pkg-config files rewritten to $DEPS/usr: $(find "$DEPS/usr" -name '*.pc' | wc -l)"
    grep -h '^prefix=\|^libdir=' "$DEPS/usr/lib/$ARCH/pkgconfig/cairo.pc"

    # The loader gets only the libraries (by SONAME) this machine does not already have, so the
    # bookworm copies never shadow the system's (newer) ones for python, cmake or the compiler.
    mkdir -p "$DEPS/runtime-lib"
    local have
    have=$( (ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true) | awk '/=>/ { print $1 }' | sort -u)
    local added=() present=()
    for n in "$DEPS/usr/lib/$ARCH"/lib*.so.[0-9]*; do
        [ -L "$n" ] || continue  # Debian's SONAME names are the links (libz.so.1 -> libz.so.1.2.13)
        n=$(basename "$n")
        if grep -qxF "$n" <<<"$have"; then present+=("$n"); else
            ln -s "../usr/lib/$ARCH/$n" "$DEPS/runtime-lib/$n"
            added+=("$n")
        fi
    done
    echo "runtime libraries the machine already has (theirs are used): ${present[*]:-none}"
    echo "runtime libraries taken from the carried tree: ${#added[@]} files"

    # fontconfig (cairo draws the sheet captions): the machine's fonts plus DejaVu Sans carried.
    cat >"$DEPS/fonts.conf" <<XML
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <dir>/usr/share/fonts</dir>
  <dir>$DEPS/usr/share/fonts</dir>
  <cachedir>$WORK/fontconfig-cache</cachedir>
  <include ignore_missing="yes">$DEPS/etc/fonts/conf.d</include>
</fontconfig>
XML
    use_private_deps
    echo "== pkg-config ($PKG_CONFIG_BIN) cairo:"
    "$PKG_CONFIG_BIN" --cflags --libs cairo
    echo "== packages the machine already had (informational):"
    for n in cairo libpng zlib yaml-cpp tinyxml2 spdlog fmt eigen3 gtest nlohmann_json CLI11; do
        if env -u PKG_CONFIG_LIBDIR -u PKG_CONFIG_PATH pkg-config --exists "$n" 2>/dev/null; then echo "  system has $n"; fi
    done
}

# Environment for the private prefix (also called in the main shell: steps run in subshells).
use_private_deps() {
    export PKG_CONFIG_LIBDIR="$DEPS/usr/lib/$ARCH/pkgconfig:$DEPS/usr/share/pkgconfig"
    unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
    export LD_LIBRARY_PATH="$DEPS/runtime-lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    # Debian's multiarch headers (jconfig.h of libjpeg-turbo, openssl/configuration.h) sit in
    # include/<arch>, which the compiler searches only under /usr; their .pc files do not name it.
    export CPATH="$DEPS/usr/include/$ARCH${CPATH_BEFORE:+:$CPATH_BEFORE}"
    export FONTCONFIG_FILE="$DEPS/fonts.conf"
    PKG_CONFIG_BIN=$(command -v pkg-config || echo "$DEPS/usr/bin/pkgconf")
    DEPS_PREFIX_PATH="$DEPS/usr"
}

# Fallback: Debian's own paths, i.e. copy the carried tree into / without replacing anything
# (bookworm's .so files next to the machine's own are fine: ldconfig keeps the newest per SONAME).
step_deps_system() {
    [ -d "$CARRIED/usr" ] || { echo "no carried dependencies in $CARRIED"; exit 1; }
    local d existing
    for d in usr etc; do
        [ -d "$CARRIED/$d" ] || continue
        existing=$(cd "$CARRIED" && find "$d" ! -type d | while read -r f; do
            if [ -e "$SYSROOT/$f" ] || [ -L "$SYSROOT/$f" ]; then echo "$f"; fi
        done | wc -l)
        echo "$d: $existing carried files already exist under $SYSROOT and are kept as they are"
        mkdir -p "$SYSROOT/$d"
        # tar rather than `cp -rn`, whose exit status on skipped files differs between coreutils
        # versions; --skip-old-files keeps every existing file, link and folder (link) as it is.
        tar -C "$CARRIED/$d" -cf - . |
            tar -C "$SYSROOT/$d" --skip-old-files --keep-directory-symlink --no-same-owner -xf -
    done
    if [ "$SYSROOT" = / ]; then ldconfig; fi
    echo "copied into $SYSROOT"
}

use_system_deps() {
    unset PKG_CONFIG_LIBDIR PKG_CONFIG_PATH
    if [ -n "$CPATH_BEFORE" ]; then export CPATH=$CPATH_BEFORE; else unset CPATH; fi
    DEPS_PREFIX_PATH=""
    PKG_CONFIG_BIN=$(command -v pkg-config || echo /usr/bin/pkg-config)
}

# ---------------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------------
step_configure() {
    local torch_prefix gen=()
    torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
    command -v ninja >/dev/null && gen=(-G Ninja)
    local args=(-S "$REPO" -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release
        "-DCMAKE_PREFIX_PATH=$torch_prefix${DEPS_PREFIX_PATH:+;$DEPS_PREFIX_PATH}"
        "-DK2K_SHARED_DATA=$DATA"
        "-DCMAKE_CUDA_ARCHITECTURES=$CUDA_ARCH"
        "-DPKG_CONFIG_EXECUTABLE=$PKG_CONFIG_BIN")
    if [ -x "$NVCC" ]; then args+=("-DCMAKE_CUDA_COMPILER=$NVCC" "-DCUDAToolkit_ROOT=$CUDA_HOME"); fi
    echo "cmake ${args[*]}"
    tmo 240 cmake "${args[@]}"
}

step_build() {
    tmo 420 cmake --build "$BUILD" -j"$JOBS" ${BUILD_TARGET:+--target "$BUILD_TARGET"}
    ls -la "$K2K"
    echo "== where k2k's libraries come from:"
    ldd "$K2K" | grep -E 'not found|cairo|png|yaml|tinyxml|spdlog|fmt|libz|torch_cuda|c10_cuda|cudart' || true
    if ldd "$K2K" | grep -q 'not found'; then echo "k2k has unresolved libraries"; exit 1; fi
}

# ---------------------------------------------------------------------------------------------
# CUDA smoke pipeline (configs/smoke.yaml with data and run folder moved to $WORK, device cuda,
# and the reader and baseline stages switched on so that `k2k eval` has everything to measure).
# ---------------------------------------------------------------------------------------------
SMOKE_CFG=$WORK/smoke-cuda.yaml

step_prepare() {
    rm -rf "$WORK/k2k.cache" "$WORK/run" "$WORK/inputs" "$WORK/gen" "$WORK/eval"
    tmo 120 "$K2K" data prepare --kanjivg "$DATA/kanjivg/kanji" --kkanji "$DATA/kkanji2" --out "$WORK/k2k.cache"
    sed -e "s#^run_dir:.*#run_dir: $WORK/run#" \
        -e "s#^device:.*#device: cuda#" \
        -e "s#^  cache:.*#  cache: $WORK/k2k.cache#" \
        -e "s#^  kanjivg:.*#  kanjivg: $DATA/kanjivg/kanji#" \
        -e "s#^  kkanji:.*#  kkanji: $DATA/kkanji2#" \
        "$REPO/configs/smoke.yaml" >"$SMOKE_CFG"
    grep -q "^run_dir: $WORK/run\$" "$SMOKE_CFG"
    grep -q "^  cache: $WORK/k2k.cache\$" "$SMOKE_CFG"
    if ! grep -q '^reader:' "$SMOKE_CFG"; then
        printf '\nreader:\n  enabled: true\n  batch_size: 32\n  steps: 20\n  eval_every: 10\n  eval_classes: 64\n' >>"$SMOKE_CFG"
    fi
    if ! grep -q '^baseline:' "$SMOKE_CFG"; then
        printf '\nbaseline:\n  enabled: true\n  batch_size: 32\n  steps: 20\n  eval_every: 10\n' >>"$SMOKE_CFG"
    fi
    tmo 30 "$K2K" config check "$SMOKE_CFG"
}

step_pipeline() {
    tmo 240 "$K2K" pipeline --config "$SMOKE_CFG" --device cuda
    ls -la "$WORK/run"
}

step_generate() {
    mkdir -p "$WORK/inputs"
    tmo 60 "$K2K" data samples --config "$SMOKE_CFG" --split test --count 4 --out "$WORK/inputs"
    ls -la "$WORK/inputs"
    tmo 120 "$K2K" generate --run "$WORK/run" --input "$WORK/inputs" --out "$WORK/gen" --device cuda
    cat "$WORK/gen/index.csv"
    local sheet
    sheet=$(find "$WORK/gen" -name sheet.png | sort | head -n 1)
    [ -n "$sheet" ]
    cp "$sheet" "$OUT/sheet.png"
    echo "copied $sheet"
}

step_eval() {
    tmo 180 "$K2K" eval --run "$WORK/run" --device cuda --out "$WORK/eval"
    echo "== eval.json"
    cat "$WORK/run/eval/eval.json" 2>/dev/null || find "$WORK/run" "$WORK/eval" -name '*.json' -print
}

# ---------------------------------------------------------------------------------------------
# Tests: the CPU suite under this LibTorch (K2K_TEST_DEVICE=cuda for tests that may honour it),
# real-data tests over the carried subset except the whole-corpus counts.
# ---------------------------------------------------------------------------------------------
step_ctest() {
    local jobs=$((JOBS / 2))
    ((jobs > 0)) || jobs=1
    cd "$BUILD"
    K2K_SHARED_DATA="$DATA" K2K_TEST_DEVICE=cuda K2K_THREADS=2 OMP_NUM_THREADS=2 \
        tmo 600 ctest --output-on-failure -j "$jobs" --timeout 300 -E "$SUBSET_EXCLUDE"
}

# ---------------------------------------------------------------------------------------------
# The CUDA compiler, its architecture and the first pkg-config (in the main shell; steps run in
# subshells).
init_cuda_toolchain() {
    NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
    CUDA_HOME=${CUDA_HOME:-$(dirname "$(dirname "$NVCC")")}
    if [ -x "$NVCC" ]; then
        PATH="$(dirname "$NVCC"):$PATH"
        export PATH CUDA_HOME
    fi
    CUDA_ARCH=$(python3 -c 'import torch; c = torch.cuda.get_device_capability(0); print(f"{c[0]}{c[1]}")' 2>/dev/null || echo 90)
    export TORCH_CUDA_ARCH_LIST="${CUDA_ARCH:0:${#CUDA_ARCH}-1}.${CUDA_ARCH: -1}"
    DEPS_PREFIX_PATH="" PKG_CONFIG_BIN=$(command -v pkg-config || echo pkg-config)
}

# Steps env, deps, configure (retried with the carried tree in / when the error is about those
# packages) and build, logged to $OUT/env.log and $OUT/build.log. Sets BUILT (1: $K2K exists) and
# MODE (how the dependencies were found). $BUILD_TARGET (empty: all) limits the build.
env_deps_build() {
    run_step env "$OUT/env.log" 1 step_env
    grep -E '^(torch|cuda available|device 0|cxx11 abi)|^GPU ' "$OUT/env.log" | sed 's/^/[cuda_check]   /' || true

    MODE=system
    if [ -d "$CARRIED/usr" ]; then
        run_step deps "$OUT/env.log" 1 step_deps_private
        if ((LAST_RC == 0)); then
            use_private_deps
            MODE=private
        else
            run_step deps-system "$OUT/env.log" 1 step_deps_system
            use_system_deps
            MODE=system-carried
        fi
    else
        echo "[cuda_check]   no $CARRIED: using the machine's own packages"
    fi

    local failed_before=$ANY_FAILED first=${#S_NAME[@]}
    run_step configure "$OUT/build.log" 60 step_configure
    # Retry with the carried tree copied into / only when the error is about those packages (not,
    # say, about Torch or CUDA, which the copy cannot change).
    if ((LAST_RC != 0)) && [ "$MODE" = private ] &&
        grep -A4 'CMake Error' "$OUT/build.log" |
        grep -qiE "k2k-deps|$DEPS|eigen|tinyxml2|yaml-cpp|CLI11|spdlog|fmt|nlohmann|PNG|ZLIB|cairo|pkg-?config|GTest"; then
        echo "[cuda_check]   configure with the private prefix failed: installing the carried tree into / (no-clobber) and retrying"
        run_step deps-system "$OUT/env.log" 60 step_deps_system
        local deps_rc=$LAST_RC
        use_system_deps
        MODE=system-fallback
        rm -rf "$BUILD"
        run_step configure-2 "$OUT/build.log" 60 step_configure
        if ((LAST_RC == 0 && deps_rc == 0)); then  # the retry worked: the first try is only a note
            ANY_FAILED=$failed_before
            S_STATE[first]=RETRIED
        fi
    fi
    BUILT=0
    if ((LAST_RC == 0)); then
        run_step build "$OUT/build.log" 60 step_build
        if ((LAST_RC == 0)); then
            BUILT=1
        else  # the first errors say more than the last lines
            grep -m 20 -E 'error:|Error [0-9]|undefined reference|cannot find' "$OUT/build.log" | cut -c1-300 |
                sed 's/^/[cuda_check]   /' || true
        fi
    else
        skip build "configure failed"
    fi
}

main() {
    mkdir -p "$WORK" "$OUT"
    cd "$REPO"
    local log
    for log in env build pipeline generate eval ctest; do : >"$OUT/$log.log"; done
    rm -f "$OUT/sheet.png" "$OUT/summary.txt"

    init_cuda_toolchain
    echo "[cuda_check] repo $REPO, data $DATA, out $OUT, budget ${BUDGET} s, $JOBS cores"
    env_deps_build

    if ((BUILT)); then
        run_step prepare "$OUT/pipeline.log" 30 step_prepare
        if ((LAST_RC == 0)); then
            run_step pipeline "$OUT/pipeline.log" 30 step_pipeline
            grep -h '^\[pipeline\]' "$OUT/pipeline.log" | head -n 3 | sed 's/^/[cuda_check]   /' || true
        else
            skip pipeline "prepare failed"
        fi
        if ((LAST_RC == 0)); then
            run_step generate "$OUT/generate.log" 20 step_generate
            run_step eval "$OUT/eval.log" 20 step_eval
        else
            skip generate "no trained run"
            skip eval "no trained run"
        fi
        run_step ctest "$OUT/ctest.log" 30 step_ctest
        grep -E 'tests passed|tests failed|Total Test time|\(Failed\)|\(Timeout\)|\*\*\*' "$OUT/ctest.log" |
            tail -n 25 | sed 's/^/[cuda_check]   /' || true
    else
        for s in prepare pipeline generate eval ctest; do skip "$s" "no build"; done
    fi

    {
        echo "k2k CUDA check, $(date -u), total $(($(date +%s) - START)) s, deps mode: $MODE"
        step_table
    } >"$OUT/summary.txt"
    echo "[cuda_check] ===== summary ====="
    cat "$OUT/summary.txt"
    echo "[cuda_check] files in $OUT: $(find "$OUT" -maxdepth 1 -type f -printf '%f ')"
    return "$ANY_FAILED"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    main "$@"
fi
