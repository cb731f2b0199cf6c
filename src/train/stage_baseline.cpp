// The baseline stage: the seed paper's direct CNN (Keras simple CNN) from Kuzushiji-Kanji images
// to their code points, trained on the run's classes.
#include <cmath>
#include <cstdio>
#include <map>

#include <torch/torch.h>

#include "data/selection.h"
#include "data/split.h"
#include "run/batches.h"
#include "run/checkpoint.h"
#include "run/loaders.h"
#include "run/options.h"
#include "train/stage_common.h"
#include "train/data_parallel.h"
#include "train/stage_runner.h"
#include "util/error.h"

namespace k2k {

void train_baseline(const Config& cfg, TrainingData& td, torch::Device device, bool resume, DataParallel& dp) {
    const BaselineConfig& bc = cfg.baseline;
    const std::vector<size_t>& train = td.old[0];
    require_items(train, "baseline", "Kuzushiji-Kanji images");
    const std::vector<size_t>& val = pick_val(td.old[1], train, "baseline");
    const std::vector<uint32_t> classes = baseline_classes(td);
    std::map<uint32_t, int64_t> label_of;
    for (size_t i = 0; i < classes.size(); ++i) label_of[classes[i]] = int64_t(i);
    auto labels = [&](const std::vector<size_t>& idx) {
        std::vector<int64_t> y;
        for (size_t i : idx) y.push_back(label_of.at(td.ds.old_codepoint(i)));
        return torch::tensor(y, torch::kInt64).to(device);
    };
    std::printf("[baseline] %zu Kuzushiji classes, %zu training / %zu validation images\n", classes.size(),
                train.size(), val.size());

    const uint64_t seed = stage_seed(cfg, "baseline");
    torch::manual_seed(seed);
    SimpleCnn model(baseline_options(bc, int64_t(classes.size())));
    model->to(device);
    torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(bc.lr));
    std::mt19937 rng{uint32_t(seed)};

    StageLoopOptions lo = stage_loop_options(cfg, "baseline", bc.steps, bc.eval_every, resume, dp);
    lo.terms = {"loss", "acc"};
    lo.extras = {"lr", "grad_norm"};

    StageHooks hooks;
    hooks.train_step = [&](int64_t step) {
        model->train();
        std::vector<size_t> pick = dp.shard(draw_indices(train.size(), size_t(bc.batch_size), rng), "baseline");
        dp.step_streams(seed, step, rng);  // several workers: each its own dropout masks
        for (size_t& p : pick) p = train[p];
        torch::Tensor x = old_images(td.ds, pick, nullptr, 64, 64, device);  // (B,1,64,64)
        torch::Tensor y = labels(pick);
        torch::Tensor logits = model->forward(x);
        torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y);
        opt.zero_grad();
        loss.backward();
        double norm = clip_and_step(dp, model->parameters(), opt, 0.0);
        double acc = logits.argmax(1).eq(y).to(torch::kFloat64).mean().item<double>();
        return std::vector<double>{loss.item<double>(), acc, bc.lr, norm};
    };
    hooks.evaluate = [&]() {
        model->eval();
        torch::NoGradGuard no_grad;
        double loss = 0, acc = 0;
        for (const std::vector<size_t>& idx : eval_batches(val, 512, val.size())) {
            auto [l, a] = loss_and_accuracy(model->forward(old_images(td.ds, idx, nullptr, 64, 64, device)), labels(idx));
            loss += l * double(idx.size());
            acc += a * double(idx.size());
        }
        return std::vector<double>{loss / double(val.size()), acc / double(val.size())};
    };
    hooks.save = [&](torch::serialize::OutputArchive& a) {
        archive_write_string(a, "classes", join_codepoints(classes));
        archive_write_module(a, "model", *model);
        archive_write_optimizer(a, "optimizer", opt);
        archive_write_rng(a, "rng", rng);
        at::Generator global = at::detail::getDefaultCPUGenerator();  // dropout masks
        archive_write_generator(a, "global_gen", global);
    };
    hooks.load = [&](torch::serialize::InputArchive& a) {
        archive_read_module(a, "model", *model);
        archive_read_optimizer(a, "optimizer", opt);
        archive_read_rng(a, "rng", rng);
        at::Generator global = at::detail::getDefaultCPUGenerator();
        archive_read_generator(a, "global_gen", global);
    };
    hooks.tensors = [&]() { return module_tensors({model.get()}); };
    run_stage_loop(lo, hooks);
}

}  // namespace k2k
