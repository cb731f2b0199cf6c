// What every step of `k2k eval` reads: the run's config and data, the split, the device, the
// samples per item; and the "[eval] ..." progress lines they print.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "config/config.h"
#include "data/selection.h"
#include "data/split.h"

namespace k2k {

struct EvalContext {
    Config config;                        // the run's config.yaml, run_dir = the folder given
    TrainingData data;                    // the run's dataset and its selection of items
    Split split = Split::Test;            // the split evaluated
    torch::Device device = torch::kCPU;   // where the models run
    int64_t samples = 1;                  // predictions per item
    bool verbose = true;                  // print progress lines

    // "[eval] <line>" on stdout when verbose.
    void say(const std::string& line) const;
    // Whether the run's stage finished training (its done.json).
    bool complete(const std::string& stage) const;
    // The split's modern entries, old images and (old, modern) pairs of the run's selection.
    const std::vector<size_t>& modern_items() const { return data.modern[int(split)]; }
    const std::vector<size_t>& old_items() const { return data.old[int(split)]; }
    const std::vector<std::pair<size_t, size_t>>& pairs() const { return data.pairs[int(split)]; }
};

// v with `digits` decimals ("%.*f"), as the progress lines, items.csv and the table print numbers.
std::string fixed(double v, int digits = 4);

}  // namespace k2k
