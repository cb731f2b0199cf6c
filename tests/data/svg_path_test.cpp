// Tests for the SVG path grammar and flattening (src/data/svg_path.h): every command absolute
// and relative, implicit repeats, number lexing, smooth-curve reflection, arcs, tolerance, errors.
#include "data/svg_path.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "util/error.h"

namespace k2k {
namespace {

std::vector<Polyline> parse(const std::string& d, float tolerance = 0.1f) {
    SvgPathOptions opt;
    opt.tolerance = tolerance;
    return parse_svg_path(d, opt);
}

void expect_points(const Polyline& got, const std::vector<Point>& want, float eps = 1e-5f) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); i++) {
        EXPECT_NEAR(got[i].x, want[i].x, eps) << "point " << i;
        EXPECT_NEAR(got[i].y, want[i].y, eps) << "point " << i;
    }
}

void expect_same(const std::vector<Polyline>& a, const std::vector<Polyline>& b, float eps = 1e-4f) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); i++) expect_points(a[i], b[i], eps);
}

double dist_to_segment(Point p, Point a, Point b) {
    double abx = b.x - a.x, aby = b.y - a.y;
    double len2 = abx * abx + aby * aby;
    double t = len2 > 0 ? ((p.x - a.x) * abx + (p.y - a.y) * aby) / len2 : 0.0;
    t = std::fmax(0.0, std::fmin(1.0, t));
    double dx = p.x - (a.x + t * abx), dy = p.y - (a.y + t * aby);
    return std::sqrt(dx * dx + dy * dy);
}

double dist_to_polyline(Point p, const Polyline& line) {
    if (line.size() == 1) return std::hypot(p.x - line[0].x, p.y - line[0].y);
    double best = 1e30;
    for (size_t i = 1; i < line.size(); i++) best = std::fmin(best, dist_to_segment(p, line[i - 1], line[i]));
    return best;
}

Point cubic_at(Point p0, Point p1, Point p2, Point p3, double t) {
    double u = 1 - t;
    double a = u * u * u, b = 3 * u * u * t, c = 3 * u * t * t, d = t * t * t;
    return Point{float(a * p0.x + b * p1.x + c * p2.x + d * p3.x), float(a * p0.y + b * p1.y + c * p2.y + d * p3.y)};
}

Polyline dense(const std::function<Point(double)>& f, int n = 4000) {
    Polyline line;
    for (int i = 0; i <= n; i++) line.push_back(f(double(i) / n));
    return line;
}

// Hausdorff distance between a flattened polyline and a densely sampled reference curve.
double hausdorff(const Polyline& got, const Polyline& reference) {
    double worst = 0;
    for (const Point& p : reference) worst = std::fmax(worst, dist_to_polyline(p, got));
    for (size_t i = 1; i < got.size(); i++) {
        for (int k = 0; k <= 8; k++) {
            double t = k / 8.0;
            Point q{float(got[i - 1].x + t * (got[i].x - got[i - 1].x)), float(got[i - 1].y + t * (got[i].y - got[i - 1].y))};
            worst = std::fmax(worst, dist_to_polyline(q, reference));
        }
    }
    return worst;
}

double length(const Polyline& line) {
    double total = 0;
    for (size_t i = 1; i < line.size(); i++) total += std::hypot(line[i].x - line[i - 1].x, line[i].y - line[i - 1].y);
    return total;
}

