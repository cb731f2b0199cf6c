// k2k classify train|eval: the seed paper's classification baselines (4-NN, the Keras simple CNN,
// PreActResNet-18 with input or manifold mixup) on Kuzushiji-MNIST and Kuzushiji-49.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "config/config.h"
#include "eval/classify.h"
#include "runtime/runtime.h"
#include "train/classify.h"
#include "util/lock.h"

namespace k2k::cli {

namespace {

struct ClassifyArgs {
    std::string config;
    std::string device;  // empty: the config's
    bool resume = false;
    ClassifyEvalOptions eval;
};

}  // namespace

void setup_classify(CLI::App& app) {
    auto a = std::make_shared<ClassifyArgs>();
    CLI::App* cmd = app.add_subcommand("classify", "Classification baselines of the seed paper on Kuzushiji-MNIST / Kuzushiji-49");
    cmd->require_subcommand(1);
    CLI::App* train = cmd->add_subcommand("train", "Train classify.model into run_dir/classify (resumable)");
    CLI::App* eval = cmd->add_subcommand("eval", "Score classify.model on the test images (or the validation hold-out)");
    for (CLI::App* sub : {train, eval}) {
        sub->add_option("--config,-c", a->config, "experiment YAML (e.g. configs/classify/kmnist_cnn.yaml)")->required()->check(CLI::ExistingFile);
        sub->add_option("--device", a->device, "cpu, cuda or auto (default: the config's `device`)")->check(CLI::IsMember({"cpu", "cuda", "auto"}));
    }
    train->add_flag("--resume", a->resume, "continue an interrupted run from its last checkpoint");
    eval->add_option("--split", a->eval.split, "test (default: the official test images) or val (the training hold-out)")
        ->check(CLI::IsMember({"test", "val"}));
    eval->add_option("--out,-o", a->eval.out_dir, "folder for classify.json and confusion.png (default run_dir/classify/eval_<split>)");
    train->callback([a]() {
        Config cfg = load_config(a->config);
        torch::Device device = resolve_device(a->device.empty() ? cfg.device : a->device);
        const FolderLock lock(cfg.run_dir, "k2k classify train");
        train_classifier(cfg, device, a->resume);
    });
    eval->callback([a]() {
        Config cfg = load_config(a->config);
        torch::Device device = resolve_device(a->device.empty() ? cfg.device : a->device);
        evaluate_classifier(cfg, device, a->eval);
    });
}

}  // namespace k2k::cli
