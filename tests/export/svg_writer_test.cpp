// Tests for the SVG writer (src/export/svg_writer.h): the exported SVG reads back through the
// KanjiVG reader to the same strokes, ids/order, numbers, animation, CSV errors, real KanjiVG files, CLI.
#include "export/svg_writer.h"

#include <gtest/gtest.h>
#include <tinyxml2.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/cache.h"
#include "data/kanjivg.h"
#include "data/strokes.h"
#include "test_support.h"
#include "util/error.h"
#include "util/fs.h"

namespace k2k {
namespace {

// Printed with 2 decimals: each coordinate reads back within 0.005 (+ float rounding).
constexpr float kPrintTol = 0.0051f;

size_t count_of(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) n++;
    return n;
}

void expect_same_strokes(const Strokes& got, const Strokes& want, float tol) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t s = 0; s < want.size(); s++) {
        ASSERT_EQ(got[s].size(), want[s].size()) << "stroke " << s;
        for (size_t i = 0; i < want[s].size(); i++) {
            EXPECT_NEAR(got[s][i].x, want[s][i].x, tol) << "stroke " << s << " point " << i;
            EXPECT_NEAR(got[s][i].y, want[s][i].y, tol) << "stroke " << s << " point " << i;
        }
    }
}

std::string error_of(const Strokes& strokes, const SvgExportOptions& opt) {
    try {
        strokes_to_svg(strokes, opt);
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

std::string csv_error(const std::string& path) {
    try {
        read_stroke3_csv(path);
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

std::string write_text(const std::string& dir, const std::string& name, const std::string& text) {
    std::string path = dir + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

// Three strokes in KanjiVG units with more decimals than are printed.
Strokes kanjivg_unit_strokes() {
    return {{{20.123f, 30.456f}, {50.0f, 29.994f}, {80.777f, 30.001f}},
            {{54.5f, 10.0f}, {54.5f, 95.3333f}},
            {{10.004f, 80.0f}, {98.996f, 80.0f}, {98.996f, 80.0f}}};  // a repeated point is kept
}

TEST(SvgWriter, UnfittedKanjiVgUnitsReadBackToTheSameStrokes) {
    SvgExportOptions opt;
    opt.fit = false;
    opt.codepoint = 0x4E8C;
    const Strokes in = kanjivg_unit_strokes();
    std::string svg = strokes_to_svg(in, opt);
    KanjiVgChar c = parse_kanjivg_svg(svg, "generated.svg");  // code point from the group id
    EXPECT_EQ(c.codepoint, 0x4E8Cu);
    EXPECT_EQ(c.element, "二");
    EXPECT_EQ(c.variant, "");
    EXPECT_EQ(c.stroke_ids, (std::vector<std::string>{"kvg:04e8c-s1", "kvg:04e8c-s2", "kvg:04e8c-s3"}));
    expect_same_strokes(c.strokes, in, kPrintTol);
    // Not just "close": the printed values are the 2-decimal roundings.
    EXPECT_FLOAT_EQ(c.strokes[0][0].x, 20.12f);
    EXPECT_FLOAT_EQ(c.strokes[0][0].y, 30.46f);
    EXPECT_FLOAT_EQ(c.strokes[1][1].y, 95.33f);
}

TEST(SvgWriter, KanjiVgLayoutLineByLine) {
    SvgExportOptions opt;
    opt.fit = false;
    opt.codepoint = 0x5B57;
    std::string svg = strokes_to_svg({{{10.5f, 20.0f}, {30.25f, 20.126f}}, {{-0.001f, 1.0f}, {2.0f, 3.0f}}}, opt);
    EXPECT_EQ(svg.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 0), 0u);
    EXPECT_NE(svg.find("\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.0//EN\""), std::string::npos);
    EXPECT_NE(svg.find("\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"109\" height=\"109\" viewBox=\"0 0 109 109\">\n"
                       "<g id=\"kvg:StrokePaths_05b57\" style=\"fill:none;stroke:#000000;stroke-width:3;"
                       "stroke-linecap:round;stroke-linejoin:round;\">\n"
                       "<g id=\"kvg:05b57\" kvg:element=\"字\">\n"
                       "\t<path id=\"kvg:05b57-s1\" d=\"M10.5,20 L30.25,20.13\"/>\n"
                       "\t<path id=\"kvg:05b57-s2\" d=\"M0,1 L2,3\"/>\n"  // -0.001 prints as 0, not -0
                       "</g>\n</g>\n</svg>\n"),
              std::string::npos)
        << svg;
    EXPECT_EQ(count_of(svg, "<text"), 0u);
    EXPECT_EQ(count_of(svg, "<animate"), 0u);
    EXPECT_EQ(count_of(svg, "<title"), 0u);
    // The plain header, not KanjiVG's licence notice, unless asked.
    EXPECT_NE(svg.find("<!-- Written by k2k in KanjiVG's SVG format"), std::string::npos);
    EXPECT_EQ(svg.find("CC BY-SA"), std::string::npos);
    EXPECT_EQ(svg.find("Attribution-Share Alike 3.0"), std::string::npos);
    opt.kanjivg_notice = true;
    std::string noticed = strokes_to_svg({{{1, 1}, {2, 2}}}, opt);
    EXPECT_NE(noticed.find("This drawing uses KanjiVG (http://kanjivg.tagaini.net), copyright Ulrich Apel,"),
              std::string::npos);
    EXPECT_NE(noticed.find("Attribution-Share Alike 3.0"), std::string::npos);
}

TEST(SvgWriter, UnknownCodePointVariantCanvasAndTitle) {
    SvgExportOptions opt;
    opt.fit = false;
    opt.canvas = 200.0f;
    opt.stroke_width = 2.5f;
    opt.title = "sample <1> & \"two\"";
    std::string svg = strokes_to_svg({{{1, 2}, {3, 4}}}, opt);
    EXPECT_NE(svg.find("width=\"200\" height=\"200\" viewBox=\"0 0 200 200\""), std::string::npos);
    EXPECT_NE(svg.find("stroke-width:2.5;"), std::string::npos);
    EXPECT_NE(svg.find("<title>sample &lt;1&gt; &amp; &quot;two&quot;</title>"), std::string::npos);
    EXPECT_NE(svg.find("<g id=\"kvg:StrokePaths_00000\""), std::string::npos);
    EXPECT_NE(svg.find("<g id=\"kvg:00000\">"), std::string::npos);  // no kvg:element for an unknown character
    EXPECT_EQ(parse_kanjivg_svg(svg, "x.svg").stroke_ids, std::vector<std::string>{"kvg:00000-s1"});

    opt.codepoint = 0x5B57;
    opt.variant = "Kaisho";
    KanjiVgChar c = parse_kanjivg_svg(strokes_to_svg({{{1, 2}, {3, 4}}}, opt), "x.svg");
    EXPECT_EQ(c.codepoint, 0x5B57u);
    EXPECT_EQ(c.variant, "Kaisho");
    EXPECT_EQ(c.stroke_ids, std::vector<std::string>{"kvg:05b57-Kaisho-s1"});
}

TEST(SvgWriter, FitMapsTheBoundingBoxIntoTheCanvasWithMargin) {
    // Arbitrary units: bbox x in [-3, 5] (8 wide), y in [1, 5] (4 high).
    const Strokes in = {{{-3, 1}, {5, 1}}, {{1, 2}, {1, 5}, {0.5f, 4.25f}}};
    SvgExportOptions opt;  // fit on, canvas 109, margin 9
    SvgFit fit = svg_fit_transform(in, opt);
    EXPECT_DOUBLE_EQ(fit.scale, 91.0 / 8.0);
    const Strokes fitted = apply_svg_fit(in, fit);
    BBox box = strokes_bbox(fitted);
    EXPECT_NEAR(box.min_x, 9.0f, 1e-4);
    EXPECT_NEAR(box.max_x, 100.0f, 1e-4);
    EXPECT_NEAR(0.5f * (box.min_y + box.max_y), 54.5f, 1e-4);  // centred on the shorter side
    EXPECT_NEAR(box.height(), 4.0f * 91.0f / 8.0f, 1e-4);

    KanjiVgChar c = parse_kanjivg_svg(strokes_to_svg(in, opt), "00000.svg");
    expect_same_strokes(c.strokes, fitted, kPrintTol);

    // A tall drawing: the height fills the room; another margin.
    opt.margin = 20.0f;
    const Strokes tall = {{{0, 0}, {0, 10}}, {{2, 5}, {-1, 5}}};
    fit = svg_fit_transform(tall, opt);
    EXPECT_DOUBLE_EQ(fit.scale, 69.0 / 10.0);
    box = strokes_bbox(apply_svg_fit(tall, fit));
    EXPECT_NEAR(box.min_y, 20.0f, 1e-4);
    EXPECT_NEAR(box.max_y, 89.0f, 1e-4);
    EXPECT_NEAR(0.5f * (box.min_x + box.max_x), 54.5f, 1e-4);
}

TEST(SvgWriter, FitOfDegenerateDrawings) {
    SvgExportOptions opt;
    SvgFit fit = svg_fit_transform({{{7, -2}}, {{7, -2}, {7, -2}}}, opt);  // one point: centred, not scaled
    EXPECT_DOUBLE_EQ(fit.scale, 1.0);
    EXPECT_DOUBLE_EQ(fit.offset_x, 54.5 - 7.0);
    EXPECT_DOUBLE_EQ(fit.offset_y, 54.5 + 2.0);
    fit = svg_fit_transform({}, opt);
    EXPECT_DOUBLE_EQ(fit.scale, 1.0);
    EXPECT_DOUBLE_EQ(fit.offset_x, 0.0);
    opt.fit = false;
    fit = svg_fit_transform({{{-3, 1}, {5, 1}}}, opt);
    EXPECT_DOUBLE_EQ(fit.scale, 1.0);
    EXPECT_DOUBLE_EQ(fit.offset_x, 0.0);
    EXPECT_DOUBLE_EQ(fit.offset_y, 0.0);
}

TEST(SvgWriter, DotsAndEmptyPolylines) {
    SvgExportOptions opt;
    opt.fit = false;
    opt.codepoint = 0x30FB;
    // An empty polyline is skipped (ids stay consecutive); a dot is a zero-length line.
    std::string svg = strokes_to_svg({{{5, 6}, {7, 8}}, {}, {{40.25f, 50.5f}}}, opt);
    EXPECT_NE(svg.find("<path id=\"kvg:030fb-s2\" d=\"M40.25,50.5 L40.25,50.5\"/>"), std::string::npos) << svg;
    KanjiVgChar c = parse_kanjivg_svg(svg, "030fb.svg");
    EXPECT_EQ(c.stroke_ids, (std::vector<std::string>{"kvg:030fb-s1", "kvg:030fb-s2"}));
    expect_same_strokes(c.strokes, {{{5, 6}, {7, 8}}, {{40.25f, 50.5f}, {40.25f, 50.5f}}}, kPrintTol);
}

TEST(SvgWriter, EmptyDrawingIsValidSvgWithEmptyGroups) {
    SvgExportOptions opt;
    opt.stroke_numbers = true;
    opt.animate = true;
    std::string svg = strokes_to_svg({}, opt);
    tinyxml2::XMLDocument doc;
    ASSERT_EQ(doc.Parse(svg.c_str(), svg.size()), tinyxml2::XML_SUCCESS) << doc.ErrorName();
    const tinyxml2::XMLElement* paths = doc.RootElement()->FirstChildElement("g");
    ASSERT_NE(paths, nullptr);
    EXPECT_STREQ(paths->Attribute("id"), "kvg:StrokePaths_00000");
    ASSERT_NE(paths->FirstChildElement("g"), nullptr);
    EXPECT_EQ(paths->FirstChildElement("g")->FirstChildElement(), nullptr);
    const tinyxml2::XMLElement* numbers = paths->NextSiblingElement("g");
    ASSERT_NE(numbers, nullptr);
    EXPECT_EQ(numbers->FirstChildElement(), nullptr);
    try {
        parse_kanjivg_svg(svg, "00000.svg");
        FAIL() << "the reader accepted a drawing without paths";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "00000.svg: the kvg:StrokePaths_00000 group has no <path>");
    }
}

TEST(SvgWriter, StrokeNumbersAreIgnoredByTheReader) {
    SvgExportOptions opt;
    opt.fit = false;
    opt.codepoint = 0x4E8C;
    opt.stroke_numbers = true;
    Strokes in = kanjivg_unit_strokes();
    // 11 strokes for a two-digit label, one starting at the canvas corner.
    for (int k = 0; k < 8; k++) in.push_back({{1.0f, 1.0f + float(k)}, {30.0f, 1.0f + float(k)}});
    std::string svg = strokes_to_svg(in, opt);
    EXPECT_NE(svg.find("<g id=\"kvg:StrokeNumbers_04e8c\" style=\"font-size:8;fill:#808080\">\n"), std::string::npos);
    EXPECT_EQ(count_of(svg, "<text transform=\"matrix(1 0 0 1 "), in.size());
    EXPECT_NE(svg.find(")\">11</text>"), std::string::npos);
    KanjiVgChar c = parse_kanjivg_svg(svg, "04e8c.svg");
    ASSERT_EQ(c.strokes.size(), in.size());
    expect_same_strokes(c.strokes, in, kPrintTol);

    // Each label lies inside the canvas and, when there is room, away from its stroke's start
    // against the stroke's direction: stroke 1 runs rightwards, so its label is on the left.
    tinyxml2::XMLDocument doc;
    ASSERT_EQ(doc.Parse(svg.c_str(), svg.size()), tinyxml2::XML_SUCCESS);
    const tinyxml2::XMLElement* numbers = doc.RootElement()->FirstChildElement("g")->NextSiblingElement("g");
    int n = 0;
    for (const tinyxml2::XMLElement* t = numbers->FirstChildElement("text"); t; t = t->NextSiblingElement("text")) {
        n++;
        EXPECT_EQ(std::string(t->GetText()), std::to_string(n));
        double x = -1, y = -1;
        ASSERT_EQ(std::sscanf(t->Attribute("transform"), "matrix(1 0 0 1 %lf %lf)", &x, &y), 2);
        EXPECT_GE(x, 0.0);
        EXPECT_LE(x, 109.0);
        EXPECT_GT(y, 0.0);
        EXPECT_LE(y, 109.0);
        if (n == 1) {
            EXPECT_LT(x + 4.4, in[0][0].x);  // the digit ends left of the start
            EXPECT_NEAR(y, in[0][0].y + 2.9, 0.5);
        }
        if (n == 2) {
            EXPECT_LT(y, in[1][0].y);  // stroke 2 runs downwards: label above
        }
    }
    EXPECT_EQ(n, int(in.size()));
}

TEST(SvgWriter, AnimationDrawsStrokesOneAfterAnother) {
    SvgExportOptions opt;
    opt.fit = false;
    opt.codepoint = 0x4E8C;
    opt.animate = true;
    opt.seconds_per_stroke = 0.75;
    const Strokes in = kanjivg_unit_strokes();
    std::string svg = strokes_to_svg(in, opt);
    EXPECT_EQ(count_of(svg, "<animate attributeName=\"stroke-dashoffset\""), in.size());
    EXPECT_NE(svg.find("begin=\"0s\" dur=\"0.75s\" fill=\"freeze\""), std::string::npos);
    EXPECT_NE(svg.find("begin=\"0.75s\" dur=\"0.75s\""), std::string::npos);
    EXPECT_NE(svg.find("begin=\"1.5s\" dur=\"0.75s\""), std::string::npos);

    // Stroke 2 is a vertical line of length 85.3333: the dash covers it, the gap hides it with
    // the stroke width to spare, and the offset animates from hidden to 0.
    tinyxml2::XMLDocument doc;
    ASSERT_EQ(doc.Parse(svg.c_str(), svg.size()), tinyxml2::XML_SUCCESS);
    const tinyxml2::XMLElement* path = doc.RootElement()->FirstChildElement("g")->FirstChildElement("g")->FirstChildElement("path");
    path = path->NextSiblingElement("path");
    EXPECT_STREQ(path->Attribute("id"), "kvg:04e8c-s2");
    EXPECT_STREQ(path->Attribute("stroke-dasharray"), "85.34 91.34");
    EXPECT_STREQ(path->Attribute("stroke-dashoffset"), "88.34");
    const tinyxml2::XMLElement* anim = path->FirstChildElement("animate");
    ASSERT_NE(anim, nullptr);
    EXPECT_STREQ(anim->Attribute("from"), "88.34");
    EXPECT_STREQ(anim->Attribute("to"), "0");

    KanjiVgChar c = parse_kanjivg_svg(svg, "04e8c.svg");
    expect_same_strokes(c.strokes, in, kPrintTol);
}

TEST(SvgWriter, Stroke3EntryPointAndAtomicWrite) {
    const Stroke3 s3 = {{10, 10, 0}, {20, 0, 1}, {-5, 10, 0}, {0, 15, 1}};
    SvgExportOptions opt;
    opt.fit = false;
    std::string svg = stroke3_to_svg(s3, opt);
    EXPECT_EQ(svg, strokes_to_svg(stroke3_to_strokes(s3), opt));
    std::string dir = test::make_temp_dir("svg_writer");
    std::string path = dir + "/sub/00000.svg";
    write_svg(path, svg);
    EXPECT_EQ(read_file_text(path), svg);
    KanjiVgChar c = read_kanjivg_file(path);
    expect_same_strokes(c.strokes, {{{10, 10}, {30, 10}}, {{25, 20}, {25, 35}}}, kPrintTol);
}

TEST(SvgWriter, BadOptionsAndPoints) {
    SvgExportOptions opt;
    const Strokes ok = {{{0, 0}, {1, 1}}};
    EXPECT_EQ(error_of({{{0, 0}, {NAN, 1}}}, opt), "svg export: stroke 1 point 2 is not finite");
    opt.margin = 54.5f;
    EXPECT_EQ(error_of(ok, opt), "svg export: margin 54.5 leaves no room on a canvas of 109 (need 0 <= margin < canvas / 2)");
    opt.margin = -1.0f;
    EXPECT_EQ(error_of(ok, opt), "svg export: margin -1 leaves no room on a canvas of 109 (need 0 <= margin < canvas / 2)");
    opt = SvgExportOptions();
    opt.canvas = 0.0f;
    EXPECT_EQ(error_of(ok, opt), "svg export: canvas must be a positive number, got 0");
    opt = SvgExportOptions();
    opt.stroke_width = 0.0f;
    EXPECT_EQ(error_of(ok, opt), "svg export: stroke_width must be a positive number, got 0");
    opt = SvgExportOptions();
    opt.animate = true;
    opt.seconds_per_stroke = -0.5;
    EXPECT_EQ(error_of(ok, opt), "svg export: seconds_per_stroke must be a positive number, got -0.5");
    opt = SvgExportOptions();
    opt.codepoint = 0xD800;
    EXPECT_EQ(error_of(ok, opt), "svg export: code point U+D800 is not a Unicode character");
    opt = SvgExportOptions();
    opt.variant = "Kai sho";
    EXPECT_EQ(error_of(ok, opt), "svg export: variant 'Kai sho' must be letters and digits only (e.g. Kaisho)");
}

TEST(Stroke3Csv, ReadsRowsWithHeaderCommentsAndCrlf) {
    std::string dir = test::make_temp_dir("stroke3_csv");
    std::string path = write_text(dir, "s.csv",
                                  "# sampled by k2k\r\n"
                                  "dx, dy, pen_lifted\r\n"
                                  "\r\n"
                                  "1.5,-2,0   # first point\r\n"
                                  " 3e-1 ,4,1\r\n"
                                  "-0.25,0,1.0");
    Stroke3 s3 = read_stroke3_csv(path);
    ASSERT_EQ(s3.size(), 3u);
    EXPECT_EQ(s3[0], (std::array<float, 3>{1.5f, -2.0f, 0.0f}));
    EXPECT_EQ(s3[1], (std::array<float, 3>{0.3f, 4.0f, 1.0f}));
    EXPECT_EQ(s3[2], (std::array<float, 3>{-0.25f, 0.0f, 1.0f}));
    // No header is fine too.
    EXPECT_EQ(read_stroke3_csv(write_text(dir, "n.csv", "1,2,1\n")).size(), 1u);
}

TEST(Stroke3Csv, MalformedLinesNameTheFileAndLine) {
    std::string dir = test::make_temp_dir("stroke3_csv_bad");
    std::string p = write_text(dir, "count.csv", "dx,dy,pen_lifted\n1,2,0\n3,4\n");
    EXPECT_EQ(csv_error(p), p + ":3: expected 3 comma-separated values (dx,dy,pen_lifted), got 2");
    p = write_text(dir, "many.csv", "1,2,0,4\n");
    EXPECT_EQ(csv_error(p), p + ":1: expected 3 comma-separated values (dx,dy,pen_lifted), got 4");
    p = write_text(dir, "nan.csv", "# c\n1,2,0\n1,abc,0\n");
    EXPECT_EQ(csv_error(p), p + ":3: dy 'abc' is not a number");
    // Only the first content line may be a header.
    p = write_text(dir, "header2.csv", "1,2,0\ndx,dy,pen_lifted\n");
    EXPECT_EQ(csv_error(p), p + ":2: dx 'dx' is not a number");
    p = write_text(dir, "halfheader.csv", "1,x,0\n");
    EXPECT_EQ(csv_error(p), p + ":1: dy 'x' is not a number");
    p = write_text(dir, "emptyfield.csv", ",2,0\n");
    EXPECT_EQ(csv_error(p), p + ":1: dx '' is not a number");
    p = write_text(dir, "inf.csv", "inf,2,0\n");
    EXPECT_EQ(csv_error(p), p + ":1: dx 'inf' is not a finite float");
    p = write_text(dir, "big.csv", "1,1e39,0\n");
    EXPECT_EQ(csv_error(p), p + ":1: dy '1e39' is not a finite float");
    p = write_text(dir, "pen.csv", "1,2,0.5\n");
    EXPECT_EQ(csv_error(p), p + ":1: pen_lifted must be 0 or 1, got '0.5'");
    p = write_text(dir, "pen2.csv", "1,2,up\n");
    EXPECT_EQ(csv_error(p), p + ":1: pen_lifted must be 0 or 1, got 'up'");
    p = write_text(dir, "empty.csv", "# nothing\n\ndx,dy,pen_lifted\n");
    EXPECT_EQ(csv_error(p), p + ": no stroke-3 rows (expected lines \"dx,dy,pen_lifted\")");
    p = dir + "/missing.csv";
    EXPECT_EQ(csv_error(p), p + ": cannot open (No such file or directory)");
}

// Real KanjiVG files: written back unfitted they read back to the same strokes, ids and
// character, and the header is KanjiVG's own DOCTYPE.
TEST(SvgWriterRealData, KanjiVgFilesRoundTrip) {
    K2K_REQUIRE_SHARED_DATA("kanjivg/kanji");
    const std::string dir = test::shared_data_dir() + "/kanjivg/kanji";
    for (const char* name : {"05b57.svg", "04e8c.svg", "09b31.svg", "05b57-Kaisho.svg", "03042.svg", "04e3b-VtLst.svg"}) {
        SCOPED_TRACE(name);
        const std::string path = dir + "/" + name;
        if (!std::filesystem::exists(path)) {
            ADD_FAILURE() << path << " is missing from the KanjiVG snapshot";
            continue;
        }
        KanjiVgChar orig = read_kanjivg_file(path);
        SvgExportOptions opt;
        opt.fit = false;
        opt.codepoint = orig.codepoint;
        opt.variant = orig.variant;
        opt.kanjivg_notice = true;
        opt.stroke_numbers = true;
        std::string svg = strokes_to_svg(orig.strokes, opt);
        KanjiVgChar back = parse_kanjivg_svg(svg, "exported.svg");
        EXPECT_EQ(back.codepoint, orig.codepoint);
        EXPECT_EQ(back.variant, orig.variant);
        EXPECT_EQ(back.element, codepoint_to_utf8(orig.codepoint));
        EXPECT_EQ(back.stroke_ids, orig.stroke_ids);  // KanjiVG's own ids: kvg:05b57-s1, ...
        expect_same_strokes(back.strokes, orig.strokes, kPrintTol);

        const std::string text = read_file_text(path);
        const size_t b = text.find("<!DOCTYPE"), e = text.find("]>\n");
        ASSERT_TRUE(b != std::string::npos && e != std::string::npos);
        EXPECT_NE(svg.find(text.substr(b, e + 3 - b)), std::string::npos) << "DOCTYPE differs from KanjiVG's";
        const size_t svg_line = text.find("<svg ");
        EXPECT_NE(svg.find(text.substr(svg_line, text.find('\n', svg_line) + 1 - svg_line)), std::string::npos);
        const size_t group_line = text.find("<g id=\"kvg:StrokePaths_");
        EXPECT_NE(svg.find(text.substr(group_line, text.find('\n', group_line) + 1 - group_line)), std::string::npos);
    }
}

#ifdef K2K_BINARY
// The k2k binary (each start loads LibTorch: ~1 s, so few calls); "rc=<0|1> <stdout+stderr>".
std::string run_cli(const std::string& args, const std::string& dir) {
    const std::string log = dir + "/cli.log";
    const std::string cmd = std::string("\"") + K2K_BINARY + "\" export " + args + " > \"" + log + "\" 2>&1";
    int rc = std::system(cmd.c_str());
    std::string out = read_file_text(log);
    return "rc=" + std::to_string(rc == 0 ? 0 : 1) + " " + out;
}

TEST(ExportCli, StrokesFileToSvg) {
    std::string dir = test::make_temp_dir("export_cli");
    std::string csv = write_text(dir, "s.csv", "dx,dy,pen_lifted\n10,10,0\n20,0,1\n-5,10,0\n0,15,1\n");
    std::string out = dir + "/s.svg";
    EXPECT_EQ(run_cli("--strokes " + csv + " --out " + out + " --numbers --animate --codepoint U+5341", dir),
              "rc=0 " + csv + ": 2 strokes -> " + out + " (fitted to the canvas)\n");
    SvgExportOptions opt;
    opt.stroke_numbers = true;
    opt.animate = true;
    opt.codepoint = 0x5341;
    EXPECT_EQ(read_file_text(out), stroke3_to_svg(read_stroke3_csv(csv), opt));

    EXPECT_EQ(run_cli("--strokes " + csv + " --out " + out + " --no-fit", dir), "rc=0 " + csv + ": 2 strokes -> " + out + "\n");
    expect_same_strokes(read_kanjivg_file(out).strokes, {{{10, 10}, {30, 10}}, {{25, 20}, {25, 35}}}, kPrintTol);

    EXPECT_EQ(run_cli("--out " + out, dir),
              "rc=1 k2k: error: export: give exactly one of --strokes FILE (stroke-3 CSV) or --kanji U+XXXX (from --cache)\n");
    std::string bad = write_text(dir, "bad.csv", "1,2,3\n");
    EXPECT_EQ(run_cli("--strokes " + bad + " --out " + out, dir),
              "rc=1 k2k: error: " + bad + ":1: pen_lifted must be 0 or 1, got '3'\n");
}
TEST(ExportCli, DatasetCharacterToSvg) {
    std::string dir = test::make_temp_dir("export_cli_cache");
    // A two-entry cache: the 二 fixture and a made-up Kaisho variant of it.
    KanjiVgChar fixture = read_kanjivg_file(test::fixtures_dir() + "/svg/04e8c.svg");
    Dataset ds;
    ds.meta.raster.size = 4;
    ds.add_modern(0x4E8C, "", "二", Split::Train, fixture.strokes, Image(4, 4));
    const Strokes kaisho = {{{10.5f, 20.25f}, {90, 20}}};
    ds.add_modern(0x4E8C, "Kaisho", "二", Split::Train, kaisho, Image(4, 4));
    const std::string cache = dir + "/k2k.cache";
    save_dataset(cache, ds);

    std::string out = dir + "/04e8c.svg";
    EXPECT_EQ(run_cli("--cache " + cache + " --kanji U+4E8C --out " + out, dir),
              "rc=0 U+4E8C 二: 2 strokes -> " + out + "\n");
    KanjiVgChar back = read_kanjivg_file(out);
    EXPECT_EQ(back.codepoint, 0x4E8Cu);
    EXPECT_EQ(back.element, "二");
    EXPECT_EQ(back.stroke_ids, fixture.stroke_ids);
    expect_same_strokes(back.strokes, fixture.strokes, kPrintTol);  // KanjiVG units kept: no fit
    const std::string text = read_file_text(out);
    EXPECT_NE(text.find("This drawing uses KanjiVG"), std::string::npos);  // the licence notice

    out = dir + "/kaisho.svg";
    EXPECT_EQ(run_cli("--cache " + cache + " --kanji 二 --variant Kaisho --numbers --out " + out, dir),
              "rc=0 U+4E8C 二 (Kaisho): 1 stroke -> " + out + "\n");
    back = read_kanjivg_file(out);
    EXPECT_EQ(back.variant, "Kaisho");
    EXPECT_EQ(back.stroke_ids, std::vector<std::string>{"kvg:04e8c-Kaisho-s1"});
    expect_same_strokes(back.strokes, kaisho, kPrintTol);

    EXPECT_EQ(run_cli("--cache " + cache + " --kanji U+5B57 --out " + out, dir),
              "rc=1 k2k: error: " + cache + ": no KanjiVG entry for U+5B57\n");
}
#endif

}  // namespace
}  // namespace k2k
