#!/usr/bin/env bash
# Data-parallel training speed: the stages of configs/quick.yaml (its models and batches, every
# class of ../shared/data), a few steps each, trained with 1 worker and with N (default 2), one
# after the other; prints each stage's steps/s from done.json and the all-reduce time per step.
#
#   bash bench/data_parallel.sh [BUILD_DIR] [SHARED_DATA] [STEPS] [NPROC]
#
# (defaults: build, ../shared/data, 40, 2). The cache is prepared once in $WORK (default
# /tmp/k2k-bench-dp); torch threads: all cores for 1 worker, cores/N for each of N (as --nproc sets).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$REPO/build}
SHARED=${2:-$REPO/../shared/data}
STEPS=${3:-40}
NPROC=${4:-2}
WORK=${WORK:-/tmp/k2k-bench-dp}
K2K="$BUILD/k2k"
mkdir -p "$WORK"

config() {  # config RUN_DIR: quick.yaml with the shared data, STEPS steps per stage, one validation
  sed -e "s#^run_dir: .*#run_dir: $1#" \
      -e "s#^  cache: .*#  cache: $WORK/k2k.cache#" \
      -e "s#^  kanjivg: .*#  kanjivg: $SHARED/kanjivg/kanji#" \
      -e "s#^  kkanji: .*#  kkanji: $SHARED/kkanji2#" \
      -e "s#^  steps: .*#  steps: $STEPS#" -e "s#^  eval_every: .*#  eval_every: $STEPS#" \
      -e "s#^device: .*#device: cpu#" -e "s#^reader:\$#reader:\n  enabled: false#" \
      "$REPO/configs/quick.yaml"
}

for n in 1 "$NPROC"; do
  run="$WORK/run_$n"
  rm -rf "$run"
  config "$run" > "$WORK/bench_$n.yaml"
  echo "== $n worker(s)"
  if [ "$n" = 1 ]; then "$K2K" pipeline --config "$WORK/bench_$n.yaml" > "$WORK/log_$n.txt" 2>&1
  else "$K2K" pipeline --nproc "$n" --config "$WORK/bench_$n.yaml" > "$WORK/log_$n.txt" 2>&1; fi
  for stage in vae_new vae_old mdn sketch; do
    python3 - "$run/$stage/done.json" "$stage" "$WORK/log_$n.txt" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1])); stage = sys.argv[2]
red = re.findall(r"\[%s\] data-parallel over \d+ workers: gradient all-reduce ([0-9.]+) ms per step \((\d+) values\)" % stage, open(sys.argv[3]).read())
extra = ", all-reduce %s ms/step over %s values" % red[0] if red else ""
print("%-8s %6.2f steps/s (%d steps in %.1f s, incl. one validation)%s" % (stage, d["steps"] / d["wall_s"], d["steps"], d["wall_s"], extra))
PY
  done
done
