// Tests for the training batches of src/run/batches.h: trim_sketch_batch (sketch.trim_padding).
#include "run/batches.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "torch_test_support.h"

namespace k2k {
namespace {

// (B, T+1, 5) stroke-5 rows: start token, lengths[b] points, then end rows.
torch::Tensor strokes_with_lengths(const std::vector<int64_t>& lengths, int64_t steps) {
    torch::Tensor s = torch::zeros({int64_t(lengths.size()), steps + 1, 5});
    for (size_t b = 0; b < lengths.size(); b++) {
        s[int64_t(b)][0][2] = 1.0f;
        for (int64_t r = 1; r <= steps; r++) {
            if (r <= lengths[b]) {
                s[int64_t(b)][r][0] = float(r);
                s[int64_t(b)][r][2] = 1.0f;
            } else {
                s[int64_t(b)][r][4] = 1.0f;
            }
        }
    }
    return s;
}

TEST(Batches, TrimKeepsEverySketchAndItsFirstEndRow) {
    SketchBatch batch;
    batch.strokes = strokes_with_lengths({2, 4, 1}, 9);
    batch.canvas = torch::randn({3, 9, 7});
    const SketchBatch trimmed = trim_sketch_batch(batch);
    // the longest sketch has 4 points: 5 steps keep its points and its first end row
    EXPECT_EQ(trimmed.strokes.sizes(), torch::IntArrayRef({3, 6, 5}));
    EXPECT_EQ(trimmed.canvas.sizes(), torch::IntArrayRef({3, 5, 7}));
    EXPECT_TRUE(torch::equal(trimmed.strokes, batch.strokes.narrow(1, 0, 6)));
    EXPECT_TRUE(torch::equal(trimmed.canvas, batch.canvas.narrow(1, 0, 5)));
    EXPECT_EQ(trimmed.strokes[1][5][4].item<float>(), 1.0f);  // the longest sketch's end row is a target
    // what is cut is end padding in every sketch
    EXPECT_TRUE(torch::all(batch.strokes.narrow(1, 6, 4).select(2, 4) == 1.0f).item<bool>());
}

TEST(Batches, TrimLeavesAFullBatchWholeAndNeedsNoCanvas) {
    SketchBatch full;
    full.strokes = strokes_with_lengths({9, 3}, 9);  // a sketch fills all 9 steps: no end row inside
    EXPECT_EQ(trim_sketch_batch(full).strokes.sizes(), torch::IntArrayRef({2, 10, 5}));
    EXPECT_FALSE(trim_sketch_batch(full).canvas.defined());
    SketchBatch one_short;
    one_short.strokes = strokes_with_lengths({8, 3}, 9);
    EXPECT_EQ(trim_sketch_batch(one_short).strokes.size(1), 10);  // 8 points + the end row = 9 steps
    SketchBatch bad;
    bad.strokes = torch::zeros({2, 1, 5});
    EXPECT_EQ(test::check_message([&] { trim_sketch_batch(bad); }),
              "trim_sketch_batch: strokes must be (B, T+1, 5), got [2, 1, 5]");
}

}  // namespace
}  // namespace k2k
