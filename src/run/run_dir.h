// The run folder: the resolved config.yaml it was trained with, one sub-folder per stage
// (last.pt, best.pt, metrics.csv, done.json), and the names of the stages.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace k2k {

// The pipeline's stages in order (paper Algorithm 1): vae_new, vae_old, mdn, sketch.
const std::vector<std::string>& stage_names();
// The evaluation stages, trained after the pipeline's when enabled; they depend on no other stage
// (nor each other), so retraining a pipeline stage does not make them stale: reader, baseline.
const std::vector<std::string>& eval_stage_names();

// Writes run_dir/config.yaml (the resolved config); throws k2k::Error when the folder already
// holds a config whose pipeline part differs (stages trained with other settings would be mixed).
void prepare_run_dir(const Config& config);

// Reads run_dir/config.yaml back (run_dir set to the folder given: it may have moved since).
// Throws k2k::Error naming the folder or file when either is missing.
Config load_run_config(const std::string& run_dir);

// run_dir/<stage>.
std::string stage_dir(const Config& c, const std::string& stage);
// True when `dir/done.json` says the stage finished.
bool stage_complete(const std::string& dir);
// run_dir/<stage>/best.pt; throws k2k::Error (with the command that trains it) when missing.
std::string best_checkpoint(const Config& c, const std::string& stage);

}  // namespace k2k
