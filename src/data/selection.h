// What a run trains and evaluates on: the dataset cache (built from the config's data folders when
// it is missing), restricted to the configured subsets and split. Torch-free; run/batches.h turns
// the selected items into tensors.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "data/cache.h"
#include "data/strokes.h"

namespace k2k {

struct TrainingData {
    Dataset ds;
    // Modern entries used (base files, plus variants when data.kanjivg_variants), by split.
    std::vector<size_t> modern[3];
    // Old (Kuzushiji) images used, by split.
    std::vector<size_t> old[3];
    // Code point of a used old class -> index of its KanjiVG base entry (classes paired directly
    // or through their NFC form).
    std::map<uint32_t, size_t> old_to_modern;
    // Modern code point -> index of its base entry (every used modern character).
    std::map<uint32_t, size_t> modern_base;
    // (old image index, modern base index) pairs of paired classes, by the OLD image's split.
    std::vector<std::pair<size_t, size_t>> pairs[3];
};

// Loads config.data.cache, or prepares it from data.kanjivg + data.kkanji (and saves it) when the
// file does not exist. Throws k2k::Error when the cache was made with other split ratios.
Dataset load_or_prepare_dataset(const DataConfig& data, bool verbose);

// Selects the subsets: with data.max_old_classes = N, the N paired classes with the most images
// (ties by code point); with data.max_modern_chars = M, the base characters of those classes first,
// then others by code point, up to M. Deterministic.
TrainingData select_training_data(Dataset ds, const DataConfig& data);

// The reader's classes: index of every base KanjiVG entry of the WHOLE cache (not the run's
// subset: a judge must know every character a prediction could look like), by ascending code point.
std::vector<size_t> reader_class_entries(const Dataset& ds);
// The baseline's classes: every Kuzushiji class the run uses (any split), ascending.
std::vector<uint32_t> baseline_classes(const TrainingData& td);

// A character's strokes as the Sketch-RNN sees them: RDP(epsilon) in KanjiVG units -> stroke-3.
Stroke3 modern_stroke3(const Dataset& ds, size_t modern_index, float rdp_epsilon);

// The first `count` batches of `items` in order (the last may be short): the same every pass.
std::vector<std::vector<size_t>> eval_batches(const std::vector<size_t>& items, size_t batch, size_t count);

// Draws `n` indices uniformly from [0, size) with `rng` (rng() outputs only: portable). Throws
// k2k::Error when size is 0.
std::vector<size_t> draw_indices(size_t size, size_t n, std::mt19937& rng);

}  // namespace k2k
