// The loop every training stage shares: steps, validation, best/last checkpoints, metrics CSV,
// progress with ETA, NaN guard, and exact resume. A stage only supplies the hooks.
#pragma once

#include <torch/serialize/archive.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace k2k {

class DataParallel;

struct StageLoopOptions {
    std::string name;                 // stage name shown in logs, e.g. "vae_new"
    std::string dir;                  // stage folder: last.pt, best.pt, metrics.csv, done.json
    int64_t steps = 0;                // total training steps (>= 1)
    int64_t eval_every = 100;         // steps between validation passes + checkpoints
    int64_t log_every = 50;           // steps between metrics rows (and plain progress lines)
    bool resume = false;              // continue from dir/last.pt when it exists; when false and the
                                      // stage was interrupted (last.pt, no done.json), an error
    std::vector<std::string> terms;   // names of the values the hooks return; terms[0] is minimised (best.pt)
    std::vector<std::string> extras;  // train-only values (lr, kl_weight, grad_norm...) after the terms
    DataParallel* dp = nullptr;       // the workers of a data-parallel run (null: this process alone)
};

struct StageHooks {
    // Runs training step `step` (0-based). Returns terms then extras, in the order named above.
    std::function<std::vector<double>(int64_t step)> train_step;
    // Returns the terms on the validation split.
    std::function<std::vector<double>()> evaluate;
    // Everything needed to continue exactly: weights, optimiser state, RNG states.
    std::function<void(torch::serialize::OutputArchive&)> save;
    std::function<void(torch::serialize::InputArchive&)> load;
    // The weights and buffers that must be equal on every worker (data-parallel runs: rank 0's are
    // broadcast after the start or the resume).
    std::function<std::vector<torch::Tensor>()> tensors;
};

struct StageResult {
    int64_t steps_done = 0;      // steps run in this call
    int64_t resumed_at = -1;     // step the run resumed from (-1: fresh start)
    double best_val = 0;         // best validation terms[0]
    double wall_s = 0;           // wall time of the whole stage including earlier resumed parts
};

// Runs the stage. First removes the temp files of saves killed mid-write (one printed line), then
// throws k2k::Error when options.steps < 1 or when the stage was interrupted and resume is false
// ("<dir>/last.pt: stage <name> was interrupted at step N; pass --resume to continue it, or delete
// <dir> to start it over"). A complete stage trained again without resume starts over.
// Data-parallel (options.dp with N > 1): every worker runs the steps on its shard; the logged
// values are the workers' mean; rank 0 alone validates (its terms broadcast, so every worker
// stops alike on a NaN), writes checkpoints, metrics and done.json, and shows progress.
StageResult run_stage_loop(const StageLoopOptions& options, const StageHooks& hooks);

}  // namespace k2k
