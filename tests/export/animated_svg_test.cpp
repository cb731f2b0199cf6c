// Tests for strokes_to_animated_svg (src/export/svg_writer.h): valid self-contained XML, one path
// per stroke in order, delays from the cumulative length, prefixed names, loop keyframes, errors.
#include "export/svg_writer.h"

#include <gtest/gtest.h>
#include <tinyxml2.h>

#include <cmath>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "test_support.h"
#include "util/error.h"

namespace k2k {
namespace {

// Three straight strokes of lengths 10, 20 and 30 in KanjiVG units.
Strokes three_strokes() {
    return {{{10.0f, 10.0f}, {20.0f, 10.0f}}, {{10.0f, 30.0f}, {30.0f, 30.0f}}, {{50.0f, 10.0f}, {50.0f, 40.0f}}};
}

// The value of `property` in the CSS rule that starts with `selector` + "{".
std::string css_value(const std::string& svg, const std::string& selector, const std::string& property) {
    const size_t rule = svg.find(selector + "{");
    if (rule == std::string::npos) return "(no rule)";
    const size_t end = svg.find('}', rule);
    const size_t at = svg.find(property + ":", rule);
    if (at == std::string::npos || at > end) return "(no property)";
    const size_t start = at + property.size() + 1;
    return svg.substr(start, svg.find_first_of(";}", start) - start);
}

double seconds(const std::string& text) {
    double v = -1;
    std::sscanf(text.c_str(), "%lfs", &v);
    return v;
}

// Every name the CSS defines: ids, classes and @keyframes.
std::set<std::string> defined_names(const std::string& svg) {
    std::set<std::string> names;
    tinyxml2::XMLDocument doc;
    doc.Parse(svg.c_str(), svg.size());
    for (const tinyxml2::XMLElement* g = doc.RootElement()->FirstChildElement(); g; g = g->NextSiblingElement()) {
        if (g->Attribute("class")) names.insert(g->Attribute("class"));
        for (const tinyxml2::XMLElement* e = g->FirstChildElement(); e; e = e->NextSiblingElement())
            if (e->Attribute("id")) names.insert(e->Attribute("id"));
    }
    for (size_t p = svg.find("@keyframes "); p != std::string::npos; p = svg.find("@keyframes ", p + 1))
        names.insert(svg.substr(p + 11, svg.find('{', p) - p - 11));
    return names;
}

TEST(AnimatedSvg, OnePathPerStrokeInOrder) {
    AnimatedSvgOptions opt;
    opt.fit = false;
    const std::string svg = strokes_to_animated_svg(three_strokes(), opt);
    tinyxml2::XMLDocument doc;
    ASSERT_EQ(doc.Parse(svg.c_str(), svg.size()), tinyxml2::XML_SUCCESS) << doc.ErrorName();
    const tinyxml2::XMLElement* root = doc.RootElement();
    EXPECT_STREQ(root->Name(), "svg");
    EXPECT_STREQ(root->Attribute("width"), "218");
    EXPECT_STREQ(root->Attribute("height"), "218");
    EXPECT_STREQ(root->Attribute("viewBox"), "0 0 109 109");
    ASSERT_NE(root->FirstChildElement("style"), nullptr);
    const tinyxml2::XMLElement* group = root->FirstChildElement("g");
    ASSERT_NE(group, nullptr);
    EXPECT_STREQ(group->Attribute("class"), "k2k-strokes");
    std::vector<std::string> ids, ds;
    for (const tinyxml2::XMLElement* p = group->FirstChildElement("path"); p; p = p->NextSiblingElement("path")) {
        ids.push_back(p->Attribute("id"));
        ds.push_back(p->Attribute("d"));
    }
    EXPECT_EQ(ids, (std::vector<std::string>{"k2k-s1", "k2k-s2", "k2k-s3"}));
    EXPECT_EQ(ds, (std::vector<std::string>{"M10,10 L20,10", "M10,30 L30,30", "M50,10 L50,40"}));
    // Self-contained: nothing runs, nothing is fetched.
    EXPECT_EQ(svg.find("<script"), std::string::npos);
    EXPECT_EQ(svg.find("href"), std::string::npos);
    EXPECT_EQ(svg.find("url("), std::string::npos);
    EXPECT_EQ(svg.find("@import"), std::string::npos);
    EXPECT_NE(css_value(svg, ".k2k-strokes", "stroke-linecap"), "(no rule)");
    EXPECT_EQ(css_value(svg, ".k2k-strokes", "stroke-linecap"), "round");
    EXPECT_EQ(css_value(svg, ".k2k-strokes", "stroke-linejoin"), "round");
    EXPECT_EQ(css_value(svg, ".k2k-strokes", "stroke"), "#000000");
}

// 3 strokes x 0.5 s = 1.5 s shared by length 10 : 20 : 30.
TEST(AnimatedSvg, DelaysFollowTheCumulativeLength) {
    AnimatedSvgOptions opt;
    opt.fit = false;
    opt.stroke_seconds = 0.5;
    const std::string svg = strokes_to_animated_svg(three_strokes(), opt);
    const double want_delay[3] = {0.0, 0.25, 0.75}, want_duration[3] = {0.25, 0.5, 0.75};
    double previous = -1;
    for (int k = 0; k < 3; k++) {
        const std::string id = "#k2k-s" + std::to_string(k + 1);
        const double delay = seconds(css_value(svg, id, "animation-delay"));
        EXPECT_DOUBLE_EQ(delay, want_delay[k]) << id;
        EXPECT_DOUBLE_EQ(seconds(css_value(svg, id, "animation-duration")), want_duration[k]) << id;
        EXPECT_GT(delay, previous) << id;
        previous = delay;
        EXPECT_EQ(css_value(svg, id, "animation-name"), "k2k-draw" + std::to_string(k + 1));
    }
    // Stroke 2 (length 20): a dash covering it, a gap hiding it with the stroke width to spare.
    EXPECT_EQ(css_value(svg, "#k2k-s2", "stroke-dasharray"), "20 26");
    EXPECT_EQ(css_value(svg, "#k2k-s2", "stroke-dashoffset"), "23");
    EXPECT_NE(svg.find("@keyframes k2k-draw2{from{stroke-dashoffset:23}to{stroke-dashoffset:0}}"), std::string::npos);
    EXPECT_EQ(css_value(svg, ".k2k-strokes path", "animation-fill-mode"), "both");
    EXPECT_EQ(css_value(svg, ".k2k-strokes path", "animation-iteration-count"), "(no property)");
}

// Cycle = 1.5 s of drawing + 1.5 s pause. Stroke 2 starts at 0.25 s, is drawn after 0.5 s (16.667 %
// of its 3 s cycle) and vanishes when every stroke's cycle ends, 2.75 s after its start (91.667 %).
TEST(AnimatedSvg, LoopRepeatsAfterThePause) {
    AnimatedSvgOptions opt;
    opt.fit = false;
    opt.stroke_seconds = 0.5;
    opt.loop = true;
    opt.loop_pause_seconds = 1.5;
    const std::string svg = strokes_to_animated_svg(three_strokes(), opt);
    EXPECT_EQ(css_value(svg, ".k2k-strokes path", "animation-iteration-count"), "infinite");
    for (int k = 1; k <= 3; k++)
        EXPECT_EQ(css_value(svg, "#k2k-s" + std::to_string(k), "animation-duration"), "3s");
    EXPECT_EQ(css_value(svg, "#k2k-s2", "animation-delay"), "0.25s");
    EXPECT_NE(svg.find("@keyframes k2k-draw2{0%{stroke-dashoffset:23}16.667%{stroke-dashoffset:0}91.667%{stroke-dashoffset:0;"
                       "animation-timing-function:step-start}100%{stroke-dashoffset:23}}"),
              std::string::npos)
        << svg;
    // Stroke 1 starts the cycle: its end is the restart, no step (a second 100% keyframe would
    // make it fade out over the cycle).
    EXPECT_NE(svg.find("@keyframes k2k-draw1{0%{stroke-dashoffset:13}8.333%{stroke-dashoffset:0}100%{stroke-dashoffset:0}}"),
              std::string::npos)
        << svg;
    tinyxml2::XMLDocument doc;
    EXPECT_EQ(doc.Parse(svg.c_str(), svg.size()), tinyxml2::XML_SUCCESS);
}

// Two SVGs inlined in one page: every id, class and keyframe name carries its prefix, so none clash.
TEST(AnimatedSvg, NamesCarryThePrefix) {
    AnimatedSvgOptions a, b;
    a.id_prefix = "cand-1";
    a.stroke_numbers = true;
    b.id_prefix = "cand_2";
    b.stroke_numbers = true;
    const std::set<std::string> na = defined_names(strokes_to_animated_svg(three_strokes(), a));
    const std::set<std::string> nb = defined_names(strokes_to_animated_svg(three_strokes(), b));
    EXPECT_EQ(na.size(), 8u);  // 3 ids + 3 keyframes + the strokes and numbers classes
    for (const std::string& n : na) EXPECT_EQ(n.rfind("cand-1-", 0), 0u) << n;
    for (const std::string& n : nb) EXPECT_EQ(n.rfind("cand_2-", 0), 0u) << n;
    for (const std::string& n : na) EXPECT_EQ(nb.count(n), 0u) << n;
    // Every CSS rule is scoped by the prefix.
    const std::string svg = strokes_to_animated_svg(three_strokes(), a);
    const std::string css = svg.substr(svg.find("<style>") + 8, svg.find("</style>") - svg.find("<style>") - 8);
    size_t line_start = 0;
    while (line_start < css.size()) {
        const std::string line = css.substr(line_start, css.find('\n', line_start) - line_start);
        EXPECT_TRUE(line.rfind(".cand-1", 0) == 0 || line.rfind("#cand-1-", 0) == 0 || line.rfind("@keyframes cand-1-", 0) == 0)
            << line;
        line_start = css.find('\n', line_start) + 1;
    }
}

TEST(AnimatedSvg, FitNumbersAndDots) {
    AnimatedSvgOptions opt;
    opt.stroke_numbers = true;
    opt.size_px = 100;
    opt.colour = "#c33";
    // Unit coordinates (as generated strokes come), a dot and an empty polyline (skipped).
    const Strokes unit = {{{0.0f, 0.0f}, {1.0f, 0.0f}}, {}, {{0.5f, 0.5f}}, {{0.0f, 1.0f}, {1.0f, 1.0f}}};
    const std::string svg = strokes_to_animated_svg(unit, opt);
    tinyxml2::XMLDocument doc;
    ASSERT_EQ(doc.Parse(svg.c_str(), svg.size()), tinyxml2::XML_SUCCESS);
    EXPECT_STREQ(doc.RootElement()->Attribute("width"), "100");
    const tinyxml2::XMLElement* group = doc.RootElement()->FirstChildElement("g");
    std::vector<std::string> ds;
    for (const tinyxml2::XMLElement* p = group->FirstChildElement("path"); p; p = p->NextSiblingElement("path"))
        ds.push_back(p->Attribute("d"));
    // The bbox fills the canvas less the 9-unit margin; the dot is a zero-length segment.
    EXPECT_EQ(ds, (std::vector<std::string>{"M9,9 L100,9", "M54.5,54.5 L54.5,54.5", "M9,100 L100,100"}));
    EXPECT_EQ(css_value(svg, ".k2k-strokes", "stroke"), "#c33");
    // The dot is timed as if stroke_width (3) long: it does not flash by in no time.
    EXPECT_GT(seconds(css_value(svg, "#k2k-s2", "animation-duration")), 0.0);
    const tinyxml2::XMLElement* numbers = group->NextSiblingElement("g");
    ASSERT_NE(numbers, nullptr);
    EXPECT_STREQ(numbers->Attribute("class"), "k2k-numbers");
    int n = 0;
    for (const tinyxml2::XMLElement* t = numbers->FirstChildElement("text"); t; t = t->NextSiblingElement("text")) {
        EXPECT_EQ(std::string(t->GetText()), std::to_string(++n));
        EXPECT_GE(t->DoubleAttribute("x"), 0.0);
        EXPECT_LE(t->DoubleAttribute("x"), 109.0);
    }
    EXPECT_EQ(n, 3);
}

TEST(AnimatedSvg, EmptyDrawingIsAValidEmptySvg) {
    AnimatedSvgOptions opt;
    opt.stroke_numbers = true;
    opt.loop = true;
    for (const Strokes& empty : {Strokes{}, Strokes{{}, {}}}) {
        const std::string svg = strokes_to_animated_svg(empty, opt);
        tinyxml2::XMLDocument doc;
        ASSERT_EQ(doc.Parse(svg.c_str(), svg.size()), tinyxml2::XML_SUCCESS) << doc.ErrorName();
        const tinyxml2::XMLElement* group = doc.RootElement()->FirstChildElement("g");
        ASSERT_NE(group, nullptr);
        EXPECT_EQ(group->FirstChildElement(), nullptr);
        EXPECT_EQ(svg.find("@keyframes"), std::string::npos);
    }
}

TEST(AnimatedSvg, BadOptionsAndPoints) {
    auto error = [](const Strokes& s, const AnimatedSvgOptions& o) {
        return test::error_of([&] { strokes_to_animated_svg(s, o); });
    };
    AnimatedSvgOptions o;
    o.id_prefix = "1abc";
    EXPECT_EQ(error(three_strokes(), o), "animated svg: id_prefix '1abc' must be a letter followed by letters, digits, '-' or '_'");
    o.id_prefix = "a b";
    EXPECT_EQ(error(three_strokes(), o), "animated svg: id_prefix 'a b' must be a letter followed by letters, digits, '-' or '_'");
    o = AnimatedSvgOptions{};
    for (const char* bad : {"red;}", "#12", "#ggg", "", "rgb(1,2,3)"})
        EXPECT_EQ(error(three_strokes(), [&] { AnimatedSvgOptions c; c.colour = bad; return c; }()),
                  std::string("animated svg: colour '") + bad + "' must be #rgb, #rrggbb or a colour name (letters only)");
    o.stroke_seconds = 0;
    EXPECT_EQ(error(three_strokes(), o), "animated svg: stroke_seconds must be a positive number, got 0");
    o = AnimatedSvgOptions{};
    o.loop_pause_seconds = -1;
    EXPECT_EQ(error(three_strokes(), o), "animated svg: loop_pause_seconds must be 0 or more, got -1");
    o = AnimatedSvgOptions{};
    o.size_px = 0;
    EXPECT_EQ(error(three_strokes(), o), "animated svg: size_px must be positive, got 0");
    o = AnimatedSvgOptions{};
    o.stroke_width = 0;
    EXPECT_EQ(error(three_strokes(), o), "animated svg: stroke_width must be a positive number, got 0");
    o = AnimatedSvgOptions{};
    Strokes bad = three_strokes();
    bad[1][1].y = std::nanf("");
    EXPECT_EQ(error(bad, o), "animated svg: stroke 2 point 2 is not finite");
    o.margin = 60;
    EXPECT_EQ(error(three_strokes(), o), "svg export: margin 60 leaves no room on a canvas of 109 (need 0 <= margin < canvas / 2)");
}

}  // namespace
}  // namespace k2k
