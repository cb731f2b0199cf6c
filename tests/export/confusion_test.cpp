// Tests of export/confusion.h: the paper's mean of per-class accuracies computed by hand, frequency
// buckets, and the confusion-matrix PNG.
#include "export/confusion.h"

#include <gtest/gtest.h>

#include "data/png_io.h"
#include "test_support.h"

namespace k2k {
namespace {

TEST(Confusion, MeanOfPerClassAccuraciesByHand) {
    // Class 0: 3 items, 2 right; class 1: 1 item, right; class 2: absent (not in the mean).
    const ClassScores s = score_classes({0, 0, 0, 1}, {0, 0, 1, 1}, 3);
    EXPECT_EQ(s.items, 4);
    EXPECT_DOUBLE_EQ(s.accuracy, 0.75);
    EXPECT_DOUBLE_EQ(s.class_accuracy[0], 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(s.class_accuracy[1], 1.0);
    EXPECT_DOUBLE_EQ(s.mean_class_accuracy, (2.0 / 3.0 + 1.0) / 2.0);
    EXPECT_EQ(s.class_items, (std::vector<int64_t>{3, 1, 0}));
    EXPECT_EQ(s.confusion, (std::vector<int64_t>{2, 1, 0, 0, 1, 0, 0, 0, 0}));
}

TEST(Confusion, ErrorsNameTheProblem) {
    EXPECT_EQ(test::error_of([] { score_classes({0, 1}, {0}, 2); }), "score_classes: 1 predictions for 2 labels");
    EXPECT_EQ(test::error_of([] { score_classes({}, {}, 2); }), "score_classes: nothing to score");
    EXPECT_EQ(test::error_of([] { score_classes({0, 2}, {0, 0}, 2); }), "score_classes: label 2 / prediction 0 at 1 outside [0, 2)");
}

TEST(Confusion, FrequencyBuckets) {
    const ClassScores s = score_classes({0, 0, 1, 2, 2}, {0, 1, 1, 2, 0}, 3);
    // Training images per class: 5, 50, 500; buckets <= 10, 11..100, > 100.
    const std::vector<FrequencyBucket> b = frequency_buckets(s, {5, 50, 500}, {10, 100});
    ASSERT_EQ(b.size(), 3u);
    EXPECT_EQ(b[0].classes, 1);
    EXPECT_EQ(b[0].items, 2);
    EXPECT_DOUBLE_EQ(b[0].accuracy, 0.5);
    EXPECT_EQ(b[1].min_train, 11);
    EXPECT_DOUBLE_EQ(b[1].accuracy, 1.0);
    EXPECT_DOUBLE_EQ(b[2].accuracy, 0.5);
}

TEST(Confusion, PngHasOneCellPerPair) {
    const std::string dir = test::make_temp_dir("confusion_png");
    const ClassScores s = score_classes({0, 1, 1}, {0, 1, 0}, 2);
    write_confusion_png(dir + "/c.png", s, 3);
    const Image img = read_png_gray(dir + "/c.png");
    EXPECT_EQ(img.width, 6);
    EXPECT_EQ(img.height, 6);
    // Cell (0,1) never happened: white. Cell (0,0) is all of class 0: dark.
    EXPECT_EQ(img.pixels[size_t(0 * 6 + 4)], 255);
    EXPECT_LT(img.pixels[0], 200);
}

}  // namespace
}  // namespace k2k
