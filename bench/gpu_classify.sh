#!/usr/bin/env bash
# One-shot classifier run on a throwaway GPU machine (issue 13, the manifold-mixup row of Table 1):
# builds k2k against the LibTorch of the machine's PyTorch as bench/cuda_check.sh does (k2k only,
# no tests), measures this GPU's seconds per training step of the base config, gives the base
# recipe as many epochs as fit the time left, trains, then scores best.pt (chosen on the validation
# hold-out) on the validation and the test images. The epoch count comes from the clock, never
# from a score.
#
#   device run: bash bench/gpu_classify.sh          carry: [".gpu_deps", ".gpu_kmnist"]
#
# Make both carried folders here first: `bash bench/make_gpu_carry.sh` (.gpu_deps, ~37 MiB, and
# .gpu_kmnist, the four official Kuzushiji-MNIST .npz files, 21 MiB).
#
# Environment (defaults in brackets):
#   K2K_CHECK_BUDGET     seconds for the whole script, build included [540]
#   K2K_CLASSIFY_CONFIG  the recipe [configs/classify/kmnist_resnet_manifold.yaml]; its epochs,
#                        run_dir and data_dir are replaced, the rest is kept
#   K2K_CLASSIFY_DATA    folder of the <dataset>-{train,test}-{imgs,labels}.npz files [.gpu_kmnist]
#   K2K_CLASSIFY_DEVICE  cuda or cpu [cuda]
#   K2K_BIN              an already built k2k: skips the environment, dependency and build steps
#                        (how tests/bench/gpu_classify_dry.sh runs this script on a CPU)
#   K2K_PROBE_STEPS      timed training steps before the run [100]
#   K2K_MAX_EPOCHS       most epochs given to the run [200]
#   K2K_EVAL_RESERVE     seconds kept for the two evaluations and the copies [45]
#
# Results in $OUT: env.log, build.log, probe.log, train.log, eval.log, config.yaml (the recipe
# as run), metrics.csv, classify_val.json, classify_test.json, confusion_test.png, summary.txt.
# Exit status non-zero when a step failed or the run did not finish its epochs.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export K2K_CHECK_BUDGET=${K2K_CHECK_BUDGET:-540}
export K2K_WORK=${K2K_WORK:-/tmp/k2k-gpu-classify}
# shellcheck source=cuda_check.sh
source "$HERE/cuda_check.sh"   # REPO, WORK, OUT, BUDGET, START, run_step, tmo, env_deps_build, ...

BASE_CFG=${K2K_CLASSIFY_CONFIG:-$REPO/configs/classify/kmnist_resnet_manifold.yaml}
CLS_DATA=${K2K_CLASSIFY_DATA:-$REPO/.gpu_kmnist}
CLS_DEVICE=${K2K_CLASSIFY_DEVICE:-cuda}
PROBE_STEPS=${K2K_PROBE_STEPS:-100}
MAX_EPOCHS=${K2K_MAX_EPOCHS:-200}
RESERVE=${K2K_EVAL_RESERVE:-45}
PROBE_CFG=$WORK/probe.yaml
RUN_CFG=$WORK/run.yaml

say() { echo "[gpu_classify] $*"; }

# The value of `  key:` in the classify section of the base config (the configs keep one key a line).
base_value() { awk -v k="  $1:" 'index($0, k) == 1 { sub(/#.*/, ""); print $2; exit }' "$BASE_CFG"; }

# min(N, the base config's train_limit when it sets one): the training images a run can read.
within_train_limit() {
    local limit
    limit=$(base_value train_limit)
    if [ -n "$limit" ] && ((limit > 0 && limit < $1)); then echo "$limit"; else echo "$1"; fi
}

