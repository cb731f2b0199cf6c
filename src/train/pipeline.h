// Training: one stage by name, or every stage in order (paper Algorithm 1: VAEs on both domains,
// the MDN P(z_new | z_old), the conditional Sketch-RNN; then the enabled evaluation stages).
#pragma once

#include <torch/types.h>

#include <string>

#include "config/config.h"

namespace k2k {

struct TrainingData;

// Trains one stage into run_dir/<stage>. Earlier stages must be complete (their best.pt is read).
// An interrupted stage needs `resume` (else k2k::Error, see run_stage_loop).
void train_stage(const Config& config, const std::string& stage, TrainingData& data, torch::Device device, bool resume);

// All stages in order, skipping complete ones (and resuming an interrupted one when `resume`;
// without it an interrupted stage is an error). Once a stage is trained, every later pipeline
// stage is stale: its folder is cleared (one printed line) and it is trained from step 0.
void run_pipeline(const Config& config, torch::Device device, bool resume);

}  // namespace k2k
