// Tests of data/labelled_images.h: pairing image and label arrays, the official file layout,
// the seeded hold-out, and the real Kuzushiji-MNIST files.
#include "data/labelled_images.h"

#include <gtest/gtest.h>

#include <set>

#include "test_support.h"

namespace k2k {
namespace {

NdArray array(const std::string& dtype, std::vector<int64_t> shape, std::vector<uint8_t> bytes) {
    NdArray a;
    a.dtype = dtype;
    a.shape = shape;
    a.bytes = bytes;
    return a;
}

TEST(LabelledImages, PairsImagesWithLabelsAndChecksThem) {
    const NdArray images = array("u1", {3, 1, 2}, {1, 2, 3, 4, 5, 6});
    const LabelledImages d = make_labelled_images(images, array("u1", {3}, {2, 0, 1}), 3, "i.npz", "l.npz");
    EXPECT_EQ(d.size(), 3);
    EXPECT_EQ(d.height, 1);
    EXPECT_EQ(d.width, 2);
    EXPECT_EQ(d.image(2)[1], 6);
    EXPECT_EQ(d.labels, (std::vector<int32_t>{2, 0, 1}));
    EXPECT_EQ(test::error_of([&] { make_labelled_images(images, array("u1", {2}, {0, 1}), 3, "i.npz", "l.npz"); }),
              "l.npz: 2 labels for the 3 images of i.npz");
    EXPECT_EQ(test::error_of([&] { make_labelled_images(images, array("u1", {3}, {0, 1, 3}), 3, "i.npz", "l.npz"); }),
              "l.npz: label 3 at index 2 is outside [0, 3)");
    EXPECT_EQ(test::error_of([&] { make_labelled_images(array("f4", {1, 1, 1}, {0, 0, 0, 0}), array("u1", {1}, {0}), 3, "i.npz", "l.npz"); }),
              "i.npz: expected uint8 images, found dtype f4");
    EXPECT_EQ(test::error_of([&] { make_labelled_images(array("u1", {6}, {1, 2, 3, 4, 5, 6}), array("u1", {6}, {0, 0, 0, 0, 0, 0}), 3, "i.npz", "l.npz"); }),
              "i.npz: expected images of shape N x H x W, found 6");
}

TEST(LabelledImages, MissingFilesNameWhatWasLookedFor) {
    const std::string dir = test::make_temp_dir("labelled_missing");
    const std::string e = test::error_of([&] { load_benchmark(dir, "kmnist", "test"); });
    EXPECT_EQ(e, dir + ": no kmnist test files (looked for " + dir + "/kmnist-test-imgs.npz, " + dir + "/kmnist-test-labels.npz or " +
                     dir + "/t10k-{images-idx3,labels-idx1}-ubyte[.gz]; bash data_tools/fetch_data.sh --only kmnist gets them)");
    EXPECT_EQ(test::error_of([&] { load_benchmark(dir, "mnist", "test"); }), "unknown benchmark 'mnist' (expected kmnist or k49)");
}

TEST(LabelledImages, ReadsTheOfficialNpzLayout) {
    const std::string dir = test::make_temp_dir("labelled_layout");
    write_npz(dir + "/k49-train-imgs.npz", {{"arr_0", array("u1", {2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7})}});
    write_npz(dir + "/k49-train-labels.npz", {{"arr_0", array("u1", {2}, {48, 7})}});
    const LabelledImages d = load_benchmark(dir, "k49", "train");
    EXPECT_EQ(d.num_classes, 49);
    EXPECT_EQ(d.labels, (std::vector<int32_t>{48, 7}));
    const LabelledImages one = subset(d, {1});
    EXPECT_EQ(one.labels, (std::vector<int32_t>{7}));
    EXPECT_EQ(std::vector<uint8_t>(one.image(0), one.image(0) + 4), (std::vector<uint8_t>{4, 5, 6, 7}));
}

TEST(LabelledImages, HoldoutIsSeededDisjointAndComplete) {
    const auto [kept, held] = holdout_split(100, 10, 5);
    EXPECT_EQ(kept.size(), 90u);
    EXPECT_EQ(held.size(), 10u);
    std::set<int64_t> all(kept.begin(), kept.end());
    all.insert(held.begin(), held.end());
    EXPECT_EQ(all.size(), 100u);
    EXPECT_EQ(holdout_split(100, 10, 5).second, held);
    EXPECT_NE(holdout_split(100, 10, 6).second, held);
    EXPECT_EQ(holdout_split(3, 10, 1).second.size(), 3u);
}

TEST(LabelledImages, RealKuzushijiMnistSplits) {
    K2K_REQUIRE_SHARED_DATA("kmnist/kmnist-train-imgs.npz");
    Config c;
    c.classify.data_dir = test::shared_data_dir() + "/kmnist";
    c.classify.val_size = 5000;
    const ClassifySplits s = load_classify_splits(c, true, true);
    EXPECT_EQ(s.train.size(), 55000);
    EXPECT_EQ(s.val.size(), 5000);
    EXPECT_EQ(s.test.size(), 10000);
    EXPECT_EQ(s.test.height, 28);
    EXPECT_EQ(s.test.num_classes, 10);
}

}  // namespace
}  // namespace k2k
