// k2k train / pipeline: run one stage or all stages from a YAML config.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "config/config.h"
#include "run/run_dir.h"
#include "runtime/runtime.h"
#include "train/pipeline.h"
#include "util/lock.h"
#include "data/selection.h"

namespace k2k::cli {

namespace {

struct TrainArgs {
    std::string config;
    std::string stage;
    std::string device;  // empty: the config's
    bool resume = false;
};

void add_common(CLI::App* cmd, TrainArgs& a) {
    cmd->add_option("--config,-c", a.config, "experiment YAML (e.g. configs/quick.yaml)")->required()->check(CLI::ExistingFile);
    cmd->add_option("--device", a.device, "cpu, cuda or auto (default: the config's `device`)")
        ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
    cmd->add_flag("--resume", a.resume, "continue an interrupted stage from its last checkpoint");
}

void run_train(const TrainArgs& a) {
    Config cfg = load_config(a.config);
    torch::Device device = resolve_device(a.device.empty() ? cfg.device : a.device);
    const FolderLock lock(cfg.run_dir, "k2k train --stage " + a.stage);  // one job per run folder
    prepare_run_dir(cfg);
    TrainingData data = select_training_data(load_or_prepare_dataset(cfg.data, true), cfg.data);
    std::printf("[train] stage %s on %s, run folder %s\n", a.stage.c_str(), device.str().c_str(), cfg.run_dir.c_str());
    train_stage(cfg, a.stage, data, device, a.resume);
}

void run_pipeline_cmd(const TrainArgs& a) {
    Config cfg = load_config(a.config);
    torch::Device device = resolve_device(a.device.empty() ? cfg.device : a.device);
    const FolderLock lock(cfg.run_dir, "k2k pipeline");  // one job per run folder
    std::printf("[pipeline] %s on %s, run folder %s\n", cfg.name.c_str(), device.str().c_str(), cfg.run_dir.c_str());
    run_pipeline(cfg, device, a.resume);
    std::printf("[pipeline] all stages complete in %s\n", cfg.run_dir.c_str());
}

}  // namespace

void setup_train(CLI::App& app) {
    auto ta = std::make_shared<TrainArgs>();
    CLI::App* train = app.add_subcommand("train", "Train one stage of the pipeline into the config's run folder");
    add_common(train, *ta);
    train->add_option("--stage", ta->stage, "vae_new, vae_old, mdn, sketch, reader or baseline")
        ->required()
        ->check(CLI::IsMember({"vae_new", "vae_old", "mdn", "sketch", "reader", "baseline"}));
    train->callback([ta]() { run_train(*ta); });

    auto pa = std::make_shared<TrainArgs>();
    CLI::App* pipe = app.add_subcommand("pipeline", "Train all stages in order (vae_new, vae_old, mdn, sketch), skipping complete ones");
    add_common(pipe, *pa);
    pipe->callback([pa]() { run_pipeline_cmd(*pa); });
}

}  // namespace k2k::cli
