// Benchmark image sets: the official file layout of KMNIST / Kuzushiji-49 and the checks that
// make a wrong file fail with its name instead of training on garbage.
#include "data/labelled_images.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <numeric>
#include <random>

#include "data/cache.h"
#include "util/error.h"

namespace k2k {

int32_t benchmark_classes(const std::string& dataset) {
    if (dataset == "kmnist") return 10;
    if (dataset == "k49") return 49;
    throw Error("unknown benchmark '" + dataset + "' (expected kmnist or k49)");
}

LabelledImages make_labelled_images(const NdArray& images, const NdArray& labels, int32_t num_classes,
                                    const std::string& images_name, const std::string& labels_name) {
    auto shape = [](const NdArray& a) {
        std::string s;
        for (size_t i = 0; i < a.shape.size(); ++i) s += (i ? "x" : "") + std::to_string(a.shape[i]);
        return s.empty() ? std::string("a scalar") : s;
    };
    if (images.dtype != "u1") throw Error(images_name + ": expected uint8 images, found dtype " + images.dtype);
    if (images.shape.size() != 3 || images.shape[1] < 1 || images.shape[2] < 1)
        throw Error(images_name + ": expected images of shape N x H x W, found " + shape(images));
    if (labels.shape.size() != 1 || labels.dtype[0] == 'f')
        throw Error(labels_name + ": expected a 1-D integer label array, found " + shape(labels) + " of dtype " + labels.dtype);
    if (labels.shape[0] != images.shape[0])
        throw Error(labels_name + ": " + std::to_string(labels.shape[0]) + " labels for the " + std::to_string(images.shape[0]) +
                    " images of " + images_name);
    LabelledImages out;
    out.height = images.shape[1];
    out.width = images.shape[2];
    out.pixels = images.bytes;
    out.num_classes = num_classes;
    out.labels.resize(size_t(labels.shape[0]));
    for (int64_t i = 0; i < labels.shape[0]; ++i) {
        const int64_t y = labels.integer_at(i);
        if (y < 0 || y >= num_classes)
            throw Error(labels_name + ": label " + std::to_string(y) + " at index " + std::to_string(i) + " is outside [0, " +
                        std::to_string(num_classes) + ")");
        out.labels[size_t(i)] = int32_t(y);
    }
    return out;
}

LabelledImages load_benchmark(const std::string& dir, const std::string& dataset, const std::string& split) {
    namespace fs = std::filesystem;
    const int32_t classes = benchmark_classes(dataset);
    if (split != "train" && split != "test") throw Error("unknown split '" + split + "' (expected train or test)");
    const std::string images = dir + "/" + dataset + "-" + split + "-imgs.npz";
    const std::string labels = dir + "/" + dataset + "-" + split + "-labels.npz";
    if (fs::exists(images) || fs::exists(labels))
        return make_labelled_images(read_npz(images), read_npz(labels), classes, images, labels);
    std::string looked = images + ", " + labels;
    if (dataset == "kmnist") {
        const std::string stem = split == "train" ? "train" : "t10k";
        for (const char* ext : {".gz", ""}) {
            const std::string idx_images = dir + "/" + stem + "-images-idx3-ubyte" + ext;
            const std::string idx_labels = dir + "/" + stem + "-labels-idx1-ubyte" + ext;
            if (fs::exists(idx_images) || fs::exists(idx_labels))
                return make_labelled_images(read_idx(idx_images), read_idx(idx_labels), classes, idx_images, idx_labels);
        }
        looked += " or " + dir + "/" + stem + "-{images-idx3,labels-idx1}-ubyte[.gz]";
    }
    throw Error(dir + ": no " + dataset + " " + split + " files (looked for " + looked +
                "; bash data_tools/fetch_data.sh --only " + dataset + " gets them)");
}

LabelledImages subset(const LabelledImages& data, const std::vector<int64_t>& indices) {
    LabelledImages out;
    out.height = data.height;
    out.width = data.width;
    out.num_classes = data.num_classes;
    const int64_t pixels = data.height * data.width;
    out.pixels.reserve(indices.size() * size_t(pixels));
    for (int64_t i : indices) {
        if (i < 0 || i >= data.size()) throw Error("subset: index " + std::to_string(i) + " outside the set of " + std::to_string(data.size()));
        out.pixels.insert(out.pixels.end(), data.image(i), data.image(i) + pixels);
        out.labels.push_back(data.labels[size_t(i)]);
    }
    return out;
}

std::pair<std::vector<int64_t>, std::vector<int64_t>> holdout_split(int64_t count, int64_t held_out, uint64_t seed) {
    std::vector<int64_t> order(size_t(std::max<int64_t>(count, 0)));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(seed);
    std::shuffle(order.begin(), order.end(), rng);
    const size_t n = size_t(std::clamp<int64_t>(held_out, 0, count));
    std::vector<int64_t> out(order.begin(), order.begin() + long(n)), kept(order.begin() + long(n), order.end());
    std::sort(out.begin(), out.end());
    std::sort(kept.begin(), kept.end());
    return {kept, out};
}

namespace {

// Kuzushiji-Kanji halves (see load_classify_splits): (train, test) and the classes' code points.
void kkanji_halves(const Dataset& ds, uint64_t seed, LabelledImages& train, LabelledImages& test, std::vector<uint32_t>& codepoints) {
    std::map<uint32_t, std::vector<int64_t>> by_class;
    for (size_t i = 0; i < ds.num_old(); ++i) by_class[ds.old_codepoint(i)].push_back(int64_t(i));
    const int64_t side = int64_t(ds.meta.raster.size), pixels = side * side;
    for (LabelledImages* part : {&train, &test}) part->height = part->width = side;
    std::mt19937_64 rng(seed);
    for (auto& [cp, items] : by_class) {
        if (items.size() < 2) continue;
        const int32_t label = int32_t(codepoints.size());
        codepoints.push_back(cp);
        std::shuffle(items.begin(), items.end(), rng);
        const size_t half = items.size() / 2;
        for (size_t k = 0; k < items.size(); ++k) {
            LabelledImages& part = k < half ? test : train;
            const uint8_t* image = ds.old_image(size_t(items[k]));
            part.pixels.insert(part.pixels.end(), image, image + pixels);
            part.labels.push_back(label);
        }
    }
    train.num_classes = test.num_classes = int32_t(codepoints.size());
    if (codepoints.empty()) throw Error(ds.meta.old_source + ": no Kuzushiji-Kanji class with 2 or more images in the cache");
}

// The first n images (n <= 0: all); `spread`: n images spread evenly instead (kkanji's parts are in
// class order, so its first n would be the lowest code points only).
void limit(LabelledImages& part, int64_t n, bool spread) {
    if (n <= 0 || n >= part.size()) return;
    if (spread) {
        std::vector<int64_t> pick;
        for (int64_t k = 0; k < n; ++k) pick.push_back(k * part.size() / n);
        part = subset(part, pick);
        return;
    }
    part.pixels.resize(size_t(n * part.height * part.width));
    part.labels.resize(size_t(n));
}

}  // namespace

ClassifySplits load_classify_splits(const Config& config, bool need_train, bool need_test) {
    const ClassifyConfig& c = config.classify;
    const uint64_t seed = uint64_t(config.seed);
    ClassifySplits out;
    LabelledImages all, test;
    if (c.dataset == "kkanji") {
        const Dataset ds = load_dataset(config.data.cache);
        kkanji_halves(ds, seed, all, test, out.codepoints);
        limit(all, c.train_limit, true);
    } else {
        if (need_train) {
            all = load_benchmark(c.data_dir, c.dataset, "train");
            limit(all, c.train_limit, false);
        }
        if (need_test) test = load_benchmark(c.data_dir, c.dataset, "test");
    }
    if (need_train) {
        if (c.val_size >= all.size())
            throw Error("classify.val_size " + std::to_string(c.val_size) + " leaves no training images of the " +
                        std::to_string(all.size()) + (c.dataset == "kkanji" ? " in " + config.data.cache : " in " + c.data_dir));
        const auto [kept, held] = holdout_split(all.size(), c.val_size, seed);
        out.train = subset(all, kept);
        out.val = subset(all, held);
    }
    if (need_test) {
        out.test = std::move(test);
        limit(out.test, c.test_limit, c.dataset == "kkanji");
    }
    return out;
}

}  // namespace k2k