# derive_config OUT_FILE RUN_DIR EPOCHS [TRAIN_LIMIT]: the base recipe with these values; the probe
# also logs every 10 steps. Keys the base lacks are added under `classify:`.
derive_config() {
    local out=$1 run_dir=$2 epochs=$3 limit=${4:-}
    sed -e "s#^run_dir:.*#run_dir: $run_dir#" \
        -e "s#^  data_dir:.*#  data_dir: $CLS_DATA#" \
        -e "s#^  epochs:.*#  epochs: $epochs#" \
        "$BASE_CFG" >"$out"
    if [ -n "$limit" ]; then
        sed -i -e '/^  train_limit:/d' -e '/^log_every:/d' -e "s#^classify:#classify:\n  train_limit: $limit#" "$out"
        printf 'log_every: 10\n' >>"$out"
    fi
    grep -q "^run_dir: $run_dir\$" "$out" && grep -q "^  epochs: $epochs\$" "$out" &&
        grep -q "^  data_dir: $CLS_DATA\$" "$out" || { echo "$out: could not set run_dir, epochs or data_dir"; exit 1; }
    "$K2K" config check "$out"
}

# Training images of the dataset: the length of the label array, from the .npy header inside the
# .npz (Python's standard library only).
count_train_images() {
    local dataset f
    dataset=$(base_value dataset)
    f="$CLS_DATA/$dataset-train-labels.npz"
    [ -f "$f" ] || { echo "$f: missing (bash bench/make_gpu_carry.sh makes .gpu_kmnist)" >&2; return 1; }
    python3 - "$f" <<'PY'
import ast, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(z.namelist()[0]) as f:
    head = f.read(12)
    assert head[:6] == b"\x93NUMPY", "not a .npy array"
    size, start = (int.from_bytes(head[8:10], "little"), 10) if head[6] == 1 else (int.from_bytes(head[8:12], "little"), 12)
    print(ast.literal_eval((head[start:] + f.read(size - (12 - start))).decode("latin1"))["shape"][0])
PY
}

step_probe() {
    rm -rf "$WORK/probe"
    local limit
    limit=$(within_train_limit $(($(base_value val_size) + PROBE_STEPS * $(base_value batch_size))))
    derive_config "$PROBE_CFG" "$WORK/probe" 1 "$limit"
    tmo 240 "$K2K" classify train --config "$PROBE_CFG" --device "$CLS_DEVICE"
    cat "$WORK/probe/classify/metrics.csv"
}

# Seconds per training step from the probe's metrics rows, leaving out the first row (warm-up,
# cuDNN's algorithm search).
probe_step_seconds() {
    awk -F, '$3 == "train" { n++; if (n == 2) { s0 = $1; w0 = $2 } s1 = $1; w1 = $2 }
             END { if (n < 3 || s1 <= s0) exit 1; printf "%.6f\n", (w1 - w0) / (s1 - s0) }' \
        "$WORK/probe/classify/metrics.csv"
}

step_train() {
    rm -rf "$WORK/run"
    derive_config "$RUN_CFG" "$WORK/run" "$EPOCHS"
    cp "$RUN_CFG" "$OUT/config.yaml"
    # Leave the reserve for the evaluations even if the run is slower than the probe said.
    local cap=$(($(left) - RESERVE))
    ((cap > 10)) || cap=10
    tmo "$cap" "$K2K" classify train --config "$RUN_CFG" --device "$CLS_DEVICE"
}

step_eval_split() {  # step_eval_split val|test
    tmo 120 "$K2K" classify eval --config "$RUN_CFG" --device "$CLS_DEVICE" --split "$1" --out "$WORK/eval_$1"
    cp "$WORK/eval_$1/classify.json" "$OUT/classify_$1.json"
    if [ "$1" = test ]; then cp "$WORK/eval_$1/confusion.png" "$OUT/confusion_test.png"; fi
}

json_number() {  # json_number FILE KEY: a top-level number of a classify.json
    python3 -c 'import json, sys; print("%.2f" % (100 * json.load(open(sys.argv[1]))[sys.argv[2]]))' "$1" "$2"
}

