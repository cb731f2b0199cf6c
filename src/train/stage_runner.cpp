// The shared training loop: checkpoints, metrics, progress, NaN guard, resume.
#include "train/stage_runner.h"

#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "run/checkpoint.h"
#include "train/data_parallel.h"
#include "util/progress.h"
#include "util/error.h"
#include "util/fs.h"

namespace k2k {

namespace fs = std::filesystem;

namespace {

std::string num(double v) {
    std::ostringstream s;
    s.precision(9);
    s << v;
    return s.str();
}

// Appends one row to metrics.csv (header first when the file is new).
void append_metrics(const std::string& path, const StageLoopOptions& o, int64_t step, double wall, const char* split,
                    const std::vector<double>& values) {
    bool fresh = !fs::exists(path);
    std::ofstream out(path, std::ios::app);
    if (!out) throw Error(path + ": cannot append metrics");
    if (fresh) {
        out << "step,wall_s,split";
        for (const std::string& t : o.terms) out << "," << t;
        for (const std::string& t : o.extras) out << "," << t;
        out << "\n";
    }
    out << step << "," << num(wall) << "," << split;
    size_t n = o.terms.size() + o.extras.size();
    for (size_t i = 0; i < n; ++i) out << "," << (i < values.size() ? num(values[i]) : std::string());
    out << "\n";
}

// After a resume from `step`: rows written after the checkpoint are dropped, so the CSV reads
// as if the run had never stopped.
void trim_metrics(const std::string& path, int64_t step) {
    if (!fs::exists(path)) return;
    std::ifstream in(path);
    std::string line, kept;
    bool header = true;
    while (std::getline(in, line)) {
        if (header || std::stoll(line.substr(0, line.find(','))) <= step) kept += line + "\n";
        header = false;
    }
    in.close();
    write_file_atomic(path, kept);
}

void check_finite(const StageLoopOptions& o, int64_t step, const std::vector<double>& values, const char* what,
                  const std::string& last_good) {
    size_t n = std::min(values.size(), o.terms.size() + o.extras.size());
    for (size_t i = 0; i < n; ++i) {
        if (std::isfinite(values[i])) continue;
        const std::string& name = i < o.terms.size() ? o.terms[i] : o.extras[i - o.terms.size()];
        throw Error(o.name + ": step " + std::to_string(step) + ": " + what + " '" + name + "' is " +
                    (std::isnan(values[i]) ? "nan" : "inf") + "; stopped. " +
                    (last_good.empty() ? std::string("No checkpoint was written yet.")
                                       : "Last good checkpoint kept: " + last_good) +
                    " (try a lower lr or grad_clip)");
    }
}

// kill -9 during a save leaves <file>.tmp.<pid> (40-50 MB for the real stages) that nothing else
// removes; the pid tells whether its writer is gone.
void remove_killed_saves(const StageLoopOptions& o) {
    std::vector<std::string> removed = remove_stale_temp_files(o.dir);
    if (removed.empty()) return;
    std::string list;
    for (size_t i = 0; i < removed.size(); ++i) list += (i ? ", " : "") + removed[i];
    if (removed.size() == 1)
        std::printf("[%s] removed 1 temp file left by a killed save: %s\n", o.name.c_str(), list.c_str());
    else
        std::printf("[%s] removed %zu temp files left by killed saves: %s\n", o.name.c_str(), removed.size(), list.c_str());
    std::fflush(stdout);
}

// Without --resume, an interrupted stage (last.pt but no done.json) would start again from step 0
// and overwrite the checkpoint it could have continued from: refuse, and say both ways out.
void refuse_silent_restart(const StageLoopOptions& o, const std::string& last_path, const std::string& done_path) {
    if (o.resume || !fs::exists(last_path) || fs::exists(done_path)) return;
    std::string at;
    try {
        load_archive(last_path, [&](torch::serialize::InputArchive& a) { at = "at step " + std::to_string(archive_read_int(a, "k2k_step")); });
    } catch (const Error&) {
        at = "(its last.pt cannot be read)";
    }
    throw Error(last_path + ": stage " + o.name + " was interrupted " + at + "; pass --resume to continue it, or delete " +
                o.dir + " to start it over");
}

}  // namespace

StageResult run_stage_loop(const StageLoopOptions& o, const StageHooks& hooks) {
    TORCH_CHECK(!o.terms.empty(), "run_stage_loop needs at least one term");
    // With 0 steps the loop would write done.json and no checkpoint (the config refuses it too).
    if (o.steps < 1)
        throw Error(o.name + ": steps is " + std::to_string(o.steps) + "; a stage needs at least one step (set steps >= 1)");
    DataParallel& dp = o.dp ? *o.dp : DataParallel::single();
    const bool main = dp.is_main();
    if (dp.world_size() > 1 && !hooks.tensors)
        throw Error(o.name + ": this stage cannot run data-parallel (it names no weights to keep equal)");
    dp.barrier();  // rank 0's file work of the stage before (a stale folder cleared) is done
    if (main) fs::create_directories(o.dir);
    const std::string last_path = (fs::path(o.dir) / "last.pt").string();
    const std::string best_path = (fs::path(o.dir) / "best.pt").string();
    const std::string metrics_path = (fs::path(o.dir) / "metrics.csv").string();
    const std::string done_path = (fs::path(o.dir) / "done.json").string();
    if (main) remove_killed_saves(o);
    refuse_silent_restart(o, last_path, done_path);
    dp.barrier();  // every worker decided from the same files before rank 0 removes any

    StageResult result;
    int64_t step = 0;
    double wall_before = 0;
    double best = std::numeric_limits<double>::infinity();
    std::string last_good;
    if (o.resume && fs::exists(last_path)) {
        load_archive(last_path, [&](torch::serialize::InputArchive& a) {
            step = archive_read_int(a, "k2k_step");
            wall_before = archive_read_double(a, "k2k_wall_s");
            best = archive_read_double(a, "k2k_best_val");
            hooks.load(a);
        });
        result.resumed_at = step;
        last_good = last_path + " (step " + std::to_string(step) + ")";
        if (main) trim_metrics(metrics_path, step);
    } else if (main) {
        for (const std::string& p : {last_path, best_path, metrics_path, done_path}) fs::remove(p);
    }
    if (main) fs::remove(done_path);
    if (dp.world_size() > 1) dp.broadcast(hooks.tensors());

    Progress progress(o.name, o.steps, step, o.log_every);
    if (main && result.resumed_at >= 0) progress.message("resumed from " + last_path + " at step " + std::to_string(step));
    auto t0 = std::chrono::steady_clock::now();
    auto wall = [&]() { return wall_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    auto save_to = [&](const std::string& path, int64_t at) {
        save_archive(path, [&](torch::serialize::OutputArchive& a) {
            archive_write_int(a, "k2k_step", at);
            archive_write_double(a, "k2k_wall_s", wall());
            archive_write_double(a, "k2k_best_val", best);
            hooks.save(a);
        });
    };

    // K2K_DEBUG_NAN_STEP=N turns the loss of step N into NaN: a way to see (and test) the guard.
    const char* nan_env = std::getenv("K2K_DEBUG_NAN_STEP");
    const int64_t nan_step = nan_env ? std::atoll(nan_env) : -1;
    // K2K_DEBUG_KILL_RANK=R with K2K_DEBUG_KILL_STEP=N: worker R dies (SIGKILL) after step N, to
    // see (and test) how the other workers stop.
    const char* kill_rank_env = std::getenv("K2K_DEBUG_KILL_RANK");
    const char* kill_step_env = std::getenv("K2K_DEBUG_KILL_STEP");
    const int kill_rank = kill_rank_env && kill_step_env ? std::atoi(kill_rank_env) : -1;
    const int64_t kill_step = kill_step_env ? std::atoll(kill_step_env) : -1;
    std::vector<double> last_train, last_val;
    const int64_t first = step;
    for (; step < o.steps; ++step) {
        std::vector<double> values = dp.average(hooks.train_step(step));
        if (kill_rank == dp.rank() && step + 1 == kill_step) std::raise(SIGKILL);
        if (step + 1 == nan_step && !values.empty()) values[0] = std::nan("");
        check_finite(o, step + 1, values, "loss term", last_good);
        last_train = values;
        int64_t done = step + 1;
        if (main && (done % o.log_every == 0 || done == o.steps)) append_metrics(metrics_path, o, done, wall(), "train", values);
        std::vector<std::pair<std::string, double>> shown;
        for (size_t i = 0; i < o.terms.size() && i < values.size(); ++i) shown.emplace_back(o.terms[i], values[i]);
        if (main) progress.update(done, shown);

        if (done % o.eval_every == 0 || done == o.steps) {
            std::vector<double> val;
            if (main) val = hooks.evaluate();
            dp.broadcast_values(val, o.terms.size());
            check_finite(o, done, val, "validation term", last_good);
            last_val = val;
            if (!main) {
                if (val[0] < best) best = val[0];
                last_good = last_path + " (step " + std::to_string(done) + ")";
                continue;
            }
            append_metrics(metrics_path, o, done, wall(), "val", val);
            std::ostringstream msg;
            msg << "step " << done << " validation:";
            for (size_t i = 0; i < o.terms.size() && i < val.size(); ++i) msg << " " << o.terms[i] << "=" << num(val[i]);
            if (val[0] < best) {
                best = val[0];
                save_to(best_path, done);
                msg << " (best)";
            }
            save_to(last_path, done);
            last_good = last_path + " (step " + std::to_string(done) + ")";
            progress.message(msg.str());
        }
    }
    const DataParallel::ReduceTime reduce = dp.take_reduce_time();
    result.steps_done = o.steps - first;
    result.best_val = best;
    result.wall_s = wall();
    if (!main) {
        dp.barrier();  // rank 0 has written done.json: the next stage sees this one complete
        return result;
    }
    progress.finish();
    if (reduce.calls > 0)
        std::printf("[%s] data-parallel over %d workers: gradient all-reduce %.2f ms per step (%lld values)\n",
                    o.name.c_str(), dp.world_size(), 1000.0 * reduce.seconds / double(reduce.calls),
                    (long long)reduce.values);

    nlohmann::json done_json;
    done_json["stage"] = o.name;
    done_json["steps"] = o.steps;
    done_json["wall_s"] = result.wall_s;
    done_json["best_val"] = std::isfinite(best) ? nlohmann::json(best) : nlohmann::json(nullptr);
    for (size_t i = 0; i < o.terms.size(); ++i) {
        if (i < last_train.size()) done_json["train"][o.terms[i]] = last_train[i];
        if (i < last_val.size()) done_json["val"][o.terms[i]] = last_val[i];
    }
    write_file_atomic(done_path, done_json.dump(2) + "\n");
    dp.barrier();
    return result;
}

}  // namespace k2k
