// Transfer accuracy of `k2k eval`: the items (split images whose class has a KanjiVG character),
// the reader that judges them, and the loop that reads each item's MDN draws as pixels and strokes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/geometry.h"
#include "data/split.h"
#include "eval/context.h"
#include "eval/scoring.h"
#include "eval/stage_metrics.h"
#include "run/loaders.h"

namespace k2k {

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
// At most `limit` of the items (0 = all), spread evenly: item i * size / limit for i < limit.
std::vector<TransferItem> spread_items(const std::vector<TransferItem>& items, int64_t limit);

// Everything remembered about one transfer item for items.csv and the contact sheets.
struct ItemRow {
    TransferItem item;
    std::vector<uint32_t> pixel_reads, stroke_reads;  // reader's top-1 code point of each sample
    uint32_t pixel_vote = 0, stroke_vote = 0;         // majority vote (0: not run)
    SampleScores pixels, strokes;
    bool has_pixels = false, has_strokes = false;
    uint32_t cnn = 0, knn = 0;  // baselines' top-1 (0: not run)
    double score = 0;           // mean probability of the right character over what was read
    Image input, modern;        // for the sheets (kept only with out_dir): input, mean decoded image
    std::vector<Image> samples;  // rendered stroke samples
};
// One row per item, holding only the item.
std::vector<ItemRow> item_rows(const std::vector<TransferItem>& items);

// The reader that judges the transfer; a null model = the reader is not trained.
struct ReaderJudge {
    TrainedReader trained;
    std::map<uint32_t, int64_t> class_index;  // code point -> logit index
    std::vector<size_t> entries;              // reader_class_entries of the cache: entry k is class k
};
// Loads the trained reader and checks its class list against the KanjiVG characters of the cache
// (k2k::Error when they differ); a null judge, with a note on stdout, when it is not trained.
ReaderJudge load_reader_judge(const EvalContext& context);
// eval.json's "reader": {classes, clean: {top1, top5, items, line_width}} on the clean held-out
// renders, or null when the reader is not trained.
nlohmann::json reader_metrics(const EvalContext& context, ReaderJudge& reader);

// Stroke samples read by the reader: one Sketch-RNN sample per row of z (B,z) from `gen`, taken back
// to KanjiVG units and rendered like the dataset's rasters; probs is (B,C) on the CPU.
struct SketchReads {
    std::vector<Image> renders;  // B rendered samples
    torch::Tensor rendered;      // the same as a (B,1,S,S) float batch on the context's device
    torch::Tensor probs;         // (B,C) the reader's class probabilities
};
// Per item (rows i*samples .. of renders, (B*N,1,S,S)), the index of its sample that agrees best
// with its pixels (B,1,S,S), or with its own row of pixels when they are (B*N,1,S,S).
std::vector<int64_t> first_ranked(const torch::Tensor& renders, const torch::Tensor& pixels, int64_t samples);

// With generate.stroke_pool P > 1 each row of z is drawn P times and, of each item's N*P draws
// (N = context.samples consecutive rows of z per item), the N that agree best with the item's row
// of `targets` (B,1,S,S) are kept and read (generate/ranking.h best_rows), best first.
SketchReads read_sketches(const EvalContext& context, TrainedSketch& sketch, ReaderJudge& reader,
                          const torch::Tensor& z, const SketchSampleOptions& options, at::Generator& gen,
                          const torch::Tensor& targets = {});

// eval.json's "transfer": {items, pixels: T, strokes: T or null}, or null unless the reader, the
// MDN and both VAEs are trained (and there are items). For each item, context.samples draws z~ of
// the MDN given z_old = mu_old(image); the reader reads vae_new.decode(z~) and, with the sketch
// stage, the Sketch-RNN sample conditioned on z~ rendered like the KanjiVG rasters. With
// generate.condition "candidates" the draws are the best candidates' latents and rasters instead
// (generate/predict.h). Every random
// draw comes from one CPU generator seeded with `seed`. Fills the rows' reads, scores and (with
// keep_images) the images for the sheets.
nlohmann::json transfer_accuracy(const EvalContext& context, StageModels& models, ReaderJudge& reader,
                                 const std::vector<TransferItem>& items, uint64_t seed, bool keep_images,
                                 std::vector<ItemRow>& rows);

// eval.json's "candidates": the model's own candidate list (generate/candidates.h) as a reader:
// {items, classes, top1, top5, temperature, nll, best_temperature, best_nll}, or null unless the
// MDN and both VAEs are trained (and there are items). Each item's z_old = mu_old(image) ranks every
// KanjiVG character of the cache by log p(its vae_new latent | z_old); top1/top5 count the item's
// character among the first 1/5. nll is the mean -log probability of the right character with
// generate.candidate_temperature; best_temperature the value of a fixed grid with the lowest nll
// on this split (choose it on the validation split).
nlohmann::json candidate_accuracy(const EvalContext& context, StageModels& models,
                                  const std::vector<TransferItem>& items);

}  // namespace k2k
