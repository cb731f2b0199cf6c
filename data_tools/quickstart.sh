#!/usr/bin/env bash
# The README's main job on a fresh machine: install, build, get the data, prepare the dataset
# cache, train the quick pipeline (all four stages, CPU) and generate modern kanji from Kuzushiji
# test images. Re-running it continues where it stopped (complete stages are skipped, an
# interrupted one resumes from its last checkpoint). CONFIG=configs/other.yaml picks another
# experiment, OUT=dir another output folder.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG="${CONFIG:-configs/quick.yaml}"
name="$(basename "$CONFIG" .yaml)"
OUT="${OUT:-out/$name}"

bash data_tools/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)" --target k2k
bash data_tools/fetch_data.sh

if [ ! -f data/k2k.cache ]; then
  ./build/k2k data prepare --kanjivg data/kanjivg/kanji --kkanji data/kkanji2 --out data/k2k.cache
fi
./build/k2k data stats --cache data/k2k.cache | head -12
./build/k2k data show U+5B57 --cache data/k2k.cache --out "$OUT/data_show_U+5B57.png"

run_dir="$(./build/k2k config check "$CONFIG" | sed -n 's/^run_dir: *\([^ #]*\).*/\1/p' | tr -d '"')"
./build/k2k pipeline --config "$CONFIG" --resume
./build/k2k data samples --config "$CONFIG" --split test --count 16 --out "$OUT/inputs"
./build/k2k generate --run "$run_dir" --input "$OUT/inputs" --out "$OUT/generated"

echo
echo "Done. Look at:"
echo "  $OUT/generated/*/sheet.png      summary sheets: input | reconstruction | modern prediction | uncertainty | strokes"
echo "  $OUT/generated/*/strokes_*.svg  stroke samples as KanjiVG-style SVGs (open them in a browser)"
echo "  $OUT/generated/index.csv        one row per input"
echo "  $run_dir/*/metrics.csv          training curves of each stage"
