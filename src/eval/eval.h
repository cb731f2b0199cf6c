// `k2k eval` as a library: each stage's metrics on the test split, transfer accuracy (the reader
// reads the predicted modern pixels and stroke samples), the direct baselines; and the scoring maths.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

// The steps, included so that "eval/eval.h" gives the whole evaluation API: the scoring maths,
// the transfer items, eval_table.
#include "eval/baselines.h"
#include "eval/links.h"
#include "eval/report.h"
#include "eval/scoring.h"
#include "eval/stage_metrics.h"
#include "eval/transfer.h"

namespace k2k {

// ---- k2k eval: the steps in order (see eval.cpp) -----------------------------------------

struct EvalOptions {
    std::string run_dir;          // run folder holding config.yaml and the stage folders (required)
    std::string split = "test";   // train | val | test: the data layer's deterministic split
    int64_t samples = 0;          // predictions per item (MDN draws, each decoded and sampled as strokes); 0 = config generate.samples
    int64_t limit = 0;            // evaluate at most this many transfer items (0 = all), spread evenly; for quick looks
    std::string out_dir;          // "" = none; else items.csv, worst.png and best.png go there
    std::string device = "cpu";   // cpu | cuda | auto
    uint64_t seed = 1;            // seed of the one CPU generator behind every random draw
    int64_t sheet_rows = 12;      // rows of each contact sheet
    bool verbose = true;          // progress lines on stdout
};

// Runs the evaluation and writes run_dir/eval/eval.json (eval_<split>.json for another split),
// atomically; returns the same document. Schema ("schema": "k2k-eval", "version": 1):
//   config, run_dir, seed (the config's), eval_seed, split, device, samples, temperature,
//   mdn_temperature, mdn_mode ("mean" | "sample"), seconds
//   counts:    {modern_items, old_items, pairs, transfer_items, transfer_unpaired (split images of
//               the run's classes with no KanjiVG character), reader_classes, baseline_classes,
//               knn_reference}
//   stages:    {vae_new: {bce, kl, iou, items}, vae_old: {...},   BCE summed over the 64x64 pixels
//               mdn: {nll, items},                                  of decode(mu(x)), KL unfloored,
//               sketch: {ls, lp, lr, items, skipped}}               IoU of ink at 0.5; NLL in nats;
//              each null when the stage is not trained              Ls, Lp, Lr with z = encoder mu
//   reader:    {classes, clean: {top1, top5, items, line_width}, augmented: {top1, top5, items},
//               variants: {top1, top5, items}} or null (reader not trained): clean renders at a
//               line width training skips, augmented renders from a seed stream training never
//               draws, and the KanjiVG variant glyphs (never trained on)
//   transfer:  {items, pixels: T, strokes: T, run_classes: {classes, pixels: T, strokes: T}} or
//              null (run_classes: the reader kept on the run's characters, like the baselines), where
//              T = {per_sample: {top1, top5}, best_of_n: {top1, top5}, vote: {top1, top5},
//                   first_ranked: {top1, top5}} (first_ranked: the sample whose render agrees best
//                   with the predicted pixels, generate/ranking.h; strokes only, 0 for pixels)
//              (pixels: the reader reads vae_new.decode(z~) of each MDN draw z~; strokes: it reads
//              the Sketch-RNN sample conditioned on the same z~, rendered like the KanjiVG rasters)
//   candidates: {items, classes, top1, top5, temperature, nll, best_temperature, best_nll} or null:
//              the MDN's own ranking of every KanjiVG character (eval/transfer.h candidate_accuracy)
//   links:     {split_chars: L, train_chars: L} or null: each link on its own (eval/links.h),
//              L = {items, vae_new: T, sketch_true_z: T or null}
//   baselines: {cnn: {top1, top5, classes, items} or null, knn: {k, top1, top5, reference, items}}
// Accuracies are fractions in [0, 1] over the transfer items. A stage that is not trained leaves
// its parts null (with a note on stdout) instead of failing. With out_dir: items.csv (one row per
// item) and worst.png / best.png contact sheets ranked by the reader's mean probability of the
// right character. Throws k2k::Error for a missing run folder or config. The table `k2k eval`
// prints is eval_table (eval/report.h).
nlohmann::json run_eval(const EvalOptions& options);

}  // namespace k2k
