// `k2k data prepare`: reads KanjiVG and the Kuzushiji-Kanji folder once (in parallel) and builds the
// Dataset that the cache stores: modern strokes + rasters, old images, labels and splits.
#pragma once

#include <string>
#include <vector>

#include "data/cache.h"
#include "data/raster.h"
#include "data/split.h"

namespace k2k {

struct PrepareOptions {
    std::string kanjivg_dir;        // KanjiVG kanji/ folder; "" = no modern entries
    std::string kkanji_dir;         // kkanji2 folder (or its parent); "" = no old entries
    SplitRatios split;              // val/test ratios of the deterministic split
    RasterOptions raster;           // how modern strokes are rasterised (64x64, white on black)
    float curve_tolerance = 0.2f;   // max deviation of flattened curves, KanjiVG units
    int threads = 0;                // worker threads (<= 0: all cores)
};

struct PrepareReport {
    size_t modern_files = 0;               // SVG files found
    std::vector<std::string> modern_failed;  // "<file>: <cause>" for files that could not be read
    double kanjivg_seconds = 0;            // wall time of the KanjiVG part
    double kkanji_seconds = 0;             // wall time of the Kuzushiji-Kanji part
};

// Split keys: a modern entry uses its code point label ("U+5B57"), so a character's variants
// share its split; an old entry uses its relative file name ("U+5B57/xxxx.png").
std::string modern_split_key(uint32_t codepoint);

// Builds the dataset. A KanjiVG file that fails to parse is left out and listed in the report
// (meta.modern_skipped counts it); a bad Kuzushiji image or a missing folder throws k2k::Error.
Dataset prepare_dataset(const PrepareOptions& options, PrepareReport* report = nullptr);

}  // namespace k2k
