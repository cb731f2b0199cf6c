// Tests for data/strokes.h: RDP, stroke-3/5 conversions, normalisation, augmentation.
// Hand-made polylines only; values are worked out by hand in the comments.
#include "data/strokes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "util/error.h"

namespace k2k {
namespace {

// Runs `fn`, expects a k2k::Error and returns its message.
template <typename F>
std::string error_text(F fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

void expect_points(const Polyline& got, const Polyline& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); i++) {
        EXPECT_FLOAT_EQ(got[i].x, want[i].x) << "point " << i;
        EXPECT_FLOAT_EQ(got[i].y, want[i].y) << "point " << i;
    }
}

// Two strokes from the worked example in strokes.h plus a 3-point one.
Strokes sample_strokes() {
    return {{{0, 0}, {3, 0}}, {{3, 4}, {3, 6}}, {{10.5f, 20.25f}, {11, 22}, {9.75f, 30}}};
}

TEST(Rdp, RemovesCollinearPointsKeepsEndpoints) {
    Polyline line = {{0, 0}, {1, 0}, {2, 0}, {3, 0}, {10, 0}};
    expect_points(rdp_simplify(line, 0.5f), {{0, 0}, {10, 0}});
}

TEST(Rdp, KeepsPointFartherThanEpsilon) {
    // (5, 2) is 2 units off the chord (0,0)-(10,0); (2, 0.3) and (8, 0.3) are 0.46 off the sub-chords.
    Polyline line = {{0, 0}, {2, 0.3f}, {5, 2}, {8, 0.3f}, {10, 0}};
    expect_points(rdp_simplify(line, 1.0f), {{0, 0}, {5, 2}, {10, 0}});
    // Once epsilon exceeds the peak only the ends survive.
    expect_points(rdp_simplify(line, 2.5f), {{0, 0}, {10, 0}});
    // A tiny epsilon keeps all of them.
    EXPECT_EQ(rdp_simplify(line, 0.01f).size(), 5u);
}

TEST(Rdp, EpsilonZeroRemovesOnlyPointsOnTheChord) {
    // (1,1) duplicate and (2,2) collinear midpoint go; the bend at (4,2) stays.
    Polyline line = {{0, 0}, {1, 1}, {1, 1}, {2, 2}, {4, 2}};
    expect_points(rdp_simplify(line, 0.0f), {{0, 0}, {2, 2}, {4, 2}});
    Polyline bent = {{0, 0}, {1, 0.001f}, {2, 0}};
    EXPECT_EQ(rdp_simplify(bent, 0.0f).size(), 3u);
}

TEST(Rdp, UsesDistanceToSegmentNotLine) {
    // Doubling back: (12, 0) lies on the chord's line but 2 units beyond its end, so it is kept.
    Polyline line = {{0, 0}, {12, 0}, {10, 0}};
    expect_points(rdp_simplify(line, 1.0f), {{0, 0}, {12, 0}, {10, 0}});
    // Closed loop: the chord is degenerate, distance is to the point itself.
    Polyline loop = {{0, 0}, {5, 0}, {5, 5}, {0, 0}};
    expect_points(rdp_simplify(loop, 1.0f), {{0, 0}, {5, 0}, {5, 5}, {0, 0}});
}

TEST(Rdp, ShortPolylinesUnchangedAndStrokesOverload) {
    expect_points(rdp_simplify(Polyline{{1, 2}}, 5.0f), {{1, 2}});
    expect_points(rdp_simplify(Polyline{{1, 2}, {1, 2}}, 5.0f), {{1, 2}, {1, 2}});
    EXPECT_TRUE(rdp_simplify(Polyline{}, 1.0f).empty());
    Strokes s = {{{0, 0}, {1, 0}, {2, 0}}, {{0, 5}, {3, 9}, {6, 5}}};
    Strokes r = rdp_simplify(s, 0.5f);
    ASSERT_EQ(r.size(), 2u);
    expect_points(r[0], {{0, 0}, {2, 0}});
    expect_points(r[1], {{0, 5}, {3, 9}, {6, 5}});
}

TEST(Rdp, RejectsBadEpsilon) {
    EXPECT_EQ(error_text([] { rdp_simplify(Polyline{{0, 0}}, -1.0f); }),
              "rdp_simplify: epsilon must be finite and >= 0 (got -1)");
    EXPECT_EQ(error_text([] { rdp_simplify(Polyline{{0, 0}}, NAN); }),
              "rdp_simplify: epsilon must be finite and >= 0 (got nan)");
}

TEST(Stroke3, FromStrokesMatchesWorkedExample) {
    Stroke3 s3 = strokes_to_stroke3({{{0, 0}, {3, 0}}, {{3, 4}, {3, 6}}});
    Stroke3 want = {{0, 0, 0}, {3, 0, 1}, {0, 4, 0}, {0, 2, 1}};
    EXPECT_EQ(s3, want);
}

TEST(Stroke3, FirstRowIsOffsetFromOriginAndDotsAreOneRow) {
    Stroke3 s3 = strokes_to_stroke3({{{5, 7}}, {}, {{6, 7}, {6, 9}}});
    Stroke3 want = {{5, 7, 1}, {1, 0, 0}, {0, 2, 1}};
    EXPECT_EQ(s3, want);
}

TEST(Stroke3, RoundTripToAbsolute) {
    Strokes s = sample_strokes();
    Strokes back = stroke3_to_strokes(strokes_to_stroke3(s));
    ASSERT_EQ(back.size(), s.size());
    for (size_t i = 0; i < s.size(); i++) expect_points(back[i], s[i]);
    // A last row without a pen lift still yields its polyline.
    Strokes open = stroke3_to_strokes({{1, 1, 0}, {1, 0, 0}});
    ASSERT_EQ(open.size(), 1u);
    expect_points(open[0], {{1, 1}, {2, 1}});
}

TEST(Stroke5, LayoutWithDefaultStartToken) {
    Stroke3 s3 = {{0, 0, 0}, {3, 0, 1}, {0, 4, 0}, {0, 2, 1}};
    Stroke5 s5 = stroke3_to_stroke5(s3, 5);
    Stroke5 want = {{0, 0, 1, 0, 0}, {0, 0, 1, 0, 0}, {3, 0, 0, 1, 0},
                    {0, 4, 1, 0, 0}, {0, 2, 0, 1, 0}, {0, 0, 0, 0, 1}};
    EXPECT_EQ(s5, want);
}

TEST(Stroke5, Kanji2KanjiStartTokenAndExactFit) {
    Stroke3 s3 = {{1, 2, 0}, {3, 4, 1}};
    Stroke5 s5 = stroke3_to_stroke5(s3, 2, StartToken::PenUp);
    Stroke5 want = {{0, 0, 0, 1, 0}, {1, 2, 1, 0, 0}, {3, 4, 0, 1, 0}};  // no end row when n == max_len
    EXPECT_EQ(s5, want);
    Stroke5 empty = stroke3_to_stroke5({}, 2, StartToken::PenUp);
    Stroke5 want_empty = {{0, 0, 0, 1, 0}, {0, 0, 0, 0, 1}, {0, 0, 0, 0, 1}};
    EXPECT_EQ(empty, want_empty);
}

TEST(Stroke5, TooLongSketchIsAnError) {
    Stroke3 s3 = {{1, 2, 0}, {3, 4, 0}, {5, 6, 1}};
    EXPECT_EQ(error_text([&] { stroke3_to_stroke5(s3, 2); }),
              "stroke3_to_stroke5: sketch has 3 points, more than max_len 2");
    EXPECT_EQ(error_text([&] { stroke3_to_stroke5(s3, -1); }), "stroke3_to_stroke5: max_len must be >= 0 (got -1)");
}

TEST(Stroke5, RoundTripWithoutStartTokenIsIdentity) {
    Stroke3 s3 = strokes_to_stroke3(sample_strokes());
    for (StartToken start : {StartToken::PenDown, StartToken::PenUp}) {
        Stroke5 s5 = stroke3_to_stroke5(s3, 20, start);
        Stroke5 rows(s5.begin() + 1, s5.end());
        EXPECT_EQ(stroke5_to_stroke3(rows), s3);
    }
    // Exact fit: no end row at all, conversion runs to the last row.
    Stroke5 full = stroke3_to_stroke5(s3, int(s3.size()));
    EXPECT_EQ(stroke5_to_stroke3(Stroke5(full.begin() + 1, full.end())), s3);
}

TEST(Stroke5, ToStroke3StopsAtFirstEndAndTakesLargestPenValue) {
    // Soft pen values as a sampler might give: the largest wins; rows after the end are ignored.
    Stroke5 rows = {{1, 1, 0.7f, 0.2f, 0.1f}, {2, 0, 0.3f, 0.6f, 0.1f}, {0, 0, 0.1f, 0.1f, 0.8f}, {9, 9, 1, 0, 0}};
    Stroke3 want = {{1, 1, 0}, {2, 0, 1}};
    EXPECT_EQ(stroke5_to_stroke3(rows), want);
}

TEST(Normalize, DeltaStdOfKnownSet) {
    // Values dx,dy: {0,0, 3,0} and {0,4, 0,2}: mean 9/8, population variance (sum x^2)/8 - mean^2.
    std::vector<Stroke3> set = {{{0, 0, 0}, {3, 0, 1}}, {{0, 4, 0}, {0, 2, 1}}};
    double mean = 9.0 / 8.0;
    double var = (9.0 + 16.0 + 4.0) / 8.0 - mean * mean;
    EXPECT_NEAR(stroke3_delta_std(set), std::sqrt(var), 1e-6);
    EXPECT_EQ(stroke3_delta_std({}), 0.0f);
    EXPECT_EQ(max_stroke3_len(set), 2);
    set.push_back({{1, 1, 0}, {1, 1, 0}, {1, 1, 1}});
    EXPECT_EQ(max_stroke3_len(set), 3);
    EXPECT_EQ(max_stroke3_len({}), 0);
}

TEST(Normalize, ScaleDividesOffsetsOnly) {
    Stroke3 s3 = {{2, -4, 0}, {6, 8, 1}};
    scale_stroke3(s3, 2.0f);
    Stroke3 want = {{1, -2, 0}, {3, 4, 1}};
    EXPECT_EQ(s3, want);
    EXPECT_EQ(error_text([&] { scale_stroke3(s3, 0.0f); }),
              "scale_stroke3: factor must be finite and non-zero (got 0)");
}

TEST(Normalize, UnitBBox) {
    // bbox x 10..30, y 20..30: longer side 20.
    Strokes s = {{{10, 20}, {30, 20}}, {{20, 30}}};
    BBox box = strokes_bbox(s);
    ASSERT_FALSE(box.empty());
    EXPECT_FLOAT_EQ(box.width(), 20.0f);
    EXPECT_FLOAT_EQ(box.height(), 10.0f);
    Strokes n = normalize_unit_bbox(s);
    expect_points(n[0], {{0, 0}, {1, 0}});
    expect_points(n[1], {{0.5f, 0.5f}});
    BBox nb = strokes_bbox(n);
    EXPECT_FLOAT_EQ(std::max(nb.width(), nb.height()), 1.0f);
    // Single point: translated only; empty: unchanged.
    Strokes dot = normalize_unit_bbox({{{7, 8}}});
    expect_points(dot[0], {{0, 0}});
    EXPECT_TRUE(strokes_bbox({}).empty());
    EXPECT_TRUE(normalize_unit_bbox({}).empty());
}

// A long 3-stroke sketch with many interior points.
Stroke3 long_sketch() {
    Strokes s;
    for (int k = 0; k < 3; k++) {
        Polyline line;
        for (int i = 0; i < 30; i++) line.push_back({float(i + 10 * k), float((i * 7) % 11 + k)});
        s.push_back(line);
    }
    return strokes_to_stroke3(s);
}

TEST(Augment, DeterministicForASeed) {
    Stroke3 s3 = long_sketch();
    StrokeAugmentOptions opt;
    std::mt19937 a(42), b(42), c(43);
    Stroke3 ra = augment_stroke3(s3, opt, a);
    EXPECT_EQ(ra, augment_stroke3(s3, opt, b));
    EXPECT_NE(ra, augment_stroke3(s3, opt, c));
}

TEST(Augment, DropKeepsStrokeEndsAndPositions) {
    Stroke3 s3 = long_sketch();
    StrokeAugmentOptions opt;
    opt.scale = 0.0f;
    opt.drop_prob = 0.5f;
    Strokes before = stroke3_to_strokes(s3);
    for (int seed = 0; seed < 20; seed++) {
        std::mt19937 rng(seed);
        Stroke3 out = augment_stroke3(s3, opt, rng);
        EXPECT_LT(out.size(), s3.size()) << "seed " << seed;
        Strokes after = stroke3_to_strokes(out);
        ASSERT_EQ(after.size(), before.size());
        for (size_t k = 0; k < before.size(); k++) {
            EXPECT_NEAR(after[k].front().x, before[k].front().x, 1e-4);
            EXPECT_NEAR(after[k].front().y, before[k].front().y, 1e-4);
            EXPECT_NEAR(after[k].back().x, before[k].back().x, 1e-4);
            EXPECT_NEAR(after[k].back().y, before[k].back().y, 1e-4);
            EXPECT_GE(after[k].size(), 2u);
            // Every kept point is one of the original points of that stroke, in order.
            size_t j = 0;
            for (const Point& p : after[k]) {
                while (j < before[k].size() &&
                       (std::fabs(before[k][j].x - p.x) > 1e-4f || std::fabs(before[k][j].y - p.y) > 1e-4f))
                    j++;
                EXPECT_LT(j, before[k].size()) << "point not found in stroke " << k;
            }
        }
    }
    // drop_prob 1 leaves exactly the stroke ends (2 per stroke).
    opt.drop_prob = 1.0f;
    std::mt19937 rng(1);
    EXPECT_EQ(augment_stroke3(s3, opt, rng).size(), 6u);
}

TEST(Augment, ScaleWithinBoundsAndClamp) {
    Stroke3 s3 = {{10, 10, 0}, {10, -10, 1}};
    StrokeAugmentOptions opt;
    opt.drop_prob = 0.0f;
    bool saw_x_diff = false;
    for (int seed = 0; seed < 200; seed++) {
        std::mt19937 rng(seed);
        Stroke3 out = augment_stroke3(s3, opt, rng);
        ASSERT_EQ(out.size(), 2u);
        float sx = out[0][0] / 10.0f;
        float sy = out[0][1] / 10.0f;
        EXPECT_GE(sx, 0.85f - 1e-6f);
        EXPECT_LE(sx, 1.15f + 1e-6f);
        EXPECT_GE(sy, 0.85f - 1e-6f);
        EXPECT_LE(sy, 1.15f + 1e-6f);
        EXPECT_FLOAT_EQ(out[1][0], 10.0f * sx);  // one factor per axis for the whole sketch
        EXPECT_FLOAT_EQ(out[1][1], -10.0f * sy);
        EXPECT_EQ(out[1][2], 1.0f);
        if (std::fabs(sx - sy) > 1e-3f) saw_x_diff = true;
    }
    EXPECT_TRUE(saw_x_diff);
    opt.scale = 0.0f;
    opt.limit = 5.0f;
    std::mt19937 rng(0);
    Stroke3 want = {{5, 5, 0}, {5, -5, 1}};
    EXPECT_EQ(augment_stroke3(s3, opt, rng), want);
    opt.limit = 0.0f;
    EXPECT_EQ(error_text([&] { augment_stroke3(s3, opt, rng); }), "augment_stroke3: limit must be > 0 (got 0)");
    opt.limit = 1000.0f;
    opt.drop_prob = 1.5f;
    EXPECT_EQ(error_text([&] { augment_stroke3(s3, opt, rng); }), "augment_stroke3: drop_prob must be in [0, 1] (got 1.5)");
}

}  // namespace
}  // namespace k2k
