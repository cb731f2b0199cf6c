// Training: one stage by name, or every stage in order (paper Algorithm 1: VAEs on both domains,
// the MDN P(z_new | z_old), the conditional Sketch-RNN; then the enabled evaluation stages).
#pragma once

#include <torch/types.h>

#include <string>

#include "config/config.h"

namespace k2k {

struct TrainingData;
class DataParallel;

// Writes the run folder's config.yaml and loads (or prepares) the dataset of `config`, selected
// for training. Data-parallel: rank 0 writes and prepares, the others read after it.
TrainingData load_training_data(const Config& config, DataParallel* dp = nullptr);

// Trains one stage into run_dir/<stage>. Earlier stages must be complete (their best.pt is read).
// An interrupted stage needs `resume` (else k2k::Error, see run_stage_loop). With dp of N > 1
// workers, each trains on its shard of every batch (train/data_parallel.h); every worker calls it.
void train_stage(const Config& config, const std::string& stage, TrainingData& data, torch::Device device, bool resume,
                 DataParallel* dp = nullptr);

// All stages in order, skipping complete ones (and resuming an interrupted one when `resume`;
// without it an interrupted stage is an error). Once a stage is trained, every later pipeline
// stage is stale: its folder is cleared (one printed line) and it is trained from step 0.
// Data-parallel (dp): rank 0 alone writes (the run folder, stale folders cleared); every worker
// reads the dataset cache after rank 0 has prepared it.
void run_pipeline(const Config& config, torch::Device device, bool resume, DataParallel* dp = nullptr);

}  // namespace k2k