main_classify() {
    mkdir -p "$WORK" "$OUT"
    cd "$REPO"
    local log
    for log in env build probe train eval; do : >"$OUT/$log.log"; done
    rm -f "$OUT"/{config.yaml,metrics.csv,classify_val.json,classify_test.json,confusion_test.png,summary.txt}
    say "repo $REPO, base $BASE_CFG, data $CLS_DATA, device $CLS_DEVICE, out $OUT, budget ${BUDGET} s"
    MODE=none
    if [ -n "${K2K_BIN:-}" ]; then
        K2K=$K2K_BIN BUILT=1
        say "using $K2K (no build)"
    else
        init_cuda_toolchain
        BUILD_TARGET=k2k
        env_deps_build
    fi

    EPOCHS=0
    local train_images="" step_s="" epoch_s="" steps_per_epoch="" finished=0
    if ((BUILT)); then
        run_step probe "$OUT/probe.log" 30 step_probe
        if ((LAST_RC == 0)) && step_s=$(probe_step_seconds) && train_images=$(count_train_images); then
            local val batch usable
            val=$(base_value val_size) batch=$(base_value batch_size) usable=$(within_train_limit "$train_images")
            steps_per_epoch=$(((usable - val + batch - 1) / batch))
            # An epoch: its steps, a validation pass (forward only, about a third of a step per
            # batch) and a checkpoint; 10 % margin.
            epoch_s=$(awk -v s="$step_s" -v n="$steps_per_epoch" -v v="$val" -v b="$batch" \
                'BEGIN { printf "%.3f", 1.1 * (n * s + (v / b) * s / 3 + 1) }')
            EPOCHS=$(awk -v l="$(left)" -v r="$RESERVE" -v e="$epoch_s" -v m="$MAX_EPOCHS" \
                'BEGIN { n = int((l - r - 5) / e); if (n < 1) n = 1; if (n > m) n = m; print n }')
            say "probe: $step_s s a step; $steps_per_epoch steps an epoch, about $epoch_s s; $(left) s left: $EPOCHS epochs"
            run_step train "$OUT/train.log" 20 step_train
            [ -f "$WORK/run/classify/metrics.csv" ] && cp "$WORK/run/classify/metrics.csv" "$OUT/metrics.csv"
            if ((LAST_RC == 0)); then finished=1; fi
            if [ -f "$WORK/run/classify/best.pt" ]; then
                run_step eval-val "$OUT/eval.log" 5 step_eval_split val
                run_step eval-test "$OUT/eval.log" 5 step_eval_split test
            else
                skip eval-val "no best.pt"
                skip eval-test "no best.pt"
            fi
        else
            ((LAST_RC != 0)) || { ANY_FAILED=1; record probe-read FAILED 0.0; }
            skip train "no probe figure"
        fi
    else
        skip probe "no build"
    fi

    {
        echo "k2k GPU classify run, $(date -u), total $(($(date +%s) - START)) s, deps mode: $MODE"
        command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1
        echo "base config: ${BASE_CFG#"$REPO"/}, device $CLS_DEVICE"
        echo "probe: ${step_s:-?} s a step; ${steps_per_epoch:-?} steps an epoch, about ${epoch_s:-?} s"
        echo "epochs given: $EPOCHS, finished: $([ "$finished" = 1 ] && echo yes || echo no)"
        if [ -f "$OUT/metrics.csv" ]; then
            echo "validation error by epoch (%):"
            awk -F, '$3 == "val" { printf " %.2f", 100 * $4 } END { print "" }' "$OUT/metrics.csv"
            echo "train wall: $(awk -F, 'NR > 1 { w = $2 } END { printf "%.0f", w }' "$OUT/metrics.csv") s"
        fi
        local split
        for split in val test; do
            [ -f "$OUT/classify_$split.json" ] &&
                echo "$split: mean per-class accuracy $(json_number "$OUT/classify_$split.json" mean_class_accuracy) %, accuracy $(json_number "$OUT/classify_$split.json" accuracy) %"
        done
        step_table
    } >"$OUT/summary.txt"
    echo "[gpu_classify] ===== summary ====="
    cat "$OUT/summary.txt"
    ((finished)) || ANY_FAILED=1
    return "$ANY_FAILED"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    main_classify "$@"
fi
