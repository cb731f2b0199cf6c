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
    double max_failed_fraction = 0.01;  // a source with more unreadable files than this is an error (1%)
};

struct PrepareReport {
    size_t modern_files = 0;                 // SVG files found
    std::vector<std::string> modern_failed;  // "<file>: <cause>" for SVGs that could not be read
    size_t old_files = 0;                    // Kuzushiji-Kanji PNG files found
    size_t old_blank = 0;                    // all-black images left out
    std::vector<std::string> old_failed;     // "<file>: <cause>" for PNGs that could not be read
    double kanjivg_seconds = 0;              // wall time of the KanjiVG part
    double kkanji_seconds = 0;               // wall time of the Kuzushiji-Kanji part
};

// Split keys: a modern entry uses its code point label ("U+5B57"), so a character's variants
// share its split; an old entry uses its relative file name ("U+5B57/xxxx.png").
std::string modern_split_key(uint32_t codepoint);

// Builds the dataset. Both sources follow one policy: a file that cannot be read (a malformed
// SVG; a PNG that is unreadable, malformed or not 64x64) is left out and listed in the report
// (meta.modern_skipped / meta.old_skipped count it, the latter with the all-black images).
// Throws k2k::Error "<folder>: ..." when a source asked for has no usable file left, or when more
// than options.max_failed_fraction of its files failed (the first failure is named), and when a
// folder is missing.
Dataset prepare_dataset(const PrepareOptions& options, PrepareReport* report = nullptr);

// Prints one "warning: skipped <file>: <cause>" line on stderr per file the report lists as failed.
void print_skipped_files(const PrepareReport& report);

}  // namespace k2k
