// `k2k eval` as a library: each stage's metrics on the test split, transfer accuracy (the reader
// reads the predicted modern pixels and stroke samples), the direct baselines; and the scoring maths.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "data/split.h"

namespace k2k {

struct TrainingData;

// ---- scoring (pure functions) ---------------------------------------------------------------

// Intersection over union of the ink of a and b, both (B,1,H,W) in [0,1]: ink is value > threshold.
// Returns (B,) float; 1 where neither image has ink (nothing to get wrong).
torch::Tensor ink_iou(const torch::Tensor& a, const torch::Tensor& b, double threshold = 0.5);

// scores (B,C), target (B,) int64 -> (B,) bool: the target is among the k highest scores (k is
// clipped to C; ties as torch::topk breaks them).
torch::Tensor topk_hits(const torch::Tensor& scores, const torch::Tensor& target, int64_t k);

// The vote ranking of one item's N samples, probs (N,C) on any device: classes ordered by how many
// samples put them first (descending), then by their summed probability (descending); the
// first min(k, C) classes.
std::vector<int64_t> vote_ranking(const torch::Tensor& probs, int64_t k);

// How the reader did on one item's N samples (probs (N,C), one row of class probabilities each).
struct SampleScores {
    double top1 = 0;          // fraction of the samples whose top-1 is the target
    double top5 = 0;          // fraction of the samples whose top-5 holds the target
    bool best1 = false;       // best-of-N: some sample's top-1 is the target
    bool best5 = false;       // some sample's top-5 holds the target
    bool vote1 = false;       // majority vote (vote_ranking's first class) is the target
    bool vote5 = false;       // the target is among vote_ranking's first 5
    int64_t vote = -1;        // the voted class
    double target_prob = 0;   // mean probability of the target over the samples
};
SampleScores score_samples(const torch::Tensor& probs, int64_t target);

// The k nearest reference rows of each query by Euclidean distance: reference (R,D), queries (Q,D),
// float, same device. Returns (Q,min(k,R)) int64 indices into reference, nearest first. The
// distance matrix is built in chunks of reference rows, so R can be large.
torch::Tensor nearest_neighbours(const torch::Tensor& reference, const torch::Tensor& queries, int64_t k);

// Class ranking of one query from its neighbours' labels, nearest first: classes by number of
// neighbours (descending), ties to the class whose nearest neighbour is closer. k-NN's top-1 is
// the first; with k = 4 there are at most 4 classes, so top-5 = "some neighbour has the class".
std::vector<int64_t> knn_ranking(const std::vector<int64_t>& neighbour_labels);

// ---- the items --------------------------------------------------------------------------------

// A Kuzushiji image of the evaluated split whose class has a KanjiVG base character (directly or
// through its NFC form): the items of the transfer accuracy and of the baselines.
struct TransferItem {
    size_t old_index = 0;       // dataset old entry
    uint32_t old_codepoint = 0;  // its Kuzushiji class
    uint32_t modern_codepoint = 0;  // the KanjiVG base character it should read as
};
// Every image of td.old[split] (the run's classes, in that split only) paired against every base
// character of the cache, in dataset order.
std::vector<TransferItem> transfer_items(const TrainingData& td, Split split);

// ---- k2k eval -------------------------------------------------------------------------------

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
//   reader:    {classes, clean: {top1, top5, items, line_width}} or null (reader not trained)
//   transfer:  {items, pixels: T, strokes: T} or null, where
//              T = {per_sample: {top1, top5}, best_of_n: {top1, top5}, vote: {top1, top5}}
//              (pixels: the reader reads vae_new.decode(z~) of each MDN draw z~; strokes: it reads
//              the Sketch-RNN sample conditioned on the same z~, rendered like the KanjiVG rasters)
//   baselines: {cnn: {top1, top5, classes, items} or null, knn: {k, top1, top5, reference, items}}
// Accuracies are fractions in [0, 1] over the transfer items. A stage that is not trained leaves
// its parts null (with a note on stdout) instead of failing. With out_dir: items.csv (one row per
// item) and worst.png / best.png contact sheets ranked by the reader's mean probability of the
// right character. Throws k2k::Error for a missing run folder or config.
nlohmann::json run_eval(const EvalOptions& options);

// The short table `k2k eval` prints.
std::string eval_table(const nlohmann::json& report);

}  // namespace k2k
