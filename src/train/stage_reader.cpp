// The reader stage: a classifier over every KanjiVG base character, trained on freshly augmented
// renders each step and validated on fixed renders; `k2k eval` reads the predictions with it.
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

void train_reader(const Config& cfg, TrainingData& td, torch::Device device, bool resume, DataParallel& dp) {
    const ReaderConfig& rc = cfg.reader;
    const Dataset& ds = td.ds;
    const std::vector<size_t> entries = reader_class_entries(ds);
    if (entries.empty()) throw Error("reader: the dataset cache holds no KanjiVG base character");
    std::vector<uint32_t> classes;
    for (size_t e : entries) classes.push_back(ds.modern_codepoint(e));
    const int64_t num_classes = int64_t(classes.size());
    const ReaderAugmentOptions aug = reader_augment_options(rc);

    const uint64_t seed = stage_seed(cfg, "reader");
    torch::manual_seed(seed);
    Reader model(reader_options(rc, num_classes));
    model->to(device);
    torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(rc.lr));
    std::mt19937 rng{uint32_t(seed)};

    // Fixed validation renders: eval_classes classes spread over the list, each augmented with its
    // own fixed seed (a stream the training draws never use: they come from `rng`).
    const int64_t num_val = std::min<int64_t>(rc.eval_classes, num_classes);
    std::vector<size_t> val_entries;
    std::vector<uint32_t> val_seeds;
    std::vector<int64_t> val_labels;
    for (int64_t i = 0; i < num_val; ++i) {
        int64_t c = i * num_classes / num_val;
        val_entries.push_back(entries[size_t(c)]);
        val_seeds.push_back(uint32_t(split_hash("reader-val-" + std::to_string(seed) + "-" + std::to_string(i))));
        val_labels.push_back(c);
    }
    const torch::Tensor val_x = reader_batch(ds, val_entries, val_seeds, aug, device);  // (V,1,64,64)
    const torch::Tensor val_y = torch::tensor(val_labels, torch::kInt64).to(device);
    std::printf("[reader] %lld classes (every KanjiVG base character in %s), %lld validation renders\n",
                (long long)num_classes, cfg.data.cache.c_str(), (long long)num_val);

    const auto ce_options = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(rc.label_smoothing);

    StageLoopOptions lo = stage_loop_options(cfg, "reader", rc.steps, rc.eval_every, resume, dp);
    lo.terms = {"loss", "acc"};
    lo.extras = {"lr", "grad_norm"};

    StageHooks hooks;
    hooks.train_step = [&](int64_t step) {
        model->train();
        const double lr = cosine_lr(step, rc.steps, rc.lr);
        for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
        std::vector<size_t> pick = draw_indices(size_t(num_classes), size_t(rc.batch_size), rng);
        std::vector<size_t> picked;
        std::vector<uint32_t> seeds;
        std::vector<int64_t> labels;
        for (size_t c : pick) {
            picked.push_back(entries[c]);
            seeds.push_back(rng());
            labels.push_back(int64_t(c));
        }
        picked = dp.shard(picked, "reader");  // every worker drew the whole batch and its seeds
        seeds = dp.shard(seeds, "reader");
        labels = dp.shard(labels, "reader");
        torch::Tensor x = reader_batch(ds, picked, seeds, aug, device);  // (B,1,64,64)
        torch::Tensor y = torch::tensor(labels, torch::kInt64).to(device);
        torch::Tensor logits = model->forward(x);
        torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y, ce_options);
        opt.zero_grad();
        loss.backward();
        double norm = clip_and_step(dp, model->parameters(), opt, 0.0);
        double acc = logits.argmax(1).eq(y).to(torch::kFloat64).mean().item<double>();
        return std::vector<double>{loss.item<double>(), acc, lr, norm};
    };
    hooks.evaluate = [&]() {
        model->eval();
        torch::NoGradGuard no_grad;
        double loss = 0, acc = 0;
        const int64_t chunk = 512;
        for (int64_t s = 0; s < num_val; s += chunk) {
            int64_t e = std::min(num_val, s + chunk);
            auto [l, a] = loss_and_accuracy(model->forward(val_x.slice(0, s, e)), val_y.slice(0, s, e));
            loss += l * double(e - s);
            acc += a * double(e - s);
        }
        return std::vector<double>{loss / double(num_val), acc / double(num_val)};
    };
    hooks.save = [&](torch::serialize::OutputArchive& a) {
        archive_write_string(a, "classes", join_codepoints(classes));
        archive_write_module(a, "model", *model);
        archive_write_optimizer(a, "optimizer", opt);
        archive_write_rng(a, "rng", rng);
    };
    hooks.load = [&](torch::serialize::InputArchive& a) {
        archive_read_module(a, "model", *model);
        archive_read_optimizer(a, "optimizer", opt);
        archive_read_rng(a, "rng", rng);
    };
    hooks.tensors = [&]() { return module_tensors({model.get()}); };
    run_stage_loop(lo, hooks);
    if (!dp.is_main()) return;

    TrainedReader best = load_trained_reader(cfg, device);
    ReaderAccuracy clean = reader_clean_accuracy(best.model, ds, entries, aug, device);
    std::printf("[reader] clean held-out renders (line width %.2f px, never used in training): top-1 %.4f, top-5 %.4f over %lld classes\n",
                double(aug.heldout_line_width), clean.top1, clean.top5, (long long)clean.items);
}

}  // namespace k2k
