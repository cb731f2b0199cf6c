// `k2k classify eval`: a classify run scored on the official test images (or the validation
// hold-out) as the seed paper's Table 1 reports it: the mean of per-class accuracies, beside plain
// accuracy, per-class figures and the confusion matrix.
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "config/config.h"

namespace k2k {

struct ClassifyEvalOptions {
    std::string split = "test";  // test: the official test images | val: the training hold-out (choose settings here)
    std::string out_dir;         // "" = run_dir/classify/eval_<split>: classify.json and confusion.png
};

// Scores classify.model: k-NN computed here (reference: every training image for the test split,
// the training images less the hold-out for val), a network from run_dir/classify/best.pt.
// Writes <out>/classify.json and <out>/confusion.png atomically and returns the JSON:
//   {schema "k2k-classify", dataset, model, mixup, split, items, classes, accuracy,
//    mean_class_accuracy, class_accuracy [C], class_items [C], seconds, reference (k-NN only),
//    frequency_buckets [{min_train, max_train, classes, items, accuracy}] and class_codepoints (kkanji only)}
// The output folder is checked writable before the work starts.
nlohmann::json evaluate_classifier(const Config& config, torch::Device device, const ClassifyEvalOptions& options);

}  // namespace k2k
