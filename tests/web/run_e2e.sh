#!/usr/bin/env bash
# Runs the real-browser test of `k2k serve` (tests/web/e2e.mjs: Debian's chromium driven by
# playwright-core) on a run folder: the one in $K2K_RUN when set, else a tiny run trained here.
# Usage: run_e2e.sh K2K_BINARY [SHARED_DATA_DIR]
# Prints a SKIP line and exits 77 (ctest's SKIP_RETURN_CODE) when node, npm, /usr/bin/chromium or
# the data are missing; missing data is a failure (exit 1) when K2K_REQUIRE_DATA=1.
# $K2K_SHARED_DATA, when set, wins over SHARED_DATA_DIR (as in tests/test_support.cpp).
# K2K_WEB_OUT=DIR keeps the screenshots; K2K_WEB_IMAGE=PNG picks the Kuzushiji image to read;
# K2K_WEB_DIR=web tests the page files on disk instead of the ones embedded in the binary.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
k2k=${1:?usage: run_e2e.sh K2K_BINARY [SHARED_DATA_DIR]}
shared=${K2K_SHARED_DATA:-${2:-$here/../../../shared/data}}
deps="apt-get install -y --no-install-recommends chromium npm (or data_tools/install_deps.sh)"

for tool in node npm; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIP: $tool not found ($deps)"
        exit 77
    fi
done
if [ ! -x /usr/bin/chromium ]; then
    echo "SKIP: /usr/bin/chromium not found ($deps)"
    exit 77
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 18 ]; then
    echo "SKIP: node $(node --version) is too old for playwright-core (needs 18 or later)"
    exit 77
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
    if ! log=$(npm ci --prefix "$here" --no-audit --no-fund --loglevel=error 2>&1); then
        echo "$log"
        echo "SKIP: npm ci --prefix tests/web failed (is the npm registry reachable?)"
        exit 77
    fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/k2k_web.XXXXXX")
trap 'rm -rf "$work"' EXIT

have_data=1
if [ ! -d "$shared/kanjivg/kanji" ] || [ ! -d "$shared/kkanji2" ]; then have_data=0; fi
if [ "$have_data" = 0 ] && { [ -z "${K2K_RUN:-}" ] || [ -z "${K2K_WEB_IMAGE:-}" ]; }; then
    if [ "${K2K_REQUIRE_DATA:-}" = 1 ]; then
        echo "FAIL: shared data not found in $shared, and K2K_REQUIRE_DATA=1 says it must be there"
        exit 1
    fi
    echo "SKIP: shared data not found in $shared (set K2K_SHARED_DATA, or K2K_RUN and K2K_WEB_IMAGE)"
    exit 77
fi

# The image to read: a real Kuzushiji character the tiny run did not train on (the 13th of its class).
image=${K2K_WEB_IMAGE:-}
if [ -z "$image" ]; then
    image="$work/U+5C71.png"
    cp "$shared/kkanji2/U+5C71/$(ls "$shared/kkanji2/U+5C71" | sort | sed -n 13p)" "$image"
fi

if [ -n "${K2K_RUN:-}" ]; then
    run=$K2K_RUN
else
    # A tiny run (tests/train_tiny_run.sh: every stage, the baseline gives the classifier's answer).
    sh "$here/../train_tiny_run.sh" "$k2k" "$shared" "$work" web_test
    run=$work/run
fi

out=${K2K_WEB_OUT:-$work/screenshots}
node "$here/e2e.mjs" --k2k "$k2k" --run "$run" --kuzushiji "$image" --out "$out"
