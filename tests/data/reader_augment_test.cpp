// Tests for data/reader_augment.h: the reader's training renders and its clean held-out renders.
#include "data/reader_augment.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "data/raster.h"
#include "test_support.h"
#include "util/error.h"

namespace k2k {
namespace {

// ---- reader renders ---------------------------------------------------------------------------

Strokes test_strokes() {
    // A long horizontal, a long vertical and a short tick (droppable).
    return {{{20, 50}, {50, 52}, {90, 50}}, {{55, 15}, {54, 60}, {55, 95}}, {{30, 25}, {38, 33}}};
}

TEST(AugmentForReader, DeterministicInTheSeedAndChangesThePixels) {
    ReaderAugmentOptions o;
    RasterOptions raster;
    std::mt19937 a(7), b(7), c(8);
    Image ia = augment_for_reader(test_strokes(), o, raster, a);
    Image ib = augment_for_reader(test_strokes(), o, raster, b);
    Image ic = augment_for_reader(test_strokes(), o, raster, c);
    Image clean = render_reader_clean(test_strokes(), o, raster);
    ASSERT_EQ(ia.width, 64);
    ASSERT_EQ(ia.height, 64);
    EXPECT_EQ(ia.pixels, ib.pixels);
    EXPECT_EQ(a(), b());  // the same number of draws
    EXPECT_NE(ia.pixels, ic.pixels);
    EXPECT_NE(ia.pixels, clean.pixels);
    auto ink = [](const Image& im) {
        long s = 0;
        for (uint8_t v : im.pixels) s += v;
        return s;
    };
    EXPECT_GT(ink(ia), 0);
    EXPECT_GT(ink(clean), 0);
    // The clean render is the plain rasteriser at the held-out width.
    RasterOptions held = raster;
    held.line_width = o.heldout_line_width;
    EXPECT_EQ(clean.pixels, render_strokes(test_strokes(), held).pixels);
}

TEST(AugmentForReader, EachDistortionCanBeSwitchedOff) {
    // With every distortion at zero (and the held-out band moved away), the render is the plain
    // rasteriser at the only width left: the augmentation adds nothing hidden.
    ReaderAugmentOptions o;
    o.affine = 0;
    o.translate = 0;
    o.rdp_max = 0;
    o.wobble = 0;
    o.drop_stroke = 0;
    o.blur_max = 0;
    o.ink_min = 1;
    o.line_width_min = o.line_width_max = 2.5f;
    o.heldout_line_width = 1.0f;
    RasterOptions raster;
    std::mt19937 rng(3);
    raster.line_width = 2.5f;
    EXPECT_EQ(augment_for_reader(test_strokes(), o, raster, rng).pixels, render_strokes(test_strokes(), raster).pixels);
    // Dropping is on: the short tick (and only it) may go.
    o.drop_stroke = 1;
    std::mt19937 rng2(3);
    Strokes without_tick = {test_strokes()[0], test_strokes()[1]};
    EXPECT_EQ(augment_for_reader(test_strokes(), o, raster, rng2).pixels, render_strokes(without_tick, raster).pixels);
}

TEST(ReaderLineWidth, NeverDrawsTheHeldOutWidth) {
    ReaderAugmentOptions o;  // [1.2, 3.4], held out 2.0 +- 0.15
    float lo = 1e9f, hi = -1e9f;
    for (int i = 0; i < 10000; ++i) {
        float w = reader_line_width(float(i) / 10000.0f, o);
        EXPECT_FALSE(w > o.heldout_line_width - kReaderHeldoutBand && w < o.heldout_line_width + kReaderHeldoutBand) << w;
        lo = std::min(lo, w);
        hi = std::max(hi, w);
    }
    EXPECT_FLOAT_EQ(lo, 1.2f);
    EXPECT_NEAR(hi, 3.4f, 1e-3);
    o.heldout_line_width = 5.0f;  // outside the range: nothing is cut
    EXPECT_NEAR(reader_line_width(0.5f, o), 2.3f, 1e-6);
    o.line_width_min = 1.9f;
    o.line_width_max = 2.1f;
    o.heldout_line_width = 2.0f;
    EXPECT_EQ(test::error_of([&] { reader_line_width(0.5f, o); }),
              "reader_line_width: the held-out band around heldout_line_width covers the whole line width range");
}

TEST(GaussianBlur, KeepsInkAndSpreadsIt) {
    Image dot(9, 9);
    dot.at(4, 4) = 255;
    EXPECT_EQ(gaussian_blur(dot, 0).pixels, dot.pixels);
    Image b = gaussian_blur(dot, 1.0f);
    long sum = 0;
    for (uint8_t v : b.pixels) sum += v;
    EXPECT_NEAR(double(sum), 255.0, 12.0);  // mass kept up to rounding
    EXPECT_LT(b.at(4, 4), 255);
    EXPECT_GT(b.at(5, 4), 0);
    EXPECT_EQ(b.at(5, 4), b.at(4, 5));  // isotropic
}

}  // namespace
}  // namespace k2k
