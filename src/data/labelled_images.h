// Image classification sets (Kuzushiji-MNIST, Kuzushiji-49): grey images of one size with a class
// label each, read from the official .npz files (or MNIST idx), and a seeded held-out split.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "data/npz.h"

namespace k2k {

struct LabelledImages {
    int64_t height = 0;            // pixels per column
    int64_t width = 0;             // pixels per row
    std::vector<uint8_t> pixels;   // (N,H,W) row-major, 0 = background, 255 = ink (white on black)
    std::vector<int32_t> labels;   // (N,), each in [0, num_classes)
    int32_t num_classes = 0;       // classes of the data set (also those absent from this part)

    int64_t size() const { return int64_t(labels.size()); }
    const uint8_t* image(int64_t i) const { return pixels.data() + i * height * width; }
};

// Classes of a benchmark: kmnist 10, k49 49; throws k2k::Error for another name.
int32_t benchmark_classes(const std::string& dataset);

// Pairs an image array (N,H,W) of uint8 with a label array (N,) of an integer type. Throws
// k2k::Error naming `images_name` / `labels_name` for a wrong dtype or rank, counts that differ,
// or a label outside [0, num_classes).
LabelledImages make_labelled_images(const NdArray& images, const NdArray& labels, int32_t num_classes,
                                    const std::string& images_name, const std::string& labels_name);

// One split ("train" or "test") of a benchmark ("kmnist" or "k49") from `dir`, with the official
// file names: <dataset>-<split>-imgs.npz and <dataset>-<split>-labels.npz, or for kmnist the idx
// files (train|t10k)-(images-idx3|labels-idx1)-ubyte[.gz]. Throws k2k::Error naming the folder and
// the files it looked for when neither is there (and data_tools/fetch_data.sh, which gets them).
LabelledImages load_benchmark(const std::string& dir, const std::string& dataset, const std::string& split);

// The images at `indices`, in that order.
LabelledImages subset(const LabelledImages& data, const std::vector<int64_t>& indices);

// A seeded random split of 0..count-1 into (kept, held out) with `held_out` indices held out; both
// sorted. held_out is clamped to count.
std::pair<std::vector<int64_t>, std::vector<int64_t>> holdout_split(int64_t count, int64_t held_out, uint64_t seed);

// The three parts `k2k classify` works on. For kmnist / k49: the official training images (the
// first train_limit when set) less val_size held out with the config's seed, those held out
// (validation: model selection), and the official test images (the first test_limit when set).
// For kkanji (Kuzushiji-Kanji from the config's data.cache, 64x64, imbalanced): every class with
// at least 2 images, each class's images halved at random (seeded; the odd one to training), the
// first half the test part, the second the training part, less val_size held out as above; labels
// are the classes in code-point order. Only the parts asked for are read (kkanji reads both).
struct ClassifySplits {
    LabelledImages train;
    LabelledImages val;
    LabelledImages test;
    std::vector<uint32_t> codepoints;  // kkanji: the code point of each label; empty otherwise
};
ClassifySplits load_classify_splits(const Config& config, bool need_train, bool need_test);

}  // namespace k2k
