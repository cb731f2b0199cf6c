// `k2k eval`: opens the run folder, then runs the steps in order: stage metrics, the reader's
// check, transfer accuracy, baselines, eval.json and the per-item outputs.
#include "eval/eval.h"

#include <chrono>
#include <filesystem>
#include <utility>
#include <vector>

#include "config/config.h"
#include "data/selection.h"
#include "runtime/runtime.h"
#include "util/error.h"
#include "util/fs.h"

namespace k2k {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The run's config (run_dir = the folder given), its data, the split, the device and the samples
// per item of `options`. Throws k2k::Error for a missing run folder or config, or an unknown split.
EvalContext open_run(const EvalOptions& options) {
    const std::string config_path = (fs::path(options.run_dir) / "config.yaml").string();
    if (!fs::is_directory(options.run_dir))
        throw Error(options.run_dir + ": no such run folder (train one with k2k pipeline --config <config>)");
    if (!fs::exists(config_path)) throw Error(config_path + ": not found; is " + options.run_dir + " a k2k run folder?");
    if (!options.out_dir.empty()) require_writable_folder(options.out_dir);  // fail now, not after the evaluation
    EvalContext context;
    context.config = load_config(config_path);
    context.config.run_dir = options.run_dir;  // the folder given, even when it was moved since training
    context.split = parse_split(options.split);
    context.device = resolve_device(options.device);
    context.samples = options.samples > 0 ? options.samples : context.config.generate.samples;
    context.verbose = options.verbose;
    context.data = select_training_data(load_or_prepare_dataset(context.config.data, options.verbose), context.config.data);
    return context;
}

}  // namespace

json run_eval(const EvalOptions& options) {
    const auto start = std::chrono::steady_clock::now();
    const EvalContext context = open_run(options);
    json report = report_header(context, options.seed);

    // Items: the split's images of the run's classes that have a KanjiVG character.
    const std::vector<TransferItem> paired = transfer_items(context.data, context.split);
    const std::vector<TransferItem> items = spread_items(paired, options.limit);
    std::vector<ItemRow> rows = item_rows(items);

    StageModels models;
    report["stages"] = stage_metrics(context, models);
    ReaderJudge reader = load_reader_judge(context);
    report["reader"] = reader_metrics(context, reader);
    report["transfer"] = transfer_accuracy(context, models, reader, items, options.seed, !options.out_dir.empty(), rows);
    report["candidates"] = candidate_accuracy(context, models, items);
    report["links"] = link_accuracy(context, models, reader, options.seed);
    json baselines;
    baselines["cnn"] = cnn_baseline(context, items, rows);
    baselines["knn"] = knn_baseline(context, items, rows);
    report["baselines"] = baselines;

    report["counts"] = report_counts(context, items.size(), context.old_items().size() - paired.size(),
                                     reader.trained.classes.size(), knn_reference(context).size());
    report["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    context.say("wrote " + write_report(options.run_dir, context.split, report));
    if (!options.out_dir.empty()) {
        write_item_outputs(options.out_dir, rows, context.data.ds, options.sheet_rows);
        context.say("wrote items.csv, worst.png and best.png in " + options.out_dir);
    }
    return report;
}

}  // namespace k2k
