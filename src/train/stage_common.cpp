// Pieces the stage files share (see stage_common.h).
#include "train/stage_common.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include <torch/torch.h>

#include "data/split.h"
#include "run/checkpoint.h"
#include "run/run_dir.h"
#include "train/data_parallel.h"
#include "train/stage_runner.h"
#include "util/error.h"

namespace k2k {

uint64_t stage_seed(const Config& cfg, const std::string& stage) {
    return uint64_t(cfg.seed) * 1000003ULL + split_hash(stage) % 1000003ULL;
}

const std::vector<size_t>& pick_val(const std::vector<size_t>& val, const std::vector<size_t>& train, const std::string& stage) {
    if (!val.empty()) return val;
    std::printf("[%s] warning: the validation split is empty; validating on the training items\n", stage.c_str());
    return train;
}

void require_items(const std::vector<size_t>& items, const std::string& stage, const char* what) {
    if (items.empty()) throw Error(stage + ": no " + std::string(what) + " in the training split of the selected data");
}

StageLoopOptions stage_loop_options(const Config& cfg, const std::string& stage, int64_t steps, int64_t eval_every,
                                    bool resume, DataParallel& dp) {
    StageLoopOptions lo;
    lo.name = stage;
    lo.dir = stage_dir(cfg, stage);
    lo.steps = steps;
    lo.eval_every = eval_every;
    lo.log_every = cfg.log_every;
    lo.resume = resume;
    lo.dp = &dp;
    return lo;
}

std::vector<torch::Tensor> module_tensors(const std::vector<const torch::nn::Module*>& modules) {
    std::vector<torch::Tensor> out;
    for (const torch::nn::Module* m : modules) {
        for (const torch::Tensor& p : m->parameters()) out.push_back(p);
        for (const torch::Tensor& b : m->buffers()) out.push_back(b);
    }
    return out;
}

void set_checkpoint_hooks(StageHooks& hooks, torch::nn::Module& model, torch::optim::Optimizer& opt, std::mt19937& rng,
                          at::Generator& gen) {
    hooks.save = [&model, &opt, &rng, &gen](torch::serialize::OutputArchive& a) {
        archive_write_module(a, "model", model);
        archive_write_optimizer(a, "optimizer", opt);
        archive_write_rng(a, "rng", rng);
        archive_write_generator(a, "gen", gen);
    };
    hooks.load = [&model, &opt, &rng, &gen](torch::serialize::InputArchive& a) {
        archive_read_module(a, "model", model);
        archive_read_optimizer(a, "optimizer", opt);
        archive_read_rng(a, "rng", rng);
        archive_read_generator(a, "gen", gen);
    };
    hooks.tensors = [&model]() { return module_tensors({&model}); };
}

double clip_and_step(DataParallel& dp, const std::vector<torch::Tensor>& params, torch::optim::Optimizer& opt,
                     double clip, bool per_element) {
    dp.average_gradients(params);
    // No clipping = a max norm of FLT_MAX: clip_grad_norm_ turns max_norm into a float scalar, and 1e300
    // threw "value cannot be converted to type float without overflow". Per element, the norm is
    // measured (as the NaN guard needs it) without rescaling, then each value is clipped.
    double norm = torch::nn::utils::clip_grad_norm_(
        params, clip > 0 && !per_element ? clip : double(std::numeric_limits<float>::max()));
    if (clip > 0 && per_element) torch::nn::utils::clip_grad_value_(params, clip);
    if (std::isfinite(norm)) opt.step();
    return norm;
}

double cosine_lr(int64_t step, int64_t steps, double lr) {
    if (steps <= 0) return lr;
    return 0.5 * lr * (1.0 + std::cos(3.14159265358979323846 * double(std::min(step, steps)) / double(steps)));
}


// Mean cross-entropy and top-1 accuracy of `logits` (B,C) against `y` (B,).
std::pair<double, double> loss_and_accuracy(const torch::Tensor& logits, const torch::Tensor& y) {
    double loss = torch::nn::functional::cross_entropy(logits, y).item<double>();
    double acc = logits.argmax(1).eq(y).to(torch::kFloat64).mean().item<double>();
    return {loss, acc};
}

}  // namespace k2k
