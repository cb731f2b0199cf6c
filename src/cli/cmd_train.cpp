// k2k train / pipeline: run one stage or all stages from a YAML config.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include <torch/cuda.h>

#include "cli/commands.h"
#include "config/config.h"
#include "run/run_dir.h"
#include "runtime/runtime.h"
#include "train/data_parallel.h"
#include "train/pipeline.h"
#include "util/error.h"
#include "util/workers.h"
#include "util/lock.h"
#include "data/selection.h"

namespace k2k::cli {

namespace {

struct TrainArgs {
    std::string config;
    std::string stage;
    std::string device;  // empty: the config's
    bool resume = false;
    int nproc = 1;       // local data-parallel workers
};

void add_common(CLI::App* cmd, TrainArgs& a) {
    cmd->add_option("--config,-c", a.config, "experiment YAML (e.g. configs/quick.yaml)")->required()->check(CLI::ExistingFile);
    cmd->add_option("--device", a.device, "cpu, cuda or auto (default: the config's `device`)")
        ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
    cmd->add_flag("--resume", a.resume, "continue an interrupted stage from its last checkpoint");
    cmd->add_option("--nproc", a.nproc,
                    "data-parallel: train on N local worker processes, each on 1/N of every batch "
                    "(batch sizes must divide by N; --threads is then per worker). Several hosts: "
                    "run one k2k per rank with torchrun's RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT")
        ->check(CLI::Range(1, 256));
}

// --nproc N > 1 in a plain process: start the N workers (this command again, without --nproc)
// and wait for them. Returns true when it did (the caller has nothing left to do).
bool launched_workers(const TrainArgs& a) {
    const DistEnv env = dist_env_from_environment();
    if (a.nproc <= 1) return false;
    if (env.world_size > 1)
        throw Error("--nproc " + std::to_string(a.nproc) + " with WORLD_SIZE=" + std::to_string(env.world_size) +
                    " set: use one or the other (--nproc starts local workers itself)");
    WorkerOptions o;
    o.nproc = a.nproc;
    // The cores shared out, unless the user said how many per worker.
    if (!std::getenv("K2K_THREADS")) o.threads = std::max(1, runtime_threads() / a.nproc);
    o.file_store = new_store_path();
    std::printf("[data-parallel] %d workers on this host, torch threads per worker: %d\n", a.nproc,
                o.threads > 0 ? o.threads : runtime_threads());
    std::fflush(stdout);
    run_workers("/proc/self/exe", strip_nproc(own_argv()), o);
    return true;
}

// This process's place among the workers (alone: world size 1). Workers other than rank 0 print
// nothing on stdout (rank 0 shows progress for all); their errors still go to stderr. On CUDA,
// worker LOCAL_RANK takes GPU LOCAL_RANK (modulo the GPUs there are).
std::unique_ptr<DataParallel> join_workers(torch::Device& device) {
    const DistEnv env = dist_env_from_environment();
    std::unique_ptr<DataParallel> dp = DataParallel::connect(env);
    if (device.is_cuda() && env.world_size > 1)
        device = torch::Device(torch::kCUDA, int8_t(env.local_rank % int(torch::cuda::device_count())));
    if (!dp->is_main() && !std::freopen("/dev/null", "w", stdout))
        throw Error("/dev/null: cannot redirect the output of worker " + std::to_string(dp->rank()));
    if (dp->world_size() > 1 && dp->is_main())
        std::printf("[data-parallel] rank 0 of %d joined the process group\n", dp->world_size());
    return dp;
}

void run_train(const TrainArgs& a) {
    Config cfg = load_config(a.config);
    torch::Device device = resolve_device(a.device.empty() ? cfg.device : a.device);
    if (launched_workers(a)) return;
    std::unique_ptr<DataParallel> dp = join_workers(device);
    std::optional<FolderLock> lock;  // one job per run folder (its workers: rank 0 holds it)
    if (dp->is_main()) lock.emplace(cfg.run_dir, "k2k train --stage " + a.stage);
    TrainingData data = load_training_data(cfg, dp.get());
    std::printf("[train] stage %s on %s, run folder %s\n", a.stage.c_str(), device.str().c_str(), cfg.run_dir.c_str());
    train_stage(cfg, a.stage, data, device, a.resume, dp.get());
}

void run_pipeline_cmd(const TrainArgs& a) {
    Config cfg = load_config(a.config);
    torch::Device device = resolve_device(a.device.empty() ? cfg.device : a.device);
    if (launched_workers(a)) {
        std::printf("[pipeline] all stages complete in %s\n", cfg.run_dir.c_str());
        return;
    }
    std::unique_ptr<DataParallel> dp = join_workers(device);
    std::optional<FolderLock> lock;
    if (dp->is_main()) lock.emplace(cfg.run_dir, "k2k pipeline");
    std::printf("[pipeline] %s on %s, run folder %s\n", cfg.name.c_str(), device.str().c_str(), cfg.run_dir.c_str());
    run_pipeline(cfg, device, a.resume, dp.get());
    if (dp->world_size() == 1) std::printf("[pipeline] all stages complete in %s\n", cfg.run_dir.c_str());
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
