#!/usr/bin/env bash
# bench/gpu_classify.sh on the CPU with an already built k2k (K2K_BIN: no build) and a tiny recipe
# over the real Kuzushiji-MNIST files: the probe, the epoch count from the clock, the run, both
# evaluations and the summary. Then a missing data folder: a non-zero exit and a failed probe.
# Usage: gpu_classify_dry.sh K2K_BINARY SHARED_DATA   (exit 77, "Skipped", without the data; a
# failure instead when K2K_REQUIRE_DATA=1)
set -uo pipefail
K2K_BINARY=$1 SHARED=$2
REPO=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -f "$SHARED/kmnist/kmnist-train-labels.npz" ]; then
    if [ "${K2K_REQUIRE_DATA:-}" = 1 ]; then
        echo "FAIL: no $SHARED/kmnist (the official Kuzushiji-MNIST .npz files), and K2K_REQUIRE_DATA=1 says it must be there"
        exit 1
    fi
    echo "SKIP: no $SHARED/kmnist (the official Kuzushiji-MNIST .npz files)"; exit 77
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; echo "---- summary:"; cat "$TMP"/out*/summary.txt 2>/dev/null; exit 1; }

cat >"$TMP/tiny.yaml" <<YAML
name: tiny_gpu_classify
run_dir: runs/never_used
classify:
  dataset: kmnist
  data_dir: data/kmnist
  model: preact_resnet18
  width: 4
  mixup: manifold
  mixup_alpha: 2.0
  optimizer: sgd
  lr: 0.05
  momentum: 0.9
  weight_decay: 0.0001
  lr_schedule: cosine
  epochs: 9
  augment_shift: 2
  batch_size: 32
  val_size: 100
  train_limit: 1100
  eval_every: 32
YAML

run() {  # run OUT_DIR DATA_DIR
    OUT=$1 K2K_WORK=$TMP/work K2K_BIN=$K2K_BINARY K2K_CLASSIFY_DEVICE=cpu K2K_CLASSIFY_CONFIG=$TMP/tiny.yaml \
        K2K_CLASSIFY_DATA=$2 K2K_PROBE_STEPS=30 K2K_MAX_EPOCHS=2 K2K_CHECK_BUDGET=300 K2K_THREADS=1 \
        bash "$REPO/bench/gpu_classify.sh"
}

run "$TMP/out" "$SHARED/kmnist" >"$TMP/log" 2>&1 || { tail -n 30 "$TMP/log"; fail "exit status $? on the real data"; }
S=$TMP/out/summary.txt
grep -q '^epochs given: 2, finished: yes$' "$S" || fail "summary lacks 'epochs given: 2, finished: yes'"
grep -qE '^probe: [0-9.]+ s a step; 32 steps an epoch' "$S" || fail "summary lacks the probe figure (32 steps an epoch)"
grep -qE '^test: mean per-class accuracy [0-9.]+ %, accuracy [0-9.]+ %$' "$S" || fail "summary lacks the test accuracy"
grep -q '^  epochs: 2$' "$TMP/out/config.yaml" || fail "config.yaml does not say epochs: 2"
grep -q "^  data_dir: $SHARED/kmnist\$" "$TMP/out/config.yaml" || fail "config.yaml does not name the data folder"
[ "$(awk -F, '$3 == "val"' "$TMP/out/metrics.csv" | wc -l)" -eq 2 ] || fail "metrics.csv lacks one validation row per epoch"
python3 - "$TMP/out/classify_test.json" "$TMP/out/classify_val.json" <<'PY' || fail "classify json files"
import json, sys
t, v = (json.load(open(p)) for p in sys.argv[1:])
assert t["split"] == "test" and t["items"] == 10000, (t["split"], t["items"])
assert v["split"] == "val" and v["items"] == 100, (v["split"], v["items"])
assert 0 <= t["accuracy"] <= 1 and t["mixup"] == "manifold"
PY
[ -s "$TMP/out/confusion_test.png" ] || fail "no confusion_test.png"

# A data folder without the files: the probe fails, the script says so and exits non-zero.
if run "$TMP/out2" "$TMP/nothing" >"$TMP/log2" 2>&1; then fail "exit 0 without data"; fi
grep -qE '^probe +FAILED' "$TMP/out2/summary.txt" || fail "summary does not show the failed probe"
grep -q "$TMP/nothing" "$TMP/out2/probe.log" || fail "probe.log does not name the missing folder"
grep -q '^epochs given: 0, finished: no$' "$TMP/out2/summary.txt" || fail "summary claims a run without data"
echo "OK"
