// Tests for train/stage_common.h: the pieces every training stage shares.
#include "train/stage_common.h"

#include <gtest/gtest.h>

namespace k2k {
namespace {

TEST(CosineLr, FromPeakToZero) {
    EXPECT_DOUBLE_EQ(cosine_lr(0, 100, 2e-3), 2e-3);
    EXPECT_NEAR(cosine_lr(50, 100, 2e-3), 1e-3, 1e-12);
    EXPECT_NEAR(cosine_lr(100, 100, 2e-3), 0.0, 1e-12);
}

}  // namespace
}  // namespace k2k
