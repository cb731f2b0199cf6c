// The run folder (see run_dir.h).
#include "run/run_dir.h"

#include <cstdio>
#include <filesystem>
#include <utility>

#include "util/error.h"
#include "util/fs.h"

namespace k2k {

namespace fs = std::filesystem;

const std::vector<std::string>& stage_names() {
    static const std::vector<std::string> names = {"vae_new", "vae_old", "mdn", "sketch"};
    return names;
}

const std::vector<std::string>& eval_stage_names() {
    static const std::vector<std::string> names = {"reader", "baseline"};
    return names;
}

std::string stage_dir(const Config& c, const std::string& stage) { return (fs::path(c.run_dir) / stage).string(); }

namespace {

// The config without the sections that no training stage of the pipeline reads: generation
// settings and the evaluation stages (reader, baseline), which train on their own.
std::string pipeline_part(Config c) {
    c.generate = GenerateConfig();
    c.reader = ReaderConfig();
    c.baseline = BaselineConfig();
    return dump_config(c);
}

}  // namespace

void prepare_run_dir(const Config& config) {
    fs::create_directories(config.run_dir);
    const std::string path = (fs::path(config.run_dir) / "config.yaml").string();
    const std::string text = dump_config(config);
    if (fs::exists(path)) {
        Config old = load_config(path);
        if (dump_config(old) == text) return;
        if (pipeline_part(old) != pipeline_part(config))
            throw Error(path + ": this run folder was made with a different config; use another run_dir or delete " +
                        config.run_dir + " to start over");
        // Only generate / reader / baseline changed: the trained pipeline stages stay valid. An
        // evaluation stage already trained with other settings would be stale, so it must go first.
        Config old_reader = config, old_baseline = config;
        old_reader.reader = old.reader;
        old_baseline.baseline = old.baseline;
        const std::pair<std::string, bool> eval_stages[] = {{"reader", dump_config(old_reader) != text},
                                                            {"baseline", dump_config(old_baseline) != text}};
        for (const auto& [stage, changed] : eval_stages)
            if (changed && fs::exists(stage_dir(config, stage)))
                throw Error(path + ": the " + stage + " settings differ from those " + stage_dir(config, stage) +
                            " was trained with; delete that folder to retrain it, or keep the old settings");
        std::printf("[run] %s: generate/reader/baseline settings updated (the pipeline stages are unaffected)\n",
                    path.c_str());
    }
    write_file_atomic(path, text);
}

Config load_run_config(const std::string& run_dir) {
    if (!fs::is_directory(run_dir))
        throw Error(run_dir + ": run folder not found (train one with k2k pipeline --config <config>)");
    const std::string path = (fs::path(run_dir) / "config.yaml").string();
    if (!fs::exists(path))
        throw Error(path + ": not found; " + run_dir + " is not a run folder written by k2k train or k2k pipeline");
    Config cfg = load_config(path);
    cfg.run_dir = run_dir;  // the folder may have been moved since training
    return cfg;
}

bool stage_complete(const std::string& dir) { return fs::exists(fs::path(dir) / "done.json"); }

std::string best_checkpoint(const Config& c, const std::string& stage) {
    std::string path = (fs::path(stage_dir(c, stage)) / "best.pt").string();
    if (!fs::exists(path))
        throw Error(path + ": checkpoint not found; train the stage first (" +
                    (stage == "classify" ? std::string("k2k classify train --config <config>")
                                         : "k2k train --config <config> --stage " + stage) + ")");
    return path;
}

}  // namespace k2k
