// Tests for data/raster.h: stroke rasterising (polarity, width, margin, bbox fit), resizing,
// the resize-and-place augmentation and the numbered colour preview.
#include "data/raster.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../test_support.h"  // tests/ is not on the include path of the data tests
#include "data/kanjivg.h"
#include "util/error.h"

namespace k2k {
namespace {

template <typename F>
std::string error_text(F fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

long ink_sum(const Image& img) {
    long s = 0;
    for (uint8_t v : img.pixels) s += v;
    return s;
}

// Bounding box of pixels > 0 as {x0, y0, x1, y1} (inclusive); x0 = -1 when there is no ink.
std::array<int, 4> ink_box(const Image& img) {
    std::array<int, 4> b = {-1, -1, -1, -1};
    for (int y = 0; y < img.height; y++)
        for (int x = 0; x < img.width; x++) {
            if (img.at(x, y) == 0) continue;
            if (b[0] < 0) {
                b = {x, y, x, y};
                continue;
            }
            b[0] = std::min(b[0], x);
            b[1] = std::min(b[1], y);
            b[2] = std::max(b[2], x);
            b[3] = std::max(b[3], y);
        }
    return b;
}

// Horizontal line across the whole 109-unit canvas at its middle: with the defaults
// (size 64, margin 4) y = 4 + 54.5 * 56/109 = 32 and x runs 4..60, width 2 -> rows 31 and 32.
Strokes middle_line() { return {{{0.0f, 54.5f}, {109.0f, 54.5f}}}; }

// The behaviour tests run against both renderers: the fast one and the cairo reference.
struct Renderer {
    Image (*fn)(const Strokes&, const RasterOptions&);
    const char* name;
};

class Render : public ::testing::TestWithParam<Renderer> {
protected:
    Image render(const Strokes& s, const RasterOptions& o) { return GetParam().fn(s, o); }
    std::string name() const { return GetParam().name; }
};

TEST_P(Render, HorizontalLineWhiteOnBlack) {
    Image img = render(middle_line(), RasterOptions());
    ASSERT_EQ(img.width, 64);
    ASSERT_EQ(img.height, 64);
    for (int x = 5; x <= 58; x++) {
        EXPECT_GT(img.at(x, 31), 128) << "x " << x;
        EXPECT_GT(img.at(x, 32), 128) << "x " << x;
    }
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++) {
            if (y < 29 || y > 34 || x < 2 || x > 61) {
                ASSERT_EQ(img.at(x, y), 0) << "x " << x << " y " << y;
            }
        }
    // Background dominates: ink is the minority of pixels.
    EXPECT_LT(ink_sum(img), 64L * 64L * 255L / 10L);
}

TEST_P(Render, LineWidthChangesInk) {
    RasterOptions thin;
    RasterOptions thick;
    thick.line_width = 4.0f;
    long a = ink_sum(render(middle_line(), thin));
    long b = ink_sum(render(middle_line(), thick));
    // Ink area ~ length * width (+ caps): doubling the width roughly doubles it.
    EXPECT_GT(b, a * 17 / 10);
    EXPECT_LT(b, a * 23 / 10);
}

TEST_P(Render, MarginRespected) {
    // A square frame around the whole canvas: centre lines at margin and size - margin.
    Strokes frame = {{{0, 0}, {109, 0}, {109, 109}, {0, 109}, {0, 0}}};
    RasterOptions opt;
    opt.margin = 10.0f;
    Image img = render(frame, opt);
    std::array<int, 4> box = ink_box(img);
    // Centre lines at 10 and 54, half width 1 -> ink in pixels 9..54.
    EXPECT_EQ(box[0], 9);
    EXPECT_EQ(box[1], 9);
    EXPECT_EQ(box[2], 54);
    EXPECT_EQ(box[3], 54);
    EXPECT_GT(img.at(32, 9), 128);
    EXPECT_EQ(img.at(32, 32), 0);
}

TEST_P(Render, FitBBoxCentresAndFills) {
    // A short line in the canvas's top-left corner: tiny without fit, spanning 4..60 with it.
    Strokes s = {{{10, 10}, {20, 10}}};
    RasterOptions opt;
    std::array<int, 4> plain = ink_box(render(s, opt));
    EXPECT_LE(plain[2], 15);  // x = 4 + 20 * 56/109 = 14.3, plus half the width
    opt.fit_bbox = true;
    Image img = render(s, opt);
    std::array<int, 4> fit = ink_box(img);
    EXPECT_EQ(fit[0], 3);
    EXPECT_EQ(fit[2], 60);
    EXPECT_EQ(fit[1], 31);
    EXPECT_EQ(fit[3], 32);
    // A tall drawing is centred horizontally: its longer side (y) spans the square.
    Strokes tall = {{{50, 0}, {50, 20}}, {{55, 0}, {55, 20}}};
    std::array<int, 4> t = ink_box(render(tall, opt));
    EXPECT_EQ(t[1], 3);
    EXPECT_EQ(t[3], 60);
    EXPECT_EQ(t[0] + t[2], 63);  // symmetric about the centre column
}

TEST_P(Render, AntialiasSwitchAndDots) {
    Strokes diag = {{{10, 10}, {90, 70}}};
    RasterOptions opt;
    Image aa = render(diag, opt);
    opt.antialias = false;
    Image hard = render(diag, opt);
    bool aa_grey = false;
    for (uint8_t v : aa.pixels) aa_grey = aa_grey || (v > 0 && v < 255);
    EXPECT_TRUE(aa_grey);
    for (uint8_t v : hard.pixels) ASSERT_TRUE(v == 0 || v == 255);
    EXPECT_GT(ink_sum(hard), 0);
    // A 1-point polyline is a round dot; an empty drawing is all black.
    opt.antialias = true;
    opt.line_width = 4.0f;
    Image dot = render({{{54.5f, 54.5f}}}, opt);
    EXPECT_GT(dot.at(31, 31), 128);
    EXPECT_EQ(dot.at(20, 20), 0);
    EXPECT_EQ(ink_sum(render({}, opt)), 0);
}

TEST_P(Render, ErrorsAndSizes) {
    RasterOptions opt;
    opt.size = 0;
    EXPECT_EQ(error_text([&] { render(middle_line(), opt); }), name() + ": size must be >= 1 (got 0)");
    opt.size = 64;
    opt.margin = 32.0f;
    EXPECT_EQ(error_text([&] { render(middle_line(), opt); }),
              name() + ": margin 32 leaves no room in a 64-pixel image");
    opt.margin = 4.0f;
    opt.line_width = 0.0f;
    EXPECT_EQ(error_text([&] { render(middle_line(), opt); }), name() + ": line_width must be > 0 (got 0)");
    // Size changes between calls reuse-or-replace the per-thread surface correctly.
    opt.line_width = 2.0f;
    opt.size = 30;  // stride of an A8 surface is padded to 32 bytes: rows must still line up
    Image a = render(middle_line(), opt);
    ASSERT_EQ(a.pixels.size(), 900u);
    opt.size = 64;
    Image b = render(middle_line(), opt);
    EXPECT_EQ(b.pixels, render(middle_line(), RasterOptions()).pixels);
    // In the 30-px image the line sits at y = 4 + 54.5 * 22/109 = 15: rows 14 and 15.
    EXPECT_GT(a.at(15, 14), 128);
    EXPECT_EQ(a.at(15, 2), 0);
}

// A kanji-like drawing: 15 strokes of 6 points.
Strokes busy_drawing() {
    Strokes s;
    for (int k = 0; k < 15; k++) {
        Polyline line;
        for (int i = 0; i < 6; i++) line.push_back({float(5 + 6 * k + 3 * i), float(10 + 15 * i + (k % 3))});
        s.push_back(line);
    }
    return s;
}

TEST_P(Render, ThreadsGiveTheSameImages) {
    Strokes s = busy_drawing();
    RasterOptions opt;
    Image serial = render(s, opt);
    Image other[2];
    std::thread t0([&] {
        for (int i = 0; i < 200; i++) other[0] = render(s, opt);
    });
    std::thread t1([&] {
        RasterOptions big;
        big.size = 96;
        for (int i = 0; i < 200; i++) other[1] = render(s, big);
        other[1] = render(s, opt);
    });
    t0.join();
    t1.join();
    EXPECT_EQ(other[0].pixels, serial.pixels);
    EXPECT_EQ(other[1].pixels, serial.pixels);
}

INSTANTIATE_TEST_SUITE_P(Both, Render,
                         ::testing::Values(Renderer{&render_strokes, "render_strokes"},
                                           Renderer{&render_strokes_cairo, "render_strokes_cairo"}),
                         [](const ::testing::TestParamInfo<Renderer>& info) { return std::string(info.param.name); });

TEST(RenderFast, FarOffAndNanPointsAreHarmless) {
    // A user's SVG may hold anything: NaN points ink nothing, far-off ones must not crash.
    Strokes s = middle_line();
    s.push_back({{NAN, 10.0f}, {20.0f, NAN}});
    Image img = render_strokes(s, RasterOptions());
    EXPECT_EQ(img.pixels, render_strokes(middle_line(), RasterOptions()).pixels);
    s.push_back({{1e30f, 5.0f}, {-1e30f, 5.0f}, {3e9f, -7e9f}});
    Image far = render_strokes(s, RasterOptions());
    EXPECT_GT(far.at(32, 32), 128);
}

TEST(RenderAgreement, FastMatchesCairo) {
    // Strokes of a kanji-like drawing plus diagonals and a dot, at two widths.
    Strokes s = busy_drawing();
    s.push_back({{5, 100}, {60, 70}, {104, 104}});
    s.push_back({{80, 20}});
    for (float width : {1.0f, 2.0f, 3.5f}) {
        RasterOptions opt;
        opt.line_width = width;
        Image fast = render_strokes(s, opt);
        Image ref = render_strokes_cairo(s, opt);
        double total = 0.0;
        long ink = 0;
        int worst = 0;
        for (size_t i = 0; i < fast.pixels.size(); i++) {
            int d = std::abs(int(fast.pixels[i]) - int(ref.pixels[i]));
            total += d;
            worst = std::max(worst, d);
            ink += ref.pixels[i];
        }
        double mean = total / double(fast.pixels.size());
        std::printf("width %.1f: mean |fast - cairo| %.2f, max %d, ink ratio %.3f\n", width, mean, worst,
                    double(ink_sum(fast)) / double(ink));
        EXPECT_LT(mean, 2.0) << "width " << width;
        EXPECT_LT(worst, 80) << "width " << width;
        EXPECT_NEAR(double(ink_sum(fast)) / double(ink), 1.0, 0.05) << "width " << width;
    }
}

TEST(RenderAgreement, FastMatchesCairoOnKanjiVg) {
    K2K_REQUIRE_SHARED_DATA("kanjivg/kanji");
    std::vector<std::string> files = list_kanjivg_files(k2k::test::shared_data_dir() + "/kanjivg/kanji");
    ASSERT_GT(files.size(), 1000u);
    RasterOptions opt;
    double total = 0.0;
    long pixels = 0;
    long far_off = 0;
    // Every 50th file: ~230 characters of every shape.
    for (size_t k = 0; k < files.size(); k += 50) {
        Strokes s = read_kanjivg_file(files[k]).strokes;
        Image fast = render_strokes(s, opt);
        Image ref = render_strokes_cairo(s, opt);
        for (size_t i = 0; i < fast.pixels.size(); i++) {
            int d = std::abs(int(fast.pixels[i]) - int(ref.pixels[i]));
            total += d;
            far_off += d > 32;
        }
        pixels += long(fast.pixels.size());
    }
    std::printf("KanjiVG: mean |fast - cairo| %.3f, %.4f%% of pixels off by more than 32\n", total / double(pixels),
                100.0 * double(far_off) / double(pixels));
    EXPECT_LT(total / double(pixels), 1.0);
    EXPECT_LT(double(far_off) / double(pixels), 0.002);
}

// CPU time per image of both renderers on the kanji-like drawing, measured in alternating batches
// so that other work on the machine slows both alike.
TEST(RenderSpeed, PerImage) {
    Strokes s = busy_drawing();
    RasterOptions opt;
    double fast_s = 0.0;
    double cairo_s = 0.0;
    int fast_n = 0;
    int cairo_n = 0;
    long ink = 0;
    for (int round = 0; round < 10; round++) {
        std::clock_t c0 = std::clock();
        for (int i = 0; i < 300; i++) ink += render_strokes(s, opt).pixels[32 * 64 + 32];
        std::clock_t c1 = std::clock();
        for (int i = 0; i < 50; i++) ink += render_strokes_cairo(s, opt).pixels[32 * 64 + 32];
        std::clock_t c2 = std::clock();
        fast_s += double(c1 - c0) / CLOCKS_PER_SEC;
        cairo_s += double(c2 - c1) / CLOCKS_PER_SEC;
        fast_n += 300;
        cairo_n += 50;
    }
    double fast = fast_s * 1e6 / fast_n;
    double ref = cairo_s * 1e6 / cairo_n;
    std::printf("64x64, 15 strokes x 6 points, CPU per image: render_strokes %.1f us, cairo %.1f us\n", fast, ref);
    RecordProperty("render_strokes_us", std::to_string(fast));
    RecordProperty("render_strokes_cairo_us", std::to_string(ref));
    EXPECT_GE(ink, 0);
    // The reason render_strokes exists; data prep renders ~12k images, well under 1 s per core.
    EXPECT_LT(fast, ref);
    EXPECT_LT(fast * 12000.0, 2e6) << "12k rasters would take more than 2 s of CPU";
}

TEST(Resize, IdentityConstantAndBilinearValues) {
    Image src(5, 4);
    for (size_t i = 0; i < src.pixels.size(); i++) src.pixels[i] = uint8_t(i * 13);
    EXPECT_EQ(resize_image(src, 5, 4).pixels, src.pixels);
    Image grey(64, 64, 128);
    Image g = resize_image(grey, 37, 50);
    ASSERT_EQ(g.width, 37);
    ASSERT_EQ(g.height, 50);
    for (uint8_t v : g.pixels) ASSERT_EQ(v, 128);
    // Enlarging 2 -> 4 is bilinear with half-pixel centres (Pillow gives 0 64 191 255).
    Image two(2, 1);
    two.pixels = {0, 255};
    std::vector<uint8_t> want = {0, 64, 191, 255};
    EXPECT_EQ(resize_image(two, 4, 1).pixels, want);
    // Shrinking a 0/255 checkerboard by 2 averages it to mid grey (no aliasing).
    Image checker(64, 64);
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++) checker.at(x, y) = ((x + y) % 2) ? 255 : 0;
    Image half = resize_image(checker, 32, 32);
    for (int y = 1; y < 31; y++)
        for (int x = 1; x < 31; x++) ASSERT_NEAR(half.at(x, y), 128, 1) << x << "," << y;
    EXPECT_EQ(error_text([&] { resize_image(checker, 0, 5); }),
              "resize_image: target size must be at least 1x1 (got 0x5)");
    EXPECT_EQ(error_text([&] { resize_image(Image(), 5, 5); }),
              "resize_image: source image is empty or its buffer does not match its size");
}

TEST(ResizePlace, InkConfinedToChosenSquare) {
    Image full(64, 64, 255);
    bool sizes_vary = false;
    int first_side = -1;
    for (int seed = 0; seed < 30; seed++) {
        std::mt19937 rng(seed);
        Image out = random_resize_place(full, 48, 64, rng);
        ASSERT_EQ(out.width, 64);
        ASSERT_EQ(out.height, 64);
        std::array<int, 4> b = ink_box(out);
        int w = b[2] - b[0] + 1;
        int h = b[3] - b[1] + 1;
        EXPECT_EQ(w, h);
        EXPECT_GE(w, 48);
        EXPECT_LE(w, 64);
        // Inside the square every pixel is full ink (the resize of a constant image), outside 0.
        long inside = 0;
        for (int y = b[1]; y <= b[3]; y++)
            for (int x = b[0]; x <= b[2]; x++) inside += out.at(x, y) == 255;
        EXPECT_EQ(inside, long(w) * h);
        EXPECT_EQ(ink_sum(out), long(w) * h * 255);
        if (first_side < 0) first_side = w;
        if (w != first_side) sizes_vary = true;
    }
    EXPECT_TRUE(sizes_vary);
}

TEST(ResizePlace, DeterministicForSeedAndErrors) {
    Image src = render_strokes(busy_drawing(), RasterOptions());
    std::mt19937 a(7), b(7), c(8);
    Image ra = random_resize_place(src, 48, 64, a);
    EXPECT_EQ(ra.pixels, random_resize_place(src, 48, 64, b).pixels);
    bool differs = false;
    for (int i = 0; i < 5; i++) differs = differs || random_resize_place(src, 48, 64, c).pixels != ra.pixels;
    EXPECT_TRUE(differs);
    // min == max == size keeps the image as it is.
    std::mt19937 d(1);
    EXPECT_EQ(random_resize_place(src, 64, 64, d).pixels, src.pixels);
    EXPECT_EQ(error_text([&] { random_resize_place(src, 48, 65, d); }),
              "random_resize_place: need 1 <= min_size <= max_size <= 64 (got 48, 65)");
    EXPECT_EQ(error_text([&] { random_resize_place(Image(64, 32), 8, 16, d); }),
              "random_resize_place: source must be a non-empty square image (got 64x32)");
}

TEST(Numbered, ColoursOnWhiteWithNumbers) {
    Strokes s = {{{10, 30}, {100, 30}}, {{54, 10}, {54, 100}}};
    int size = 128;
    std::vector<uint8_t> rgb = render_strokes_rgb_numbered(s, size);
    ASSERT_EQ(rgb.size(), size_t(size) * size * 3);
    auto px = [&](int x, int y) {
        const uint8_t* p = &rgb[(size_t(y) * size + size_t(x)) * 3];
        return std::array<int, 3>{p[0], p[1], p[2]};
    };
    std::array<int, 3> white = {255, 255, 255};
    EXPECT_EQ(px(0, 0), white);
    EXPECT_EQ(px(127, 127), white);
    // Margin 0.08*128 = 10.24, scale 107.52/109: stroke 1 at y ~ 39.8, stroke 2 at x ~ 63.5.
    std::array<int, 3> c1 = px(100, 40);
    std::array<int, 3> c2 = px(63, 100);
    EXPECT_NE(c1, white);
    EXPECT_NE(c2, white);
    EXPECT_NE(c1, c2);
    // Stroke numbers are near-black text somewhere in the image.
    int dark = 0;
    for (size_t i = 0; i < rgb.size(); i += 3) dark += (rgb[i] < 60 && rgb[i + 1] < 60 && rgb[i + 2] < 60);
    EXPECT_GT(dark, 5);
    // Without strokes there is neither colour nor text.
    std::vector<uint8_t> blank = render_strokes_rgb_numbered({}, 16);
    for (uint8_t v : blank) ASSERT_EQ(v, 255);
}

}  // namespace
}  // namespace k2k
