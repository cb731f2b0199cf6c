// Scoring of `k2k classify` (see classify.h).
#include "eval/classify.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <limits>

#include <torch/torch.h>

#include "data/knn.h"
#include "data/labelled_images.h"
#include "export/confusion.h"
#include "run/classifier.h"
#include "run/run_dir.h"
#include "util/error.h"
#include "util/fs.h"

namespace k2k {

nlohmann::json evaluate_classifier(const Config& cfg, torch::Device device, const ClassifyEvalOptions& o) {
    const ClassifyConfig& c = cfg.classify;
    if (o.split != "test" && o.split != "val") throw Error("classify eval: unknown split '" + o.split + "' (expected test or val)");
    const std::string out = o.out_dir.empty() ? stage_dir(cfg, "classify") + "/eval_" + o.split : o.out_dir;
    require_writable_folder(out);
    const auto start = std::chrono::steady_clock::now();
    const bool knn = c.model == "knn";
    const bool test = o.split == "test";
    // kkanji always reads its training half: the frequency buckets count each class's training images.
    ClassifySplits data = load_classify_splits(cfg, knn || !test || c.dataset == "kkanji", test);
    const LabelledImages& scored = test ? data.test : data.val;

    std::vector<int32_t> predicted;
    nlohmann::json report = {{"schema", "k2k-classify"}, {"dataset", c.dataset}, {"model", c.model}, {"split", o.split}};
    if (knn) {
        // The test split is read against every training image (the paper's 4-NN), val against the rest.
        LabelledImages reference = data.train;
        if (test) {
            reference.pixels.insert(reference.pixels.end(), data.val.pixels.begin(), data.val.pixels.end());
            reference.labels.insert(reference.labels.end(), data.val.labels.begin(), data.val.labels.end());
        }
        KnnOptions ko;
        ko.k = int(c.knn_k);
        ko.distance_weights = c.knn_distance_weights;
        std::printf("[classify] %lld-NN (%s votes) of %lld %s images against %lld training images\n", (long long)c.knn_k,
                    c.knn_distance_weights ? "1/distance" : "equal", (long long)scored.size(), o.split.c_str(),
                    (long long)reference.size());
        predicted = knn_classify(reference, scored, ko);
        report["k"] = c.knn_k;
        report["distance_weights"] = c.knn_distance_weights;
        report["reference"] = reference.size();
    } else {
        ClassifierNet net = load_trained_classifier(cfg, scored.num_classes, scored.height, device);
        predicted = classify_images(net, scored, device);
        report["mixup"] = c.mixup;
    }
    const ClassScores s = score_classes(scored.labels, predicted, scored.num_classes);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report["items"] = s.items;
    report["classes"] = scored.num_classes;
    report["accuracy"] = s.accuracy;
    report["mean_class_accuracy"] = s.mean_class_accuracy;
    report["class_accuracy"] = s.class_accuracy;
    report["class_items"] = s.class_items;
    if (!data.codepoints.empty()) {
        // Imbalanced classes (kkanji): accuracy by the number of training images per class.
        std::vector<int64_t> train_counts(size_t(scored.num_classes), 0);
        for (const LabelledImages* part : {&data.train, &data.val})
            for (int32_t y : part->labels) train_counts[size_t(y)]++;
        nlohmann::json buckets = nlohmann::json::array();
        for (const FrequencyBucket& b : frequency_buckets(s, train_counts, {2, 5, 10, 20, 50, 100}))
            buckets.push_back({{"min_train", b.min_train}, {"max_train", b.max_train}, {"classes", b.classes}, {"items", b.items}, {"accuracy", b.accuracy}});
        report["frequency_buckets"] = buckets;
        std::vector<std::string> cps;
        for (uint32_t cp : data.codepoints) {
            char buf[16];
            std::snprintf(buf, sizeof buf, "U+%04X", cp);
            cps.push_back(buf);
        }
        report["class_codepoints"] = cps;
    }
    report["seconds"] = seconds;
    write_file_atomic(out + "/classify.json", report.dump(2) + "\n");
    write_confusion_png(out + "/confusion.png", s);
    if (report.contains("frequency_buckets"))
        for (const nlohmann::json& b : report["frequency_buckets"])
            if (b["items"].get<int64_t>() > 0)
                std::printf("[classify]   classes with %lld..%s training images: %lld classes, %lld test images, accuracy %.2f %%\n",
                            (long long)b["min_train"].get<int64_t>(),
                            b["max_train"].get<int64_t>() == std::numeric_limits<int64_t>::max() ? "" : std::to_string(b["max_train"].get<int64_t>()).c_str(),
                            (long long)b["classes"].get<int64_t>(), (long long)b["items"].get<int64_t>(), 100 * b["accuracy"].get<double>());
    const std::string what = c.model + (c.mixup == "none" || knn ? "" : " + " + c.mixup + " mixup");
    std::printf("[classify] %s on %s %s (%lld images): mean per-class accuracy %.2f %%, accuracy %.2f %% (%.1f s); wrote %s/classify.json, confusion.png\n",
                what.c_str(), c.dataset.c_str(),
                o.split.c_str(), (long long)s.items, 100 * s.mean_class_accuracy, 100 * s.accuracy, seconds, out.c_str());
    return report;
}

}  // namespace k2k
