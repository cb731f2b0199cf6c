// Scores and the confusion-matrix picture of `k2k classify eval`.
#include "export/confusion.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "data/png_io.h"
#include "util/error.h"

namespace k2k {

ClassScores score_classes(const std::vector<int32_t>& labels, const std::vector<int32_t>& predicted, int32_t num_classes) {
    if (labels.size() != predicted.size())
        throw Error("score_classes: " + std::to_string(predicted.size()) + " predictions for " + std::to_string(labels.size()) + " labels");
    if (labels.empty()) throw Error("score_classes: nothing to score");
    if (num_classes < 1) throw Error("score_classes: num_classes must be at least 1");
    const size_t c = size_t(num_classes);
    ClassScores s;
    s.items = int64_t(labels.size());
    s.class_items.assign(c, 0);
    s.class_accuracy.assign(c, 0.0);
    s.confusion.assign(c * c, 0);
    int64_t correct = 0;
    for (size_t i = 0; i < labels.size(); ++i) {
        const int32_t y = labels[i], p = predicted[i];
        if (y < 0 || y >= num_classes || p < 0 || p >= num_classes)
            throw Error("score_classes: label " + std::to_string(y) + " / prediction " + std::to_string(p) + " at " + std::to_string(i) +
                        " outside [0, " + std::to_string(num_classes) + ")");
        s.class_items[size_t(y)]++;
        s.confusion[size_t(y) * c + size_t(p)]++;
        correct += y == p;
    }
    s.accuracy = double(correct) / double(s.items);
    int64_t present = 0;
    double sum = 0;
    for (size_t y = 0; y < c; ++y) {
        if (s.class_items[y] == 0) continue;
        s.class_accuracy[y] = double(s.confusion[y * c + y]) / double(s.class_items[y]);
        sum += s.class_accuracy[y];
        present++;
    }
    s.mean_class_accuracy = sum / double(present);
    return s;
}

std::vector<FrequencyBucket> frequency_buckets(const ClassScores& scores, const std::vector<int64_t>& train_counts,
                                               const std::vector<int64_t>& edges) {
    const size_t c = scores.class_items.size();
    if (train_counts.size() != c)
        throw Error("frequency_buckets: " + std::to_string(train_counts.size()) + " training counts for " + std::to_string(c) + " classes");
    std::vector<FrequencyBucket> buckets;
    int64_t low = 0;
    for (size_t b = 0; b <= edges.size(); ++b) {
        FrequencyBucket bucket;
        bucket.min_train = low;
        bucket.max_train = b < edges.size() ? edges[b] : std::numeric_limits<int64_t>::max();
        int64_t correct = 0;
        for (size_t y = 0; y < c; ++y) {
            if (train_counts[y] < bucket.min_train || train_counts[y] > bucket.max_train || scores.class_items[y] == 0) continue;
            bucket.classes++;
            bucket.items += scores.class_items[y];
            correct += scores.confusion[y * c + y];
        }
        bucket.accuracy = bucket.items ? double(correct) / double(bucket.items) : 0.0;
        buckets.push_back(bucket);
        if (b < edges.size()) low = edges[b] + 1;
    }
    return buckets;
}

void write_confusion_png(const std::string& path, const ClassScores& scores, int cell) {
    const int c = int(scores.class_items.size());
    if (c < 1) throw Error(path + ": no classes to draw");
    if (cell <= 0) cell = std::max(1, 1024 / c);
    const int side = c * cell;
    std::vector<uint8_t> rgb(size_t(side) * size_t(side) * 3, 255);
    for (int y = 0; y < c; ++y) {
        const int64_t items = scores.class_items[size_t(y)];
        for (int p = 0; p < c; ++p) {
            const double f = items ? double(scores.confusion[size_t(y) * size_t(c) + size_t(p)]) / double(items) : 0.0;
            // Off the diagonal a square root makes rare confusions visible.
            const double v = y == p ? f : std::sqrt(f);
            uint8_t r, g, b;
            if (y == p) {
                r = uint8_t(255 - 225 * v), g = uint8_t(255 - 95 * v), b = uint8_t(255 - 225 * v);
            } else {
                r = uint8_t(255 - 235 * v), g = uint8_t(255 - 200 * v), b = uint8_t(255 - 75 * v);
            }
            for (int dy = 0; dy < cell; ++dy)
                for (int dx = 0; dx < cell; ++dx) {
                    const size_t at = (size_t(y * cell + dy) * size_t(side) + size_t(p * cell + dx)) * 3;
                    rgb[at] = r, rgb[at + 1] = g, rgb[at + 2] = b;
                }
        }
    }
    write_png_rgb(path, side, side, rgb);
}

}  // namespace k2k