std::string error_of(const std::string& d, const std::string& file = "f.svg", const std::string& id = "p1") {
    try {
        parse_svg_path(d, SvgPathOptions{}, file, id);
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(SvgPath, EmptyOrBlankDataGivesNoPolylines) {
    EXPECT_TRUE(parse("").empty());
    EXPECT_TRUE(parse(" \t\r\n\f").empty());
}

TEST(SvgPath, MovetoLinetoAbsolute) {
    auto lines = parse("M10 20 L30 40 L-5 0.5");
    ASSERT_EQ(lines.size(), 1u);
    expect_points(lines[0], {{10, 20}, {30, 40}, {-5, 0.5f}});
}

TEST(SvgPath, MovetoLinetoRelative) {
    // A leading m is absolute (the current point starts at 0,0).
    auto lines = parse("m10 20 l5 -5 l1 1");
    ASSERT_EQ(lines.size(), 1u);
    expect_points(lines[0], {{10, 20}, {15, 15}, {16, 16}});
}

TEST(SvgPath, ExtraPairsAfterMovetoAreLinetos) {
    expect_points(parse("M0 0 10 0 10 10")[0], {{0, 0}, {10, 0}, {10, 10}});
    expect_points(parse("m1 1 2 2 3 3")[0], {{1, 1}, {3, 3}, {6, 6}});
}

TEST(SvgPath, OtherCommandsRepeatImplicitly) {
    expect_points(parse("M0 0 L1 1 2 2")[0], {{0, 0}, {1, 1}, {2, 2}});
    expect_points(parse("M0 0 h1 2 v3 -1")[0], {{0, 0}, {1, 0}, {3, 0}, {3, 3}, {3, 2}});
    expect_same(parse("M0 0 C0 10 10 10 10 0 10 -10 20 -10 20 0"),
                parse("M0 0 C0 10 10 10 10 0 C10 -10 20 -10 20 0"));
    expect_same(parse("M0 0 q5 10 10 0 5 -10 10 0"), parse("M0 0 Q5 10 10 0 Q15 -10 20 0"));
}

TEST(SvgPath, HorizontalAndVerticalLines) {
    expect_points(parse("M1 2 H5 V7 h-1 v-2")[0], {{1, 2}, {5, 2}, {5, 7}, {4, 7}, {4, 5}});
}

TEST(SvgPath, CubicVerticesLieOnTheCurve) {
    Point p0{0, 0}, p1{0, 10}, p2{10, 10}, p3{10, 0};
    auto lines = parse("M0 0 C0 10 10 10 10 0", 0.05f);
    ASSERT_EQ(lines.size(), 1u);
    const Polyline& line = lines[0];
    ASSERT_GE(line.size(), 4u);
    expect_points({line.front(), line.back()}, {{0, 0}, {10, 0}});
    Polyline reference = dense([&](double t) { return cubic_at(p0, p1, p2, p3, t); });
    for (const Point& p : line) EXPECT_LT(dist_to_polyline(p, reference), 1e-3);
    EXPECT_LE(hausdorff(line, reference), 0.05 + 1e-3);
}

TEST(SvgPath, RelativeCubicEqualsAbsolute) {
    expect_same(parse("M5 5 c0 10 10 10 10 0"), parse("M5 5 C5 15 15 15 15 5"));
}

TEST(SvgPath, QuadraticAbsoluteAndRelative) {
    auto lines = parse("M0 0 Q5 10 10 0", 0.05f);
    ASSERT_EQ(lines.size(), 1u);
    // A quadratic is the cubic with controls 2/3 of the way to its control point.
    Point c1{10.0f / 3, 20.0f / 3}, c2{20.0f / 3, 20.0f / 3};
    Polyline reference = dense([&](double t) { return cubic_at({0, 0}, c1, c2, {10, 0}, t); });
    for (const Point& p : lines[0]) EXPECT_LT(dist_to_polyline(p, reference), 1e-3);
    EXPECT_LE(hausdorff(lines[0], reference), 0.05 + 1e-3);
    EXPECT_NEAR(lines[0].back().x, 10, 1e-6);
    expect_same(parse("M2 3 q5 10 10 0"), parse("M2 3 Q7 13 12 3"));
}

TEST(SvgPath, StraightCubicIsOneSegment) {
    // Controls on the chord: the curve is the chord, so no subdivision is needed.
    expect_points(parse("M0 0 C3 0 7 0 10 0")[0], {{0, 0}, {10, 0}});
}

TEST(SvgPath, SmoothCubicReflectsPreviousControl) {
    // S's first control is (10,0) + ((10,0) - (10,10)) = (10,-10).
    expect_same(parse("M0 0 C0 10 10 10 10 0 S20 -10 20 0"),
                parse("M0 0 C0 10 10 10 10 0 C10 -10 20 -10 20 0"));
    expect_same(parse("M0 0 c0 10 10 10 10 0 s10 -10 10 0"),
                parse("M0 0 C0 10 10 10 10 0 C10 -10 20 -10 20 0"));
    // S after S reflects the previous S's second control (20,-10) about (20,0): (20,10).
    expect_same(parse("M0 0 C0 10 10 10 10 0 S20 -10 20 0 S30 10 30 0"),
                parse("M0 0 C0 10 10 10 10 0 C10 -10 20 -10 20 0 C20 10 30 10 30 0"));
}

TEST(SvgPath, SmoothCubicWithoutPreviousCubicUsesCurrentPoint) {
    expect_same(parse("M0 0 L10 0 S20 10 20 0"), parse("M0 0 L10 0 C10 0 20 10 20 0"));
    expect_same(parse("M0 0 S20 10 20 0"), parse("M0 0 C0 0 20 10 20 0"));
    // A quadratic's control is not reflected by S.
    expect_same(parse("M0 0 Q5 10 10 0 S20 10 20 0"), parse("M0 0 Q5 10 10 0 C10 0 20 10 20 0"));
}

TEST(SvgPath, SmoothQuadraticReflectsPreviousControl) {
    expect_same(parse("M0 0 Q5 10 10 0 T20 0"), parse("M0 0 Q5 10 10 0 Q15 -10 20 0"));
    expect_same(parse("M0 0 Q5 10 10 0 t10 0"), parse("M0 0 Q5 10 10 0 Q15 -10 20 0"));
    // T after T reflects the previous T's (computed) control (15,-10) about (20,0): (25,10).
    expect_same(parse("M0 0 Q5 10 10 0 T20 0 T30 0"), parse("M0 0 Q5 10 10 0 Q15 -10 20 0 Q25 10 30 0"));
    // Without a previous quadratic the control is the current point: a straight line.
    expect_points(parse("M0 0 L10 0 T20 0")[0], {{0, 0}, {10, 0}, {20, 0}});
    expect_points({parse("M0 0 C0 10 10 10 10 0 T20 0")[0].back()}, {{20, 0}});
    expect_same(parse("M0 0 C0 5 5 5 10 0 T20 5"), parse("M0 0 C0 5 5 5 10 0 L20 5"));
}

TEST(SvgPath, ClosePathAppendsStartPoint) {
    expect_points(parse("M0 0 L10 0 L10 10 Z")[0], {{0, 0}, {10, 0}, {10, 10}, {0, 0}});
    expect_points(parse("M0 0 L10 0 L10 10 z")[0], {{0, 0}, {10, 0}, {10, 10}, {0, 0}});
    // Already back at the start: no duplicate point.
    expect_points(parse("M0 0 L10 0 L0 0 Z")[0], {{0, 0}, {10, 0}, {0, 0}});
}

TEST(SvgPath, DrawingAfterClosePathStartsAtSubpathStart) {
    auto lines = parse("M0 0 L10 0 Z L0 10");
    ASSERT_EQ(lines.size(), 2u);
    expect_points(lines[0], {{0, 0}, {10, 0}, {0, 0}});
    expect_points(lines[1], {{0, 0}, {0, 10}});
    lines = parse("M10 10 L20 10 Z m5 5 l1 0");
    ASSERT_EQ(lines.size(), 2u);
    expect_points(lines[1], {{15, 15}, {16, 15}});
}

TEST(SvgPath, OnePolylinePerSubpath) {
    auto lines = parse("M0 0 L1 0 M5 5 L6 5");
    ASSERT_EQ(lines.size(), 2u);
    expect_points(lines[0], {{0, 0}, {1, 0}});
    expect_points(lines[1], {{5, 5}, {6, 5}});
    // A relative moveto starts from the current point, not the previous subpath's start.
    lines = parse("M10 10 L20 10 m5 5 l1 0");
    ASSERT_EQ(lines.size(), 2u);
    expect_points(lines[1], {{25, 15}, {26, 15}});
    // A lone moveto draws nothing.
    lines = parse("M0 0 M5 5 L6 5 M7 7");
    ASSERT_EQ(lines.size(), 1u);
    expect_points(lines[0], {{5, 5}, {6, 5}});
}

TEST(SvgPath, NumberLexing) {
    expect_points(parse("M1.2.3 10-5")[0], {{1.2f, 0.3f}, {10, -5}});
    expect_points(parse("M-.5e-3 +4E+1 L.5.5")[0], {{-0.0005f, 40}, {0.5f, 0.5f}});
    expect_points(parse("M1e2-1e-1 L007 0.0010")[0], {{100, -0.1f}, {7, 0.001f}});
    expect_points(parse("M1-2 L3.e1 4.")[0], {{1, -2}, {30, 4}});
    expect_points(parse("M123456789012345678901234 0 L0 0")[0], {{1.2345679e23f, 0}, {0, 0}}, 1e16f);
    expect_points(parse("M0.000000000000000000000001 0 L1 1")[0], {{1e-24f, 0}, {1, 1}});
}

TEST(SvgPath, SeparatorsAreCommasAndWhitespace) {
    expect_points(parse("  M 1 , 2\tL\n3,4\r\n  ")[0], {{1, 2}, {3, 4}});
    expect_points(parse("M1,2,3,4L5,6")[0], {{1, 2}, {3, 4}, {5, 6}});
    expect_points(parse("M1 2L3 4Z")[0], {{1, 2}, {3, 4}, {1, 2}});
}

TEST(SvgPath, ArcHalfCircleLiesOnTheCircle) {
    const float tol = 0.05f;
    auto lines = parse("M0 0 A10 10 0 0 1 20 0", tol);
    ASSERT_EQ(lines.size(), 1u);
    const Polyline& line = lines[0];
    ASSERT_GE(line.size(), 10u);
    expect_points({line.front(), line.back()}, {{0, 0}, {20, 0}});
    for (size_t i = 0; i < line.size(); i++) {
        EXPECT_NEAR(std::hypot(line[i].x - 10, line[i].y), 10, 1e-4) << i;
        EXPECT_LE(line[i].y, 1e-4) << "sweep-flag 1 goes through negative y (angle increasing)";
        if (i > 0) {
            Point m{0.5f * (line[i - 1].x + line[i].x), 0.5f * (line[i - 1].y + line[i].y)};
            EXPECT_GE(std::hypot(m.x - 10, m.y), 10 - tol - 1e-4) << "chord " << i << " deviates more than tol";
        }
    }
    EXPECT_LE(length(line), 10 * M_PI);
    EXPECT_GE(length(line), 10 * M_PI - 0.1);
    Polyline other_way = parse("M0 0 A10 10 0 0 0 20 0")[0];
    for (const Point& p : other_way) EXPECT_GE(p.y, -1e-4);
}

TEST(SvgPath, ArcRelativeEqualsAbsolute) {
    expect_same(parse("M5 5 a10 10 0 0 1 20 0"), parse("M5 5 A10 10 0 0 1 25 5"));
}

TEST(SvgPath, ArcRadiiTooSmallAreScaledUp) {
    expect_same(parse("M0 0 A1 1 0 0 1 20 0"), parse("M0 0 A10 10 0 0 1 20 0"));
    // Negative radii are taken as absolute values.
    expect_same(parse("M0 0 A-10 -10 0 0 1 20 0"), parse("M0 0 A10 10 0 0 1 20 0"));
}

TEST(SvgPath, ArcWithZeroRadiusIsALine) {
    expect_points(parse("M0 0 A0 5 0 0 1 20 0")[0], {{0, 0}, {20, 0}});
    expect_points(parse("M0 0 A5 0 0 1 1 20 3")[0], {{0, 0}, {20, 3}});
}

TEST(SvgPath, ArcWithHugeRadiusIsNearlyStraight) {
    // The step angle stays finite and accurate when tolerance / radius is below double epsilon.
    expect_points(parse("M0 0 A1e30 1e30 0 0 1 1 0")[0], {{0, 0}, {1, 0}});
}

TEST(SvgPath, ArcWithEqualEndpointsDrawsNothing) {
    EXPECT_TRUE(parse("M5 5 A10 10 0 0 1 5 5").empty());
    expect_points(parse("M5 5 A10 10 0 0 1 5 5 L6 6")[0], {{5, 5}, {6, 6}});
}

TEST(SvgPath, ArcLargeArcFlagPicksTheLongWay) {
    double small = length(parse("M0 0 A10 10 0 0 1 10 10", 0.01f)[0]);
    double large = length(parse("M0 0 A10 10 0 1 1 10 10", 0.01f)[0]);
    EXPECT_NEAR(small, 2 * M_PI * 10 / 4, 0.02);
    EXPECT_NEAR(large, 2 * M_PI * 10 * 3 / 4, 0.05);
}

TEST(SvgPath, ArcRotationTurnsTheEllipse) {
    // rx=20 along the rotated x axis, which points down (+y) after 90 degrees.
    auto lines = parse("M0 0 A20 10 90 0 1 0 40", 0.01f);
    ASSERT_EQ(lines.size(), 1u);
    float max_x = 0;
    for (const Point& p : lines[0]) {
        double e = (p.x / 10.0) * (p.x / 10.0) + ((p.y - 20) / 20.0) * ((p.y - 20) / 20.0);
        EXPECT_NEAR(e, 1.0, 1e-4);
        EXPECT_GE(p.x, -1e-4);
        max_x = std::fmax(max_x, p.x);
    }
    EXPECT_NEAR(max_x, 10, 0.01);
}

TEST(SvgPath, ArcFlagsWithoutSeparators) {
    expect_same(parse("M0 0a10 10 0 0020 0"), parse("M0 0 a10,10,0,0,0,20,0"));
    expect_same(parse("M0 0 a1 1 0 00 1 1"), parse("M0 0 a1 1 0 0 0 1 1"));
    expect_same(parse("M0 0 a1,1,0,1,1,1,1"), parse("M0 0 a1 1 0 11 1 1"));
}

TEST(SvgPath, ArcRepeatsImplicitly) {
    auto lines = parse("M0 0 A5 5 0 0 1 10 0 5 5 0 0 1 20 0");
    ASSERT_EQ(lines.size(), 1u);
    expect_points({lines[0].back()}, {{20, 0}});
    expect_same(lines, parse("M0 0 A5 5 0 0 1 10 0 A5 5 0 0 1 20 0"));
}

TEST(SvgPath, FlatteningRespectsToleranceAndAdapts) {
    Point p0{0, 0}, p1{10, 80}, p2{90, -80}, p3{100, 0};
    Polyline reference = dense([&](double t) { return cubic_at(p0, p1, p2, p3, t); });
    size_t previous_points = 0;
    for (float tol : {0.01f, 0.1f, 1.0f, 5.0f}) {
        Polyline line = parse("M0 0 C10 80 90 -80 100 0", tol)[0];
        EXPECT_LE(hausdorff(line, reference), tol + 2e-3) << "tolerance " << tol;
        if (previous_points) {
            EXPECT_LT(line.size(), previous_points) << "tolerance " << tol;
        }
        previous_points = line.size();
    }
    // A flatter curve needs fewer points than a wiggly one at the same tolerance.
    EXPECT_LT(parse("M0 0 C30 2 70 2 100 0", 0.1f)[0].size(), parse("M0 0 C10 80 90 -80 100 0", 0.1f)[0].size());

    size_t previous_arc = 0;
    for (float tol : {0.01f, 0.1f, 1.0f}) {
        Polyline line = parse("M0 0 A50 50 0 1 1 0 1", tol)[0];
        // The centre is on the bisector y = 0.5, 50 away from both endpoints; the large arc
        // picks one of the two candidates: take the one the middle vertex is 50 away from.
        double cy = 0.5, cx = std::sqrt(2500.0 - 0.25);
        const Point& middle = line[line.size() / 2];
        if (std::fabs(std::hypot(middle.x + cx, middle.y - cy) - 50) < std::fabs(std::hypot(middle.x - cx, middle.y - cy) - 50))
            cx = -cx;
        for (size_t i = 1; i < line.size(); i++) {
            Point a = line[i - 1], b = line[i];
            double r = std::hypot(a.x - cx, a.y - cy);
            EXPECT_NEAR(r, 50, 1e-3);
            Point m{0.5f * (a.x + b.x), 0.5f * (a.y + b.y)};
            EXPECT_LE(r - std::hypot(m.x - cx, m.y - cy), tol + 1e-4);
        }
        if (previous_arc) {
            EXPECT_LT(line.size(), previous_arc);
        }
        previous_arc = line.size();
    }
}

TEST(SvgPath, ToleranceMustBePositive) {
    SvgPathOptions opt;
    opt.tolerance = 0;
    try {
        parse_svg_path("M0 0 L1 1", opt, "f.svg", "p1");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "f.svg: path p1: tolerance must be > 0 (got 0)");
    }
    opt.tolerance = -1;
    EXPECT_THROW(parse_svg_path("M0 0", opt), Error);
}

TEST(SvgPath, ErrorMessagesNameFilePathAndOffset) {
    EXPECT_EQ(error_of("L1 2"), "f.svg: path p1: offset 0: path data must start with 'M' or 'm', found 'L'");
    EXPECT_EQ(error_of("  3 4"), "f.svg: path p1: offset 2: path data must start with 'M' or 'm', found '3'");
    EXPECT_EQ(error_of("M1 2 X3 4"), "f.svg: path p1: offset 5: unknown command 'X'");
    EXPECT_EQ(error_of("M1 2 e"), "f.svg: path p1: offset 5: unknown command 'e'");
    EXPECT_EQ(error_of("M1 2 #"), "f.svg: path p1: offset 5: expected a command, found '#'");
    EXPECT_EQ(error_of("M1 2 \xe5\xad\x97"), "f.svg: path p1: offset 5: expected a command, found byte 0xe5");
    EXPECT_EQ(error_of("M1"), "f.svg: path p1: offset 2: expected a number for argument 2 of 'M', found end of data");
    EXPECT_EQ(error_of("M1 2 3"), "f.svg: path p1: offset 6: expected a number for argument 2 of 'M', found end of data");
    EXPECT_EQ(error_of("M1 2 C1 2 3"),
              "f.svg: path p1: offset 11: expected a number for argument 4 of 'C', found end of data");
    EXPECT_EQ(error_of("M1 2 c1 2 3 4 5 L"),
              "f.svg: path p1: offset 16: expected a number for argument 6 of 'c', found 'L'");
    EXPECT_EQ(error_of("M1 2 L"), "f.svg: path p1: offset 6: expected a number for argument 1 of 'L', found end of data");
    EXPECT_EQ(error_of("M1 2 Z 3 4"), "f.svg: path p1: offset 7: expected a command, found '3'");
    EXPECT_EQ(error_of("M0 0 A1 1 0 2 0 5 5"),
              "f.svg: path p1: offset 12: expected a flag ('0' or '1') for argument 4 of 'A', found '2'");
    EXPECT_EQ(error_of("M0 0 a1 1 0 0 .5 5 5"),
              "f.svg: path p1: offset 14: expected a flag ('0' or '1') for argument 5 of 'a', found '.'");
    EXPECT_EQ(error_of("M1 2,"), "f.svg: path p1: offset 5: expected a number after ',', found end of data");
    EXPECT_EQ(error_of("M1 2 L3 4, L5 6"), "f.svg: path p1: offset 11: expected a number after ',', found 'L'");
    EXPECT_EQ(error_of("M1,,2"), "f.svg: path p1: offset 3: expected a number for argument 2 of 'M', found ','");
    EXPECT_EQ(error_of("M,1 2"), "f.svg: path p1: offset 1: expected a number for argument 1 of 'M', found ','");
    EXPECT_EQ(error_of("M-"), "f.svg: path p1: offset 1: expected a number for argument 1 of 'M', found '-'");
    EXPECT_EQ(error_of("M1 ."), "f.svg: path p1: offset 3: expected a number for argument 2 of 'M', found '.'");
    EXPECT_EQ(error_of("M1e+ 2"), "f.svg: path p1: offset 2: expected a number for argument 2 of 'M', found 'e'");
    EXPECT_EQ(error_of("M1e999 0"), "f.svg: path p1: offset 1: number out of range");
    EXPECT_EQ(error_of("M1 2 H"), "f.svg: path p1: offset 6: expected a number for argument 1 of 'H', found end of data");
}

TEST(SvgPath, NumbersAndPointsMustFitAFloat) {
    // The largest float, and what rounds to it, are read; what rounds to float infinity is not.
    std::vector<Polyline> lines = parse("M3.40282347e38 0 L-3.4028235e38 1");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0][0].x, std::numeric_limits<float>::max());
    EXPECT_EQ(lines[0][1].x, -std::numeric_limits<float>::max());
    EXPECT_EQ(error_of("M3.4028236e38 0"), "f.svg: path p1: offset 1: number out of range");
    // 3e38 is stored as the float 3.00000001e38; that, printed with 9 digits, reads back (the bound
    // used to be 3.0e38, and fuzz_svg_path's round trip found it refused).
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", double(parse("M3e38 0 L1 1")[0][0].x));
    EXPECT_STREQ(buf, "3.00000001e+38");
    EXPECT_EQ(parse(std::string("M") + buf + " 0 L1 1")[0][0].x, 3e38f);
    // Points made of numbers that fit can still leave the range: relative moves add up (this
    // used to give the point (inf, 0)), and arcs scale their radii up to reach the endpoint.
    EXPECT_EQ(error_of("M0 0 m3e38 0 l3e38 0"),
              "f.svg: path p1: offset 14: 'l' draws the point (6e+38, 0), outside the float range");
    EXPECT_EQ(error_of("M0 0 h3e38 3e38"), "f.svg: path p1: offset 11: 'h' draws the point (6e+38, 0), outside the float range");
    EXPECT_EQ(error_of("M10 10 a4 5 30 1 0 20 0 25,5 0 01 40 -3e38"),
              "f.svg: path p1: offset 24: 'a' draws the point (-3.40288e+38, -1.63281e+37), outside the float range");
}

