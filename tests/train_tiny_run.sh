#!/bin/sh
# Trains the tiny run the script-driven tests share (tests/notebook, tests/web) from a few files
# of the shared data: 4 Kuzushiji classes x 12 images, 8 KanjiVG characters, every stage (reader
# and baseline too) a few steps. Writes WORK/kanjivg, WORK/kkanji2, WORK/tiny.yaml, WORK/run.
# Usage: train_tiny_run.sh K2K_BINARY SHARED_DATA_DIR WORK_DIR RUN_NAME
# The 13th image of each class (by file name) is left out of training, for the tests' inputs.
set -eu
k2k=${1:?usage: train_tiny_run.sh K2K_BINARY SHARED_DATA_DIR WORK_DIR RUN_NAME}
shared=${2:?shared data folder}
work=${3:?work folder}
name=${4:?run name}

mkdir -p "$work/kanjivg"
for f in 04e00 04eba 05927 05c71 05b57 06728 06c34 0706b; do
    cp "$shared/kanjivg/kanji/$f.svg" "$work/kanjivg/"
done
for c in U+4E00 U+4EBA U+5927 U+5C71; do
    mkdir -p "$work/kkanji2/$c"
    ls "$shared/kkanji2/$c" | sort | head -n 12 | while read -r png; do cp "$shared/kkanji2/$c/$png" "$work/kkanji2/$c/"; done
done
cat > "$work/tiny.yaml" <<YAML
name: $name
run_dir: $work/run
device: cpu
log_every: 1000
data: {cache: $work/k2k.cache, kanjivg: $work/kanjivg, kkanji: $work/kkanji2, val_ratio: 0.1, test_ratio: 0.3}
vae_new: {z_size: 8, batch_size: 8, steps: 4, eval_every: 2, eval_batches: 1}
vae_old: {z_size: 8, batch_size: 8, steps: 4, eval_every: 2, eval_batches: 1}
mdn: {hidden: [16], num_mixtures: 3, batch_size: 16, steps: 4, eval_every: 2}
sketch: {hidden_size: 16, num_mixtures: 3, max_seq_len: 150, batch_size: 4, steps: 4, eval_every: 2, eval_batches: 1}
generate: {samples: 2, max_len: 30, temperature: 0.5}
reader: {enabled: true, width: 4, hidden: 16, batch_size: 16, steps: 4, eval_every: 2, eval_classes: 8}
baseline: {enabled: true, hidden: 8, batch_size: 16, steps: 4, eval_every: 2}
YAML
"$k2k" pipeline --config "$work/tiny.yaml" > "$work/pipeline.log" 2>&1 || { cat "$work/pipeline.log"; exit 1; }
