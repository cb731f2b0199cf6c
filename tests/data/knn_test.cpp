// Tests of data/knn.h: exact neighbours against brute force, the voting rules (1/distance,
// equal votes, exact matches, ties), and errors.
#include "data/knn.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "test_support.h"

namespace k2k {
namespace {

// 1x1 "images" with the given pixel values and labels.
LabelledImages points(const std::vector<uint8_t>& values, const std::vector<int32_t>& labels, int32_t classes = 3) {
    LabelledImages d;
    d.height = 1;
    d.width = 1;
    d.pixels = values;
    d.labels = labels;
    d.num_classes = classes;
    return d;
}

TEST(Knn, NeighboursMatchBruteForceOnRandomImages) {
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> pixel(0, 255);
    LabelledImages ref, query;
    ref.height = query.height = 28;
    ref.width = query.width = 28;
    ref.num_classes = query.num_classes = 10;
    for (int i = 0; i < 300 * 784; ++i) ref.pixels.push_back(uint8_t(pixel(rng)));
    for (int i = 0; i < 37 * 784; ++i) query.pixels.push_back(uint8_t(pixel(rng)));
    ref.labels.assign(300, 0);
    query.labels.assign(37, 0);
    KnnOptions o;
    o.k = 4;
    o.query_block = 16;  // several blocks, the last one partial
    const std::vector<int64_t> got = nearest_neighbours(ref, query, o);
    for (int64_t q = 0; q < 37; ++q) {
        std::vector<std::pair<int64_t, int64_t>> d;
        for (int64_t r = 0; r < 300; ++r) {
            int64_t s = 0;
            for (int j = 0; j < 784; ++j) {
                const int64_t x = int64_t(query.image(q)[j]) - int64_t(ref.image(r)[j]);
                s += x * x;
            }
            d.push_back({s, r});
        }
        std::sort(d.begin(), d.end());
        for (int c = 0; c < 4; ++c) EXPECT_EQ(got[size_t(q * 4 + c)], d[size_t(c)].second) << "query " << q << " rank " << c;
    }
}

TEST(Knn, VotesByInverseDistanceOrEqually) {
    // Query 10: neighbours 9 (class 1, d 1), 12 (class 2, d 2), 13 (class 2, d 3), 14 (class 0, d 4).
    const LabelledImages ref = points({9, 12, 13, 14, 100}, {1, 2, 2, 0, 0});
    const LabelledImages query = points({10}, {0});
    KnnOptions o;
    o.k = 4;
    o.distance_weights = true;  // class 1: 1, class 2: 1/2 + 1/3 = 0.83, class 0: 0.25
    EXPECT_EQ(knn_classify(ref, query, o), (std::vector<int32_t>{1}));
    o.distance_weights = false;  // class 2 has two votes
    EXPECT_EQ(knn_classify(ref, query, o), (std::vector<int32_t>{2}));
}

TEST(Knn, TiesGoToTheNearestClassAndExactMatchesTakeTheVote) {
    KnnOptions o;
    o.k = 2;
    o.distance_weights = false;
    // Two votes of one each: the nearer (11, class 2) wins over 8 (class 1).
    EXPECT_EQ(knn_classify(points({8, 11}, {1, 2}), points({10}, {0}), o), (std::vector<int32_t>{2}));
    // An exact match outvotes any number of near ones.
    o.k = 3;
    o.distance_weights = true;
    EXPECT_EQ(knn_classify(points({10, 11, 11}, {0, 1, 1}), points({10}, {0}), o), (std::vector<int32_t>{0}));
}

TEST(Knn, ErrorsNameTheProblem) {
    KnnOptions o;
    o.k = 4;
    EXPECT_EQ(test::error_of([&] { knn_classify(points({1, 2}, {0, 0}), points({1}, {0}), o); }),
              "k-NN: k = 4 needs at least that many reference images (have 2)");
    LabelledImages wide = points({1, 2}, {0});
    wide.width = 2;
    EXPECT_EQ(test::error_of([&] { knn_classify(points({1, 2, 3, 4}, {0, 0, 0, 0}), wide, o); }),
              "k-NN: reference images are 1x1, queries 1x2");
}

}  // namespace
}  // namespace k2k
