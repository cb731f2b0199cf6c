// Tests for train/stage_common.h: the pieces every training stage shares.
#include "train/stage_common.h"
#include "train/data_parallel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <torch/torch.h>

namespace k2k {
namespace {

TEST(CosineLr, FromPeakToZero) {
    EXPECT_DOUBLE_EQ(cosine_lr(0, 100, 2e-3), 2e-3);
    EXPECT_NEAR(cosine_lr(50, 100, 2e-3), 1e-3, 1e-12);
    EXPECT_NEAR(cosine_lr(100, 100, 2e-3), 0.0, 1e-12);
}

// Global-norm clipping rescales the whole gradient; per-element clipping clips each value (the
// kanji2kanji reference); both return the norm before clipping. SGD with lr 1 makes the step
// the (clipped) gradient itself.
TEST(ClipAndStep, NormRescalesValueClipsEachElement) {
    for (const bool per_element : {false, true}) {
        torch::Tensor w = torch::zeros({3}, torch::requires_grad());
        torch::optim::SGD opt({w}, torch::optim::SGDOptions(1.0));
        w.mutable_grad() = torch::tensor({3.0f, -4.0f, 0.5f});
        const double norm = clip_and_step(DataParallel::single(), {w}, opt, 1.0, per_element);
        EXPECT_NEAR(norm, std::sqrt(25.25), 1e-5);
        const std::vector<float> want = per_element ? std::vector<float>{-1.0f, 1.0f, -0.5f}
                                                    : std::vector<float>{float(-3 / std::sqrt(25.25)), float(4 / std::sqrt(25.25)),
                                                                         float(-0.5 / std::sqrt(25.25))};
        for (int i = 0; i < 3; ++i) EXPECT_NEAR(w[i].item<float>(), want[size_t(i)], 1e-5) << per_element << " " << i;
    }
}

}  // namespace
}  // namespace k2k
