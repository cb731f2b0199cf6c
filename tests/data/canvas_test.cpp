// Tests for data/canvas.h: the pen-centred view of the ink still to draw.
#include "data/canvas.h"

#include <gtest/gtest.h>

#include <vector>

#include "data/raster.h"
#include "data/strokes.h"
#include "util/error.h"

namespace k2k {
namespace {

std::vector<float> ink_of(const Image& image) {
    std::vector<float> ink(image.pixels.size());
    for (size_t i = 0; i < ink.size(); ++i) ink[i] = float(image.pixels[i]) / 255.0f;
    return ink;
}

std::vector<float> features_of(const CanvasTracker& t) {
    std::vector<float> f(kCanvasFeatures);
    t.features(f.data());
    return f;
}

// Offsets of the three windows in the feature vector (see canvas.h).
constexpr int kCoarse = 3, kMid = 3 + 15 * 15, kFine = 3 + 15 * 15 + 9 * 9;

TEST(Canvas, DrawingTheStrokesErasesTheirInk) {
    const RasterOptions raster;  // 64 px, line width 2, margin 4, canvas 109
    const Strokes strokes = {{{20, 20}, {90, 20}}, {{55, 10}, {55, 100}}, {{25, 60}, {85, 95}}};
    const std::vector<float> ink = ink_of(render_strokes(strokes, raster));
    CanvasTracker t(ink.data(), raster);
    EXPECT_FLOAT_EQ(features_of(t)[2], 1.0f);  // all ink left
    const Stroke3 s3 = strokes_to_stroke3(strokes);
    for (size_t r = 0; r + 1 < s3.size(); ++r) t.feed(s3[r][0], s3[r][1], s3[r][2] > 0.5f);
    EXPECT_GT(features_of(t)[2], 0.1f);  // the last stroke is not drawn yet
    t.feed(s3.back()[0], s3.back()[1], true);
    EXPECT_LT(features_of(t)[2], 0.03f);  // everything drawn: (almost) no ink left
}

TEST(Canvas, PenUpMovesEraseNothing) {
    const RasterOptions raster;
    const Strokes strokes = {{{10, 54.5f}, {100, 54.5f}}};
    const std::vector<float> ink = ink_of(render_strokes(strokes, raster));
    CanvasTracker t(ink.data(), raster);
    t.feed(5, 54.5f, true);   // to the left edge, pen up (a one-point stroke: a dot at x = 5)
    t.feed(100, 0, true);     // across the whole line with the pen up
    const float left = features_of(t)[2];
    EXPECT_GT(left, 0.9f);
    t.feed(-95, 0, false);    // back: also a pen-up move (the previous row lifted the pen)
    EXPECT_FLOAT_EQ(features_of(t)[2], left);
    t.feed(95, 0, true);      // this one is drawn: the pen was down after the last row
    EXPECT_LT(features_of(t)[2], 0.05f);
}

TEST(Canvas, PositionAndWindowsArePenCentred) {
    const RasterOptions raster;
    std::vector<float> ink(64 * 64, 0.0f);
    // A 2x2 blob of ink at pixels (32..33, 32..33): the canvas centre (54.5 units -> 32 px).
    for (int y = 32; y < 34; ++y)
        for (int x = 32; x < 34; ++x) ink[size_t(y) * 64 + size_t(x)] = 1.0f;
    CanvasTracker t(ink.data(), raster);
    std::vector<float> f = features_of(t);
    EXPECT_NEAR(f[0], 4.0f / 64.0f, 1e-6);  // the pen starts at the origin: the margin
    EXPECT_NEAR(f[1], 4.0f / 64.0f, 1e-6);
    EXPECT_FLOAT_EQ(f[kFine + 3 * 7 + 3], 0.0f);  // nothing under the pen
    // To pixel (33, 33) with the pen up, then down (pen_lifted 0: nothing drawn yet).
    t.feed(54.5f + 1.0f / (56.0f / 109.0f), 54.5f + 1.0f / (56.0f / 109.0f), false);
    f = features_of(t);
    EXPECT_NEAR(f[0], 33.0f / 64.0f, 1e-5);
    EXPECT_NEAR(f[1], 33.0f / 64.0f, 1e-5);
    // The fine window's centre cell (2 px) is sampled at the pen: pooled cell (16, 16) holds the blob.
    EXPECT_NEAR(f[kFine + 3 * 7 + 3], 1.0f, 1e-5);
    EXPECT_FLOAT_EQ(f[kFine + 0], 0.0f);  // 6 px up-left: no ink
    EXPECT_GT(f[kMid + 4 * 9 + 4], 0.1f);   // 4 px cells: 0.75^2 of the cell holding the blob (1/4 ink)
    EXPECT_GT(f[kCoarse + 7 * 15 + 7], 0.02f);  // 8 px cells: 0.625^2 of 1/16
    EXPECT_FLOAT_EQ(f[kCoarse + 0], 0.0f);  // 56 px away: outside the canvas
}

TEST(Canvas, SequenceRowsAreTheTrackerBeforeEachRow) {
    const RasterOptions raster;
    const Strokes strokes = {{{20, 20}, {90, 20}}, {{55, 10}, {55, 100}}};
    const std::vector<float> ink = ink_of(render_strokes(strokes, raster));
    const Stroke3 s3 = strokes_to_stroke3(strokes);
    const int rows = int(s3.size()) + 2;  // padding rows repeat the final state
    std::vector<float> seq(size_t(rows) * kCanvasFeatures);
    canvas_sequence(s3, ink.data(), raster, rows, seq.data());
    CanvasTracker t(ink.data(), raster);
    for (int r = 0; r < rows; ++r) {
        const std::vector<float> want = features_of(t);
        for (int k = 0; k < kCanvasFeatures; ++k) ASSERT_FLOAT_EQ(seq[size_t(r) * kCanvasFeatures + size_t(k)], want[size_t(k)]) << r << " " << k;
        if (size_t(r) < s3.size()) t.feed(s3[size_t(r)][0], s3[size_t(r)][1], s3[size_t(r)][2] > 0.5f);
    }
}

TEST(Canvas, RefusesBboxFittedRasters) {
    RasterOptions raster;
    raster.fit_bbox = true;
    std::vector<float> ink(64 * 64, 0.0f);
    EXPECT_THROW(CanvasTracker(ink.data(), raster), Error);
}

}  // namespace
}  // namespace k2k
