#!/usr/bin/env bash
# The README's main job on a fresh machine: install, build, get the data, prepare the dataset
# cache, summarise it and draw characters. (The training pipeline and generation join this job
# when they land; see the open issues.)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-out/quickstart}"

bash data_tools/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)" --target k2k
bash data_tools/fetch_data.sh

if [ ! -f data/k2k.cache ]; then
  ./build/k2k data prepare --kanjivg data/kanjivg/kanji --kkanji data/kkanji2 --out data/k2k.cache
fi
./build/k2k data stats --cache data/k2k.cache
for ch in U+5B57 U+66F8 U+7A81; do
  ./build/k2k data show "$ch" --cache data/k2k.cache --out "$OUT/$ch.png"
done

echo
echo "Done. Look at $OUT/*.png: each KanjiVG raster (64x64, white ink on black like Kuzushiji-Kanji),"
echo "its strokes numbered in drawing order, and Kuzushiji-Kanji samples of the same character."
