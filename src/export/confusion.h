// Classification scores as the seed paper reports them (the mean of per-class accuracies, beside
// plain accuracy), accuracy by class-frequency bucket, and the confusion matrix as a PNG.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace k2k {

struct ClassScores {
    int64_t items = 0;                        // scored predictions
    double accuracy = 0;                      // correct / items
    double mean_class_accuracy = 0;           // mean over the classes present of correct / items of that class (the paper's Table 1 figure)
    std::vector<int64_t> class_items;         // (C,) items of each true class
    std::vector<double> class_accuracy;       // (C,) accuracy of each true class (0 where absent)
    std::vector<int64_t> confusion;           // (C,C) row-major: [true][predicted] counts
};

// Scores `predicted` against `labels` (same length, each in [0, num_classes)). Throws k2k::Error
// for lengths that differ, an empty set, or a label outside the range.
ClassScores score_classes(const std::vector<int32_t>& labels, const std::vector<int32_t>& predicted, int32_t num_classes);

struct FrequencyBucket {
    int64_t min_train = 0;    // classes with at least this many training images ...
    int64_t max_train = 0;    // ... and at most this many
    int64_t classes = 0;      // classes of the bucket present in the scored set
    int64_t items = 0;        // scored items of those classes
    double accuracy = 0;      // correct / items
};

// Accuracy by class frequency (imbalanced sets such as Kuzushiji-Kanji): buckets of training
// images per class with the upper edges `edges` (ascending; a last bucket takes the rest).
std::vector<FrequencyBucket> frequency_buckets(const ClassScores& scores, const std::vector<int64_t>& train_counts,
                                               const std::vector<int64_t>& edges);

// Writes the confusion matrix as an RGB PNG (atomically): one square cell per (true, predicted)
// pair, each row normalised by its class's items, white = 0 to dark blue = 1, the diagonal in
// green shades so misreadings stand out; cells are `cell` pixels (0: chosen so the image is at
// most 1024 pixels wide, at least 1 per cell).
void write_confusion_png(const std::string& path, const ClassScores& scores, int cell = 0);

}  // namespace k2k
