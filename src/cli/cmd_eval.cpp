// k2k eval: measure a trained run on the test split (stage metrics, transfer accuracy read by the
// reader, baselines), write run/eval/eval.json and print a short table.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "eval/eval.h"

namespace k2k::cli {

void setup_eval(CLI::App& app) {
    auto o = std::make_shared<EvalOptions>();
    CLI::App* cmd = app.add_subcommand(
        "eval", "Evaluate a run on the test split: stage metrics, transfer accuracy read by the reader, baselines");
    cmd->add_option("--run,-r", o->run_dir, "run folder (holds config.yaml and the stage folders)")->required();
    cmd->add_option("--split", o->split, "data split to evaluate (default test; never trained on)")
        ->check(CLI::IsMember({"train", "val", "test"}));
    cmd->add_option("--samples,-n", o->samples, "predictions per item (default: the config's generate.samples)")
        ->check(CLI::Range(1, 1000));
    cmd->add_option("--out,-o", o->out_dir, "also write items.csv and worst/best contact sheets (PNG) here");
    cmd->add_option("--limit", o->limit, "evaluate at most this many items, spread over the split (default all)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--device", o->device, "cpu, cuda or auto (default cpu)")->check(CLI::IsMember({"cpu", "cuda", "auto"}));
    cmd->add_option("--seed", o->seed, "seed of the sampling (default 1)");
    cmd->callback([o]() {
        nlohmann::json report = run_eval(*o);
        std::printf("%s", eval_table(report).c_str());
    });
}

}  // namespace k2k::cli
