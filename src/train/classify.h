// `k2k classify train`: the seed paper's classification baselines (Table 1) as a training stage of
// their own run folder (run_dir/classify: last.pt, best.pt, metrics.csv, done.json, resumable).
#pragma once

#include <random>

#include <torch/types.h>

#include "config/config.h"

namespace k2k {

// Trains classify.model (simple_cnn or preact_resnet18, with classify.mixup) on the training images
// less the validation hold-out; best.pt is the step with the lowest validation error. For knn
// there is nothing to train: it prints so and returns. Prepares the run folder itself.
void train_classifier(const Config& config, torch::Device device, bool resume);

// classify.augment_shift: each image of x (B,C,H,W) moved by its own whole-pixel shift (dx, dy),
// each drawn uniformly from [-max_shift, max_shift] (dy then dx, image by image, from rng); what
// moves off the image is lost and the uncovered border is 0. max_shift 0 returns x itself.
torch::Tensor shift_images(const torch::Tensor& x, int64_t max_shift, std::mt19937& rng);

}  // namespace k2k
