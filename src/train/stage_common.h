// Pieces the stage files share (not part of the public API): per-stage seeds, validation
// fallbacks, fixed evaluation batches, gradient clipping with a NaN-safe optimiser step.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "data/selection.h"

namespace k2k {

struct TrainingData;
struct StageHooks;
struct StageLoopOptions;
class DataParallel;

// Each stage trains on this worker's shard of every batch (dp: DataParallel::single() alone).
void train_vae(const Config& cfg, const std::string& stage, TrainingData& td, torch::Device device, bool resume,
               DataParallel& dp);
void train_mdn(const Config& cfg, TrainingData& td, torch::Device device, bool resume, DataParallel& dp);
void train_sketch(const Config& cfg, TrainingData& td, torch::Device device, bool resume, DataParallel& dp);
void train_reader(const Config& cfg, TrainingData& td, torch::Device device, bool resume, DataParallel& dp);
void train_baseline(const Config& cfg, TrainingData& td, torch::Device device, bool resume, DataParallel& dp);

// config.seed mixed with the stage name, so stages draw different streams.
uint64_t stage_seed(const Config& cfg, const std::string& stage);

// The validation items, or (with a warning) the training items when the split is empty (tiny
// smoke subsets).
const std::vector<size_t>& pick_val(const std::vector<size_t>& val, const std::vector<size_t>& train,
                                    const std::string& stage);

// Throws k2k::Error when a stage has nothing to train on.
void require_items(const std::vector<size_t>& items, const std::string& stage, const char* what);

// Averages the gradients over the workers of dp (one all-reduce; nothing alone), then clips the
// gradient norm (clip <= 0: no clipping) and steps the optimiser unless the norm is not
// finite (then the step is skipped and the norm returned, so the NaN guard stops the stage with
// the weights of the last good step). Returns the norm before clipping. per_element: each gradient
// value is clipped to [-clip, clip] instead (the kanji2kanji reference, tf.clip_by_value).
double clip_and_step(DataParallel& dp, const std::vector<torch::Tensor>& params, torch::optim::Optimizer& opt,
                     double clip, bool per_element = false);

// Cosine learning-rate decay from `lr` at step 0 to 0 at `steps`.
double cosine_lr(int64_t step, int64_t steps, double lr);

// Mean cross-entropy and top-1 accuracy of `logits` (B,C) against `y` (B,).
std::pair<double, double> loss_and_accuracy(const torch::Tensor& logits, const torch::Tensor& y);

// The loop options every stage shares: name, stage folder under the run, steps, validation
// interval, the config's log interval, resume, the workers. Terms and extras are the stage's own.
StageLoopOptions stage_loop_options(const Config& cfg, const std::string& stage, int64_t steps, int64_t eval_every,
                                    bool resume, DataParallel& dp);

// The parameters and buffers of `modules`, for StageHooks::tensors.
std::vector<torch::Tensor> module_tensors(const std::vector<const torch::nn::Module*>& modules);

// hooks.save / hooks.load of a stage whose checkpoint is one model, its optimiser, the batch-order
// RNG and the torch generator (keys model, optimizer, rng, gen); hooks.tensors: the model's. The
// objects must outlive the loop.
void set_checkpoint_hooks(StageHooks& hooks, torch::nn::Module& model, torch::optim::Optimizer& opt, std::mt19937& rng,
                          at::Generator& gen);

}  // namespace k2k
