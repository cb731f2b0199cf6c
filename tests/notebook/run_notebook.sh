#!/bin/sh
# Executes notebooks/k2k_results.ipynb headless (jupyter nbconvert --execute) on a run folder: the
# one in $K2K_RUN when set, else a tiny run trained here from a few files of the shared data.
# Usage: run_notebook.sh K2K_BINARY [SHARED_DATA_DIR]
# Prints a SKIP line and exits 77 (ctest's SKIP_RETURN_CODE) when jupyter, matplotlib, pandas or
# the data are missing; missing data is a failure (exit 1) when K2K_REQUIRE_DATA=1.
# $K2K_SHARED_DATA, when set, wins over SHARED_DATA_DIR (as in tests/test_support.cpp).
# K2K_NOTEBOOK_OUT=FILE keeps the executed notebook.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
notebook="$here/../../notebooks/k2k_results.ipynb"
k2k=${1:?usage: run_notebook.sh K2K_BINARY [SHARED_DATA_DIR]}
shared=${K2K_SHARED_DATA:-${2:-$here/../../../shared/data}}

jupyter=$(command -v jupyter || true)
if [ -z "$jupyter" ]; then
    echo "SKIP: jupyter not found (apt-get install jupyter-nbconvert python3-ipykernel python3-matplotlib python3-pandas)"
    exit 77
fi
# The kernel runs the interpreter jupyter itself runs on (Debian: /usr/bin/python3), not a
# python3 that happens to come first on PATH.
python=$(head -n 1 "$jupyter" | sed -n 's/^#! *//p' | cut -d' ' -f1)
[ -x "${python:-}" ] || python=python3
for module in nbconvert ipykernel matplotlib pandas; do
    if ! "$python" -c "import $module" 2>/dev/null; then
        echo "SKIP: python module $module not importable by $python (apt-get install jupyter-nbconvert python3-ipykernel python3-matplotlib python3-pandas)"
        exit 77
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/k2k_notebook.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ -n "${K2K_RUN:-}" ]; then
    run=$K2K_RUN
    gen=${K2K_GENERATE_OUT:-out/quick/generated}
    evalout=${K2K_EVAL_OUT:-out/quick/eval}
else
    if [ ! -d "$shared/kanjivg/kanji" ] || [ ! -d "$shared/kkanji2" ]; then
        if [ "${K2K_REQUIRE_DATA:-}" = 1 ]; then
            echo "FAIL: shared data not found in $shared, and K2K_REQUIRE_DATA=1 says it must be there"
            exit 1
        fi
        echo "SKIP: shared data not found in $shared (set K2K_SHARED_DATA, or K2K_RUN to an existing run folder)"
        exit 77
    fi
    # A tiny run (tests/train_tiny_run.sh) and, as inputs, the image of each class it left out.
    sh "$here/../train_tiny_run.sh" "$k2k" "$shared" "$work" notebook_test
    mkdir -p "$work/inputs"
    for c in U+4E00 U+4EBA U+5927 U+5C71; do
        cp "$shared/kkanji2/$c/$(ls "$shared/kkanji2/$c" | sort | sed -n 13p)" "$work/inputs/$c.png"
    done
    run=$work/run
    gen=$work/gen
    evalout=$work/evalout
    "$k2k" generate --run "$run" --input "$work/inputs" --out "$gen" > "$work/generate.log" 2>&1 || { cat "$work/generate.log"; exit 1; }
    "$k2k" eval --run "$run" --out "$evalout" > "$work/eval.log" 2>&1 || { cat "$work/eval.log"; exit 1; }
fi

K2K_RUN=$run K2K_GENERATE_OUT=$gen K2K_EVAL_OUT=$evalout PYDEVD_DISABLE_FILE_VALIDATION=1 \
    "$jupyter" nbconvert --to notebook --execute --ExecutePreprocessor.timeout=300 \
    --output-dir "$work" --output executed.ipynb "$notebook"
# Every code cell ran (nbconvert stops at the first error, so this guards against silent skips).
"$python" - "$work/executed.ipynb" <<'PY'
import json, sys
nb = json.load(open(sys.argv[1]))
code = [c for c in nb["cells"] if c["cell_type"] == "code"]
assert all(c.get("execution_count") for c in code), "a code cell did not run"
errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
assert not errors, errors
images = sum(1 for c in code for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
assert images >= 3, f"expected plots, got {images} images"
print(f"notebook OK: {len(code)} code cells, {images} figures")
PY
# Keep the executed notebook when asked (to look at the figures).
if [ -n "${K2K_NOTEBOOK_OUT:-}" ]; then cp "$work/executed.ipynb" "$K2K_NOTEBOOK_OUT"; fi
