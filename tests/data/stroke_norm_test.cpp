// sketch.normalization unit_bbox (data/stroke_norm.h): the box, the scale and the random shift.
#include "data/stroke_norm.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <random>

#include "util/error.h"

namespace k2k {
namespace {

// Points of a stroke-3 as the running sums of its rows.
std::vector<std::array<double, 2>> points_of(const Stroke3& s3) {
    std::vector<std::array<double, 2>> out;
    double x = 0, y = 0;
    for (const auto& row : s3) {
        x += row[0];
        y += row[1];
        out.push_back({x, y});
    }
    return out;
}

TEST(StrokeNorm, UnitBboxCentresAndScalesTheBox) {
    // Points (20,30) (60,30) | (40,10) (40,50): box x 20..60, y 10..50 (side 40, centre (40,30)).
    const Stroke3 s3 = {{20, 30, 0}, {40, 0, 1}, {-20, -20, 0}, {0, 40, 1}};
    const Stroke3 out = unit_bbox_stroke3(s3, 100.0f, 54.5f);
    ASSERT_EQ(out.size(), s3.size());
    const auto p = points_of(out);
    // Scaled 2.5x about (40,30), centred on (54.5,54.5): (20,30) -> (4.5,54.5), (60,30) -> (104.5,54.5).
    EXPECT_NEAR(p[0][0], 4.5, 1e-4);
    EXPECT_NEAR(p[0][1], 54.5, 1e-4);
    EXPECT_NEAR(p[1][0], 104.5, 1e-4);
    EXPECT_NEAR(p[2][1], 4.5, 1e-4);
    EXPECT_NEAR(p[3][1], 104.5, 1e-4);
    for (size_t i = 0; i < s3.size(); ++i) EXPECT_EQ(out[i][2], s3[i][2]);  // pen states kept
    // A wide box keeps its aspect: the longer side is the one scaled to `side`.
    const Stroke3 wide = {{0, 0, 0}, {10, 2, 1}};
    const auto q = points_of(unit_bbox_stroke3(wide, 1.0f, 0.0f));
    EXPECT_NEAR(q[1][0] - q[0][0], 1.0, 1e-6);
    EXPECT_NEAR(q[1][1] - q[0][1], 0.2, 1e-6);
    // One point: only moved; nothing: unchanged.
    const Stroke3 dot = unit_bbox_stroke3({{7, 9, 1}}, 100.0f, 54.5f);
    EXPECT_FLOAT_EQ(dot[0][0], 54.5f);
    EXPECT_TRUE(unit_bbox_stroke3({}, 1.0f, 0.0f).empty());
}

TEST(StrokeNorm, ModelUnitsAreKanji2KanjisUnitBoxOverItsStd) {
    const Stroke3 s3 = {{20, 30, 0}, {40, 0, 1}, {-20, -20, 0}, {0, 40, 1}};
    // Divided by the model scale, the box's side is 1 / 0.16808838, whatever the sketch's size.
    const float scale = model_stroke_scale("unit_bbox", 123.0f);
    EXPECT_FLOAT_EQ(scale, kUnitBboxStd * kUnitBboxSide);
    Stroke3 big = s3;
    for (auto& row : big) row[0] *= 3, row[1] *= 3;
    for (const Stroke3& s : {s3, big}) {
        const Stroke3 m = sketch_for_model(s, "unit_bbox");
        EXPECT_NEAR(m[1][0] / scale, 1.0 / 0.16808838, 1e-4);
    }
    // std: the sketch as it is and the data's own std.
    EXPECT_EQ(sketch_for_model(s3, "std"), s3);
    EXPECT_FLOAT_EQ(model_stroke_scale("std", 3.5f), 3.5f);
    EXPECT_THROW(sketch_for_model(s3, "box"), Error);
}

TEST(StrokeNorm, FirstPointShiftMovesOnlyTheFirstRow) {
    Stroke3 s3 = {{1, 2, 0}, {3, 4, 1}};
    std::mt19937 rng(5), replay(5);
    shift_first_point(s3, 0.5f, rng);
    std::uniform_real_distribution<float> u(-0.5f, 0.5f);
    const float dx = u(replay), dy = u(replay);
    EXPECT_FLOAT_EQ(s3[0][0], 1 + dx);
    EXPECT_FLOAT_EQ(s3[0][1], 2 + dy);
    EXPECT_TRUE(dx != 0 || dy != 0);
    EXPECT_FLOAT_EQ(s3[1][0], 3);
    // shift 0 draws nothing.
    std::mt19937 a(9), b(9);
    shift_first_point(s3, 0.0f, a);
    EXPECT_EQ(a(), b());
}

}  // namespace
}  // namespace k2k
