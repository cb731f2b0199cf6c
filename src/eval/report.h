// The outputs of `k2k eval`: eval.json's header and counts, the file itself, items.csv, the
// worst/best contact sheets and the short table the CLI prints.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/context.h"
#include "eval/transfer.h"

namespace k2k {

// eval.json's top level before the measurements: schema, version, config, run_dir, seed,
// eval_seed, split, device, samples, temperature, mdn_temperature, mdn_mode.
nlohmann::json report_header(const EvalContext& context, uint64_t eval_seed);

// eval.json's "counts" (see run_eval in eval/eval.h).
nlohmann::json report_counts(const EvalContext& context, size_t transfer_items, size_t transfer_unpaired,
                             size_t reader_classes, size_t knn_reference);

// Writes report to run_dir/eval/eval.json (eval_<split>.json for another split) atomically;
// returns the path written.
std::string write_report(const std::string& run_dir, Split split, const nlohmann::json& report);

// items.csv (one row per item), worst.png and best.png (sheet_rows items each, ranked by
// ItemRow::score) in out_dir, which is created.
void write_item_outputs(const std::string& out_dir, const std::vector<ItemRow>& rows, const Dataset& dataset,
                        int64_t sheet_rows);

// The short table `k2k eval` prints.
std::string eval_table(const nlohmann::json& report);

}  // namespace k2k
