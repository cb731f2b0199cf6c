// Tests of `k2k classify` as a library (train/classify.h, eval/classify.h, models/preact_resnet.h)
// on a tiny KMNIST-shaped fixture written here: every model trains a few steps, the scores are
// written and could fail, mixup mixes what it says.
#include "train/classify.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <torch/torch.h>

#include "data/cache.h"
#include "data/npz.h"
#include "eval/classify.h"
#include "models/preact_resnet.h"
#include "run/classifier.h"
#include "test_support.h"

namespace k2k {
namespace {

namespace fs = std::filesystem;

int64_t shift_of(std::mt19937& rng, int64_t s) { return std::uniform_int_distribution<int64_t>(-s, s)(rng); }

// n 28x28 images of 10 classes: class c is a bright 6x6 block at a place of its own, plus noise.
void write_split(const std::string& dir, const std::string& split, int n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> noise(0, 60);
    NdArray images, labels;
    images.dtype = labels.dtype = "u1";
    images.shape = {n, 28, 28};
    labels.shape = {n};
    for (int i = 0; i < n; ++i) {
        const int c = i % 10, x0 = 2 + (c % 5) * 5, y0 = c < 5 ? 4 : 16;
        for (int y = 0; y < 28; ++y)
            for (int x = 0; x < 28; ++x)
                images.bytes.push_back(uint8_t(x >= x0 && x < x0 + 6 && y >= y0 && y < y0 + 6 ? 255 - noise(rng) : noise(rng)));
        labels.bytes.push_back(uint8_t(c));
    }
    write_npz(dir + "/kmnist-" + split + "-imgs.npz", {{"arr_0", images}});
    write_npz(dir + "/kmnist-" + split + "-labels.npz", {{"arr_0", labels}});
}

Config classify_config(const std::string& root, const std::string& model, const std::string& extra = "") {
    const std::string data = root + "/kmnist";
    if (!fs::exists(data + "/kmnist-test-imgs.npz")) {
        write_split(data, "train", 120, 1);
        write_split(data, "test", 40, 2);
    }
    return parse_config("name: t\nrun_dir: " + root + "/run_" + model + "\nlog_every: 1000\nclassify:\n  data_dir: " + data +
                            "\n  model: " + model + "\n  val_size: 20\n  epochs: 2\n  batch_size: 25\n  eval_every: 4\n" + extra,
                        "t.yaml");
}

TEST(Classify, SimpleCnnTrainsAndIsScored) {
    const std::string root = test::make_temp_dir("classify_cnn");
    const Config cfg = classify_config(root, "simple_cnn", "  lr: 0.003\n");
    train_classifier(cfg, torch::kCPU, false);
    EXPECT_TRUE(fs::exists(cfg.run_dir + "/classify/done.json"));
    EXPECT_TRUE(fs::exists(cfg.run_dir + "/classify/best.pt"));
    // 100 training images, batches of 25: 4 steps per epoch, 8 in all.
    std::ifstream metrics(cfg.run_dir + "/classify/metrics.csv");
    std::string header;
    std::getline(metrics, header);
    EXPECT_NE(header.find("error"), std::string::npos);
    const nlohmann::json r = evaluate_classifier(cfg, torch::kCPU, ClassifyEvalOptions());
    EXPECT_EQ(r["items"], 40);
    EXPECT_EQ(r["classes"], 10);
    EXPECT_EQ(r["class_items"], std::vector<int64_t>(10, 4));
    double mean = 0;
    for (double a : r["class_accuracy"].get<std::vector<double>>()) mean += a / 10;
    EXPECT_NEAR(r["mean_class_accuracy"].get<double>(), mean, 1e-12);
    EXPECT_TRUE(fs::exists(cfg.run_dir + "/classify/eval_test/classify.json"));
    EXPECT_TRUE(fs::exists(cfg.run_dir + "/classify/eval_test/confusion.png"));
}

TEST(Classify, KnnNeedsNoTrainingAndReadsTheBlocks) {
    const std::string root = test::make_temp_dir("classify_knn");
    const Config cfg = classify_config(root, "knn");
    train_classifier(cfg, torch::kCPU, false);  // prints that there is nothing to train
    EXPECT_FALSE(fs::exists(cfg.run_dir + "/classify/done.json"));
    const nlohmann::json r = evaluate_classifier(cfg, torch::kCPU, ClassifyEvalOptions());
    EXPECT_EQ(r["reference"], 120);  // the test split is read against every training image
    EXPECT_DOUBLE_EQ(r["accuracy"].get<double>(), 1.0);
    ClassifyEvalOptions val;
    val.split = "val";
    const nlohmann::json v = evaluate_classifier(cfg, torch::kCPU, val);
    EXPECT_EQ(v["reference"], 100);
    EXPECT_EQ(v["items"], 20);
}

TEST(Classify, PreActResNetWithManifoldMixupTrains) {
    const std::string root = test::make_temp_dir("classify_resnet");
    const Config cfg = classify_config(root, "preact_resnet18",
                                       "  width: 4\n  mixup: manifold\n  mixup_alpha: 2.0\n  optimizer: sgd\n  lr: 0.05\n"
                                       "  weight_decay: 0.0001\n  lr_schedule: step\n  milestones: [1]\n");
    train_classifier(cfg, torch::kCPU, false);
    EXPECT_TRUE(fs::exists(cfg.run_dir + "/classify/best.pt"));
    const nlohmann::json r = evaluate_classifier(cfg, torch::kCPU, ClassifyEvalOptions());
    EXPECT_EQ(r["mixup"], "manifold");
    EXPECT_EQ(r["items"], 40);
}

TEST(Classify, ManifoldMixupNeedsTheResNet) {
    const std::string root = test::make_temp_dir("classify_bad");
    const Config cfg = classify_config(root, "simple_cnn", "  mixup: manifold\n");
    EXPECT_EQ(test::error_of([&] { train_classifier(cfg, torch::kCPU, false); }),
              "classify.mixup manifold needs model preact_resnet18 (the simple CNN mixes its input only)");
    const Config untrained = classify_config(root, "preact_resnet18");
    EXPECT_EQ(test::error_of([&] { evaluate_classifier(untrained, torch::kCPU, ClassifyEvalOptions()); }),
              untrained.run_dir + "/classify/best.pt: checkpoint not found; train the stage first (k2k classify train --config <config>)");
}

// Kuzushiji-49 on the real images that ../shared/data has (the first 100 official test images, with
// their labels): the first 70 as the training split, the last 30 as the test split, both written in
// the official file layout; k-NN and the simple CNN run on them end to end.
TEST(Classify, Kuzushiji49OnTheStagedImages) {
    K2K_REQUIRE_SHARED_DATA("k49/k49-test-imgs-first100.npz");
    const std::string src = test::shared_data_dir() + "/k49";
    const NdArray images = read_npz(src + "/k49-test-imgs-first100.npz");
    const NdArray labels = read_npz(src + "/k49-test-labels.npz");
    const std::string root = test::make_temp_dir("classify_k49"), data = root + "/k49";
    auto part = [&](const std::string& split, int64_t begin, int64_t end) {
        NdArray im = images, lab = labels;
        im.shape[0] = lab.shape[0] = end - begin;
        im.bytes.assign(images.bytes.begin() + begin * 784, images.bytes.begin() + end * 784);
        lab.bytes.assign(labels.bytes.begin() + begin, labels.bytes.begin() + end);
        write_npz(data + "/k49-" + split + "-imgs.npz", {{"arr_0", im}});
        write_npz(data + "/k49-" + split + "-labels.npz", {{"arr_0", lab}});
    };
    part("train", 0, 70);
    part("test", 70, 100);
    for (const char* model : {"knn", "simple_cnn"}) {
        const Config cfg = parse_config(std::string("run_dir: ") + root + "/run_" + model + "\nlog_every: 1000\nclassify:\n  dataset: k49\n  data_dir: " +
                                            data + "\n  model: " + model + "\n  val_size: 10\n  epochs: 1\n  batch_size: 30\n  eval_every: 2\n",
                                        "k49.yaml");
        train_classifier(cfg, torch::kCPU, false);
        const nlohmann::json r = evaluate_classifier(cfg, torch::kCPU, ClassifyEvalOptions());
        EXPECT_EQ(r["items"], 30) << model;
        EXPECT_EQ(r["classes"], 49) << model;
        EXPECT_EQ(r["class_accuracy"].size(), 49u) << model;
    }
}

// Kuzushiji-Kanji from a dataset cache: 6 classes with 1, 2, 3, 5, 8 and 13 images (the class of
// one image is left out), each class a block of its own; k-NN reads every test image right, the
// frequency buckets count the classes by their training images, the simple CNN trains pooled to 32.
TEST(Classify, KuzushijiKanjiFromTheCacheByFrequency) {
    const std::string root = test::make_temp_dir("classify_kkanji");
    Dataset ds;
    const int counts[6] = {1, 2, 3, 5, 8, 13};
    for (int c = 0; c < 6; ++c)
        for (int k = 0; k < counts[c]; ++k) {
            Image img(64, 64, uint8_t(k));
            for (int y = 8; y < 24; ++y)
                for (int x = 4 + 9 * c; x < 12 + 9 * c; ++x) img.at(x, y) = 250;
            ds.add_old(0x4E00 + uint32_t(c), "U+4E0" + std::to_string(c) + "/" + std::to_string(k) + ".png", Split::Train, img);
        }
    save_dataset(root + "/k.cache", ds);
    for (const char* model : {"knn", "simple_cnn"}) {
        const Config cfg = parse_config(std::string("run_dir: ") + root + "/run_" + model + "\nlog_every: 1000\ndata:\n  cache: " + root +
                                            "/k.cache\nclassify:\n  dataset: kkanji\n  model: " + model +
                                            "\n  input_size: 32\n  val_size: 2\n  epochs: 1\n  batch_size: 8\n  eval_every: 2\n",
                                        "kk.yaml");
        train_classifier(cfg, torch::kCPU, false);
        const nlohmann::json r = evaluate_classifier(cfg, torch::kCPU, ClassifyEvalOptions());
        // Test halves: 1 + 1 + 2 + 4 + 6 images of the 5 classes kept.
        EXPECT_EQ(r["items"], 14) << model;
        EXPECT_EQ(r["classes"], 5) << model;
        EXPECT_EQ(r["class_codepoints"][0], "U+4E01") << model;
        ASSERT_TRUE(r.contains("frequency_buckets")) << model;
        int64_t items = 0;
        for (const nlohmann::json& b : r["frequency_buckets"]) items += b["items"].get<int64_t>();
        EXPECT_EQ(items, 14) << model;
        // Classes with at most 2 training images (halves of 2 and 3 images): 1 + 1 test images.
        EXPECT_EQ(r["frequency_buckets"][0]["items"], 2) << model;
        if (std::string(model) == "knn") {
            EXPECT_DOUBLE_EQ(r["accuracy"].get<double>(), 1.0);
        }
    }
}

TEST(PreActResNet, MixingMixesAtTheLayerAsked) {
    torch::manual_seed(0);
    PreActResNet net(PreActResNetOptions().num_classes(5).width(4));
    net->eval();
    torch::NoGradGuard no_grad;
    torch::Tensor x = torch::rand({4, 1, 28, 28});
    torch::Tensor perm = torch::tensor(std::vector<int64_t>{1, 0, 3, 2});
    EXPECT_EQ(net->forward(x).sizes(), (std::vector<int64_t>{4, 5}));
    // lam = 1 is no mixing at any layer.
    EXPECT_TRUE(torch::allclose(net->forward_mixed(x, 2, 1.0, perm), net->forward(x)));
    // At the input, mixing equals feeding the mixed images.
    torch::Tensor mixed = x * 0.3 + x.index_select(0, perm) * 0.7;
    EXPECT_TRUE(torch::allclose(net->forward_mixed(x, 0, 0.3, perm), net->forward(mixed), 1e-5, 1e-6));
    // Mixing after stage 1 is not the same as mixing the input (the network is not linear).
    EXPECT_FALSE(torch::allclose(net->forward_mixed(x, 1, 0.3, perm), net->forward(mixed), 1e-4, 1e-5));
    // PreActResNet-18 proper: 11.17 M parameters with 10 classes (the manifold-mixup reference's count for 3 input channels is 11.17 M too).
    PreActResNet full(PreActResNetOptions().num_classes(10));
    int64_t count = 0;
    for (const torch::Tensor& p : full->parameters()) count += p.numel();
    EXPECT_NEAR(double(count), 11.17e6, 0.01e6);
}

TEST(PreActResNet, SmallMapsConvolveByMatmulAsTheConvolutionDoes) {
    // The CPU path of the last stage's 3x3 convolutions (4x4 maps): the same outputs and gradients
    // as the convolution itself, and taken only where it is meant to be.
    torch::manual_seed(0);
    torch::nn::Conv2d c3(torch::nn::Conv2dOptions(6, 5, 3).padding(1).bias(false));
    torch::Tensor x = torch::randn({3, 6, 4, 4}, torch::requires_grad());
    EXPECT_TRUE(conv3x3_as_matmul(x));
    EXPECT_FALSE(conv3x3_as_matmul(torch::randn({3, 6, 7, 7})));
    EXPECT_FALSE(conv3x3_as_matmul(torch::randn({3, 6, 4, 5})));

    torch::Tensor by_conv = c3->forward(x);
    torch::Tensor g = torch::randn_like(by_conv);
    auto grads = torch::autograd::grad({by_conv}, {x, c3->weight}, {g});
    torch::Tensor by_matmul = conv3x3_matmul(x, c3->weight);
    auto grads_m = torch::autograd::grad({by_matmul}, {x, c3->weight}, {g});
    ASSERT_EQ(by_matmul.sizes(), by_conv.sizes());
    EXPECT_TRUE(torch::allclose(by_matmul, by_conv, 1e-5, 1e-5));
    EXPECT_TRUE(torch::allclose(grads_m[0], grads[0], 1e-5, 1e-5));
    EXPECT_TRUE(torch::allclose(grads_m[1], grads[1], 1e-5, 1e-5));
    // Not the identity: a different weight gives a different answer.
    EXPECT_FALSE(torch::allclose(conv3x3_matmul(x, c3->weight * 2), by_conv, 1e-3, 1e-3));
}

TEST(Classify, ShiftImagesMovesEachImageByItsOwnDraw) {
    // One lit pixel per image at (5, 7) of a 12x12 image: after the shift it sits at (5+dy, 7+dx)
    // with |dy|, |dx| <= 2, the rest stays 0, and the draws (replayed from the same seed) say where.
    torch::Tensor x = torch::zeros({6, 1, 12, 12});
    x.index_put_({torch::indexing::Slice(), 0, 5, 7}, 1.0);
    std::mt19937 rng(3), replay(3);
    torch::Tensor y = shift_images(x, 2, rng);
    ASSERT_EQ(y.sizes(), x.sizes());
    std::uniform_int_distribution<int64_t> shift(-2, 2);
    bool moved = false;
    for (int64_t b = 0; b < 6; ++b) {
        const int64_t dy = shift(replay), dx = shift(replay);
        moved = moved || dy != 0 || dx != 0;
        EXPECT_EQ(y[b][0][5 + dy][7 + dx].item<float>(), 1.0f) << "image " << b;
        EXPECT_EQ(y[b].sum().item<float>(), 1.0f) << "image " << b;
    }
    EXPECT_TRUE(moved);
    // Ink shifted past the border is lost, and the uncovered border is zero.
    torch::Tensor edge = torch::ones({1, 1, 4, 4});
    std::mt19937 rng2(1);
    torch::Tensor e = shift_images(edge, 3, rng2);
    std::mt19937 replay2(1);
    const int64_t dy = shift_of(replay2, 3), dx = shift_of(replay2, 3);
    EXPECT_EQ(e.sum().item<float>(), float((4 - std::abs(dy)) * (4 - std::abs(dx))));
    // No shift asked: the batch itself.
    std::mt19937 rng3(1);
    EXPECT_TRUE(shift_images(x, 0, rng3).equal(x));
}

}  // namespace
}  // namespace k2k
