// Stage order and dispatch: which stages a stage needs, and the pipeline that trains them in turn.
#include "train/pipeline.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "data/selection.h"
#include "run/run_dir.h"
#include "train/data_parallel.h"
#include "train/stage_common.h"
#include "util/error.h"

namespace k2k {

namespace {

// Empties a stage folder (stage folders hold only files: last.pt, best.pt, metrics.csv,
// done.json). File by file rather than remove_all, which the PyTorch 2.x wheel's libtorch.so
// exports a crashing copy of.
void clear_stage_folder(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::vector<fs::path> files;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (!it->is_directory(ec)) files.push_back(it->path());
    for (const fs::path& f : files) {
        std::error_code rm;
        fs::remove(f, rm);
        if (rm) throw Error(f.string() + ": cannot remove a stale stage's file (" + rm.message() + ")");
    }
}

}  // namespace

void train_stage(const Config& config, const std::string& stage, TrainingData& data, torch::Device device, bool resume,
                 DataParallel* dp_or_null) {
    DataParallel& dp = dp_or_null ? *dp_or_null : DataParallel::single();
    if (stage == "reader") return train_reader(config, data, device, resume, dp);      // evaluation stages
    if (stage == "baseline") return train_baseline(config, data, device, resume, dp);  // need no other stage
    const std::vector<std::string>& names = stage_names();
    auto at = std::find(names.begin(), names.end(), stage);
    if (at == names.end()) throw Error("unknown stage '" + stage + "' (expected vae_new, vae_old, mdn, sketch, reader or baseline)");
    std::vector<std::string> needs;
    if (stage == "mdn") needs = {"vae_new", "vae_old"};
    if (stage == "sketch") needs = {"vae_new", "vae_old", "mdn"};
    for (const std::string& n : needs)
        if (!stage_complete(stage_dir(config, n)))
            throw Error("stage " + stage + " needs stage " + n + " to be complete in " + config.run_dir +
                        " (k2k train --stage " + n + ", or k2k pipeline)");
    if (stage == "vae_new" || stage == "vae_old") train_vae(config, stage, data, device, resume, dp);
    if (stage == "mdn") train_mdn(config, data, device, resume, dp);
    if (stage == "sketch") train_sketch(config, data, device, resume, dp);
}

TrainingData load_training_data(const Config& config, DataParallel* dp_or_null) {
    DataParallel& dp = dp_or_null ? *dp_or_null : DataParallel::single();
    if (dp.is_main()) prepare_run_dir(config);
    // Rank 0 prepares a missing cache; the others read it after.
    Dataset ds;
    if (dp.is_main()) ds = load_or_prepare_dataset(config.data, true);
    dp.barrier();
    if (!dp.is_main()) ds = load_or_prepare_dataset(config.data, false);
    return select_training_data(std::move(ds), config.data);
}

void run_pipeline(const Config& config, torch::Device device, bool resume, DataParallel* dp_or_null) {
    DataParallel& dp = dp_or_null ? *dp_or_null : DataParallel::single();
    TrainingData data = load_training_data(config, &dp);
    std::printf("[data] modern train/val/test %zu/%zu/%zu, Kuzushiji train/val/test %zu/%zu/%zu, paired classes %zu\n",
                data.modern[0].size(), data.modern[1].size(), data.modern[2].size(), data.old[0].size(),
                data.old[1].size(), data.old[2].size(), data.old_to_modern.size());
    bool retrained = false;  // once a stage is (re)trained, the stages after it are stale
    for (const std::string& stage : stage_names()) {
        const std::string dir = stage_dir(config, stage);
        if (!retrained && stage_complete(dir)) {
            std::printf("[%s] already complete in %s, skipped\n", stage.c_str(), dir.c_str());
            continue;
        }
        // A stale stage (complete or interrupted) was trained on the old weights of an earlier
        // stage: neither skip it nor resume it, but clear it deliberately and train it afresh.
        if (retrained && dp.is_main() && std::filesystem::exists(dir)) {
            clear_stage_folder(dir);
            std::printf("[%s] stale: an earlier stage was retrained; cleared %s\n", stage.c_str(), dir.c_str());
            std::fflush(stdout);
        }
        train_stage(config, stage, data, device, retrained ? false : resume, &dp);
        retrained = true;
    }
    for (const std::string& stage : eval_stage_names()) {  // optional; depend on no other stage
        if (!(stage == "reader" ? config.reader.enabled : config.baseline.enabled)) continue;
        if (stage_complete(stage_dir(config, stage))) {
            std::printf("[%s] already complete in %s, skipped\n", stage.c_str(), stage_dir(config, stage).c_str());
            continue;
        }
        train_stage(config, stage, data, device, resume, &dp);
    }
}

}  // namespace k2k