TEST(SvgPath, PointLimitRefusesDataThatFlattensToTooManyPoints) {
    // One 17-byte arc the long way round a huge ellipse flattens to 2^16 pieces.
    EXPECT_EQ(parse("M0 0 a9e9 9 0 1 1 1 1").at(0).size(), 65537u);
    EXPECT_EQ(error_of("M0 0 a9e9 9 0 1 1 1 1 a9e9 9 0 1 1 1 1"),
              "f.svg: path p1: offset 23: path data flattens to more than 100000 points (SvgPathOptions::max_points)");
    // The limit is the caller's; it counts the points of every subpath, and max_points itself is allowed.
    SvgPathOptions opt;
    opt.max_points = 5;
    EXPECT_EQ(parse_svg_path("M0 0 L1 1 M2 2 L3 3 4 4", opt).size(), 2u);
    try {
        parse_svg_path("M0 0 L1 1 M2 2 L3 3 4 4 5 5", opt);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "svg path: offset 24: path data flattens to more than 5 points (SvgPathOptions::max_points)");
    }
}

TEST(SvgPath, ErrorPrefixLeavesOutEmptyParts) {
    EXPECT_EQ(error_of("L1 2", "", ""), "svg path: offset 0: path data must start with 'M' or 'm', found 'L'");
    EXPECT_EQ(error_of("L1 2", "f.svg", ""), "f.svg: offset 0: path data must start with 'M' or 'm', found 'L'");
    EXPECT_EQ(error_of("L1 2", "", "s1"), "path s1: offset 0: path data must start with 'M' or 'm', found 'L'");
}

}  // namespace
}  // namespace k2k
