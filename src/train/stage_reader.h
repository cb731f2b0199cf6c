// The evaluation stages: `reader` (a classifier over every KanjiVG base character, trained on
// augmented renders, that reads the predictions) and `baseline` (a direct Kuzushiji -> code point CNN).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"
#include "export/eval_render.h"
#include "models/reader.h"

namespace k2k {

struct Dataset;
struct TrainingData;

// Evaluation stages, trained after the pipeline's stages when enabled. They depend on no other
// stage (nor each other), so retraining a pipeline stage does not make them stale.
const std::vector<std::string>& eval_stage_names();  // reader, baseline

// Config section -> options.
ReaderOptions reader_options(const ReaderConfig& c, int64_t num_classes);
SimpleCnnOptions baseline_options(const BaselineConfig& c, int64_t num_classes);
ReaderAugmentOptions reader_augment_options(const ReaderConfig& c);

// The reader's classes: index of every base KanjiVG entry of the WHOLE cache (not the run's
// subset: a judge must know every character a prediction could look like), by ascending code point.
std::vector<size_t> reader_class_entries(const Dataset& ds);
// The baseline's classes: every Kuzushiji class the run uses (any split), ascending.
std::vector<uint32_t> baseline_classes(const TrainingData& td);

// Renders of `entries` (dataset modern indices) as a (B,1,S,S) float batch in [0,1] on `device`,
// S = ds.meta.raster.size: augment_for_reader with std::mt19937(seeds[k]) for entry k, or the clean
// held-out render when `seeds` is empty. Rendered in parallel; the result does not depend on the
// thread count.
torch::Tensor reader_batch(const Dataset& ds, const std::vector<size_t>& entries, const std::vector<uint32_t>& seeds,
                           const ReaderAugmentOptions& augment, torch::Device device);

// Cosine learning-rate decay from `lr` at step 0 to 0 at `steps`.
double cosine_lr(int64_t step, int64_t steps, double lr);

void train_reader(const Config& cfg, TrainingData& td, torch::Device device, bool resume);
void train_baseline(const Config& cfg, TrainingData& td, torch::Device device, bool resume);

// Trained classifiers read back from run_dir/<stage>/best.pt, in eval mode on `device`; the class
// list is stored in the checkpoint.
struct TrainedReader {
    Reader model{nullptr};
    std::vector<uint32_t> classes;  // code point of each logit
};
struct TrainedBaseline {
    SimpleCnn model{nullptr};
    std::vector<uint32_t> classes;  // code point of each logit
};
TrainedReader load_trained_reader(const Config& c, torch::Device device);
TrainedBaseline load_trained_baseline(const Config& c, torch::Device device);

// The reader's own accuracy on the clean held-out renders of `entries` (the reader's class list:
// entry k is class k), top-1 and top-5 as fractions.
struct ReaderAccuracy {
    double top1 = 0;     // fraction read right
    double top5 = 0;     // fraction with the class among the 5 best
    int64_t items = 0;   // renders read
};
ReaderAccuracy reader_clean_accuracy(Reader& model, const Dataset& ds, const std::vector<size_t>& entries,
                                     const ReaderAugmentOptions& augment, torch::Device device);

}  // namespace k2k
