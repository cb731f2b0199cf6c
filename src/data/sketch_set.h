// The Sketch-RNN's sketches of modern entries, as the sketch stage trains on them and `k2k eval`
// scores them (and bench_trim_length draws its batches from). Torch-free.
#pragma once

#include <cstddef>
#include <vector>

#include "config/config.h"
#include "data/cache.h"
#include "data/strokes.h"

namespace k2k {

struct SketchSet {
    std::vector<Stroke3> sketches;  // RDP-simplified, in sketch_for_model's units
    std::vector<size_t> modern;     // modern entry of each sketch
};

// sketch_for_model of modern_stroke3 at sketch.rdp_epsilon for each entry of `items`; empty
// sketches and ones longer than sketch.max_seq_len rows are left out (counted in *skipped).
SketchSet build_sketches(const Dataset& ds, const std::vector<size_t>& items, const SketchConfig& sc,
                         size_t* skipped);

// sketch.start_token as the enum: "pen_up" -> PenUp (kanji2kanji), anything else PenDown (magenta).
StartToken sketch_start_token(const SketchConfig& sc);

}  // namespace k2k
