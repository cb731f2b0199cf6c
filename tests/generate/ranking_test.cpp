// Tests for generate/ranking.h: stroke samples ranked by agreement with the predicted pixels.
#include "generate/ranking.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace k2k {
namespace {

TEST(Ranking, TheSampleOnThePredictedInkComesFirst) {
    torch::Tensor pixels = torch::zeros({1, 1, 16, 16});
    pixels.select(2, 8).fill_(1.0);  // a horizontal bar at row 8
    torch::Tensor renders = torch::zeros({3, 1, 16, 16});
    renders[0].select(1, 2).fill_(1.0);             // a bar far away
    renders[1].select(1, 9).fill_(1.0);             // one pixel off: still close after the blur
    renders[2].select(2, 8).fill_(1.0);             // a vertical bar crossing it
    torch::Tensor a = sample_agreement(renders, pixels);
    ASSERT_EQ(a.sizes(), torch::IntArrayRef({3}));
    EXPECT_EQ(agreement_order(a), (std::vector<int64_t>{1, 2, 0}));
    EXPECT_NEAR(sample_agreement(pixels, pixels)[0].item<float>(), 1.0f, 1e-5);  // identical: 1
    EXPECT_EQ(sample_agreement(torch::zeros({1, 1, 16, 16}), pixels)[0].item<float>(), 0.0f);  // empty: 0
    // One pixel image per sample is accepted too; wrong shapes are refused.
    EXPECT_EQ(sample_agreement(renders, pixels.expand({3, 1, 16, 16})).sizes(), torch::IntArrayRef({3}));
    EXPECT_THROW(sample_agreement(renders, torch::zeros({2, 1, 16, 16})), c10::Error);
}

TEST(Ranking, TiesKeepSampleOrder) {
    EXPECT_EQ(agreement_order(torch::tensor({0.5f, 0.5f, 0.9f, 0.5f})), (std::vector<int64_t>{2, 0, 1, 3}));
}

TEST(Ranking, BestRowsKeepTheBestOfEachItemsPool) {
    // Two items, three draws each: item 0's target a bar at row 4, item 1's a bar at column 4.
    torch::Tensor targets = torch::zeros({2, 1, 16, 16});
    targets[0].select(1, 4).fill_(1.0);
    targets[1].select(2, 4).fill_(1.0);
    torch::Tensor renders = torch::zeros({6, 1, 16, 16});
    renders[0].select(1, 12).fill_(1.0);  // item 0: far
    renders[1].select(1, 4).fill_(1.0);   // item 0: on it
    renders[2].select(1, 5).fill_(1.0);   // item 0: one off
    renders[3].select(2, 4).fill_(1.0);   // item 1: on it
    renders[4].select(1, 4).fill_(1.0);   // item 1: crossing
    renders[5].select(2, 13).fill_(1.0);  // item 1: far
    EXPECT_EQ(best_rows(renders, targets, 3, 2), (std::vector<int64_t>{1, 2, 3, 4}));
    EXPECT_EQ(best_rows(renders, targets, 3, 1), (std::vector<int64_t>{1, 3}));
    EXPECT_EQ(best_rows(renders, targets, 3, 3).size(), 6u);
    EXPECT_THROW(best_rows(renders, targets, 3, 4), c10::Error);   // keep more than drawn
    EXPECT_THROW(best_rows(renders, targets, 2, 1), c10::Error);   // 6 renders are not 2 x 2
}

}  // namespace
}  // namespace k2k
