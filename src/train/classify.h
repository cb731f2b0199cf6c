// `k2k classify train`: the seed paper's classification baselines (Table 1) as a training stage of
// their own run folder (run_dir/classify: last.pt, best.pt, metrics.csv, done.json, resumable).
#pragma once

#include <torch/types.h>

#include "config/config.h"

namespace k2k {

// Trains classify.model (simple_cnn or preact_resnet18, with classify.mixup) on the training images
// less the validation hold-out; best.pt is the step with the lowest validation error. For knn
// there is nothing to train: it prints so and returns. Prepares the run folder itself.
void train_classifier(const Config& config, torch::Device device, bool resume);

}  // namespace k2k
