// Tests for the KanjiVG reader (src/data/kanjivg.h): a hand-written fixture in the KanjiVG
// layout, file-name helpers, exact error messages, and the whole real corpus when present.
#include "data/kanjivg.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_support.h"
#include "util/error.h"
#include "util/fs.h"

namespace k2k {
namespace {

std::string fixture_path() { return test::fixtures_dir() + "/svg/04e8c.svg"; }

// A minimal KanjiVG-like document around the given contents of the StrokePaths group.
std::string svg_with(const std::string& group_contents, const std::string& group_id = "kvg:StrokePaths_04e8c") {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"109\" height=\"109\" viewBox=\"0 0 109 109\">\n"
           "<g id=\"" + group_id + "\">\n" + group_contents + "\n</g>\n</svg>\n";
}

std::string error_of_text(const std::string& xml, const std::string& name) {
    try {
        parse_kanjivg_svg(xml, name);
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(KanjiVg, FixtureGivesStrokesInOrder) {
    KanjiVgChar c = read_kanjivg_file(fixture_path());
    EXPECT_EQ(c.codepoint, 0x4E8Cu);
    EXPECT_EQ(c.element, "二");
    EXPECT_FALSE(c.element_mismatch);
    EXPECT_EQ(c.variant, "");
    EXPECT_EQ(c.file, "04e8c.svg");
    // Two <path>s (one nested in a sub-group); the two <text> stroke numbers are not strokes.
    ASSERT_EQ(c.strokes.size(), 2u);
    ASSERT_EQ(c.stroke_ids, (std::vector<std::string>{"kvg:04e8c-s1", "kvg:04e8c-s2"}));
    const Polyline& s1 = c.strokes[0];
    ASSERT_GE(s1.size(), 3u);  // a curve, flattened
    EXPECT_FLOAT_EQ(s1.front().x, 20);
    EXPECT_FLOAT_EQ(s1.front().y, 30);
    EXPECT_FLOAT_EQ(s1.back().x, 80);
    EXPECT_FLOAT_EQ(s1.back().y, 30);
    for (const Point& p : s1) EXPECT_LE(p.y, 30.0f);  // the curve bows upwards (smaller y)
    const Polyline& s2 = c.strokes[1];
    ASSERT_EQ(s2.size(), 2u);
    EXPECT_FLOAT_EQ(s2[0].x, 10);
    EXPECT_FLOAT_EQ(s2[0].y, 80);
    EXPECT_FLOAT_EQ(s2[1].x, 95);
    EXPECT_FLOAT_EQ(s2[1].y, 79);
}

TEST(KanjiVg, ToleranceReachesThePathParser) {
    SvgPathOptions fine;
    fine.tolerance = 0.001f;
    SvgPathOptions coarse;
    coarse.tolerance = 1.0f;
    EXPECT_GT(read_kanjivg_file(fixture_path(), fine).strokes[0].size(),
              read_kanjivg_file(fixture_path(), coarse).strokes[0].size());
}

TEST(KanjiVg, ParsesFromMemoryWithVariantName) {
    std::string text = read_file_text(fixture_path());
    KanjiVgChar c = parse_kanjivg_svg(text, "04e8c-Kaisho.svg");
    EXPECT_EQ(c.codepoint, 0x4E8Cu);
    EXPECT_EQ(c.variant, "Kaisho");
    EXPECT_EQ(c.file, "04e8c-Kaisho.svg");
    EXPECT_EQ(c.strokes.size(), 2u);
}

TEST(KanjiVg, CodePointFromGroupIdWhenNameIsNotKanjiVg) {
    KanjiVgChar c = parse_kanjivg_svg(svg_with("<path id=\"a\" d=\"M1 2 L3 4\"/>", "kvg:StrokePaths_05b57-HzFst"),
                                      "drawing.svg");
    EXPECT_EQ(c.codepoint, 0x5B57u);
    EXPECT_EQ(c.variant, "HzFst");
    EXPECT_EQ(c.file, "drawing.svg");
    EXPECT_EQ(c.element, "");  // no top-level <g>, so no kvg:element
    EXPECT_FALSE(c.element_mismatch);
}

TEST(KanjiVg, ElementMismatchIsFlaggedNotThrown) {
    std::string xml = svg_with("<g id=\"kvg:04e8c\" kvg:element=\"三\"><path id=\"a\" d=\"M1 2 L3 4\"/></g>");
    KanjiVgChar c = parse_kanjivg_svg(xml, "04e8c.svg");
    EXPECT_EQ(c.element, "三");
    EXPECT_TRUE(c.element_mismatch);
    EXPECT_EQ(c.codepoint, 0x4E8Cu);  // the file name wins
}

TEST(KanjiVg, SeveralSubpathsAreJoinedIntoOneStroke) {
    KanjiVgChar c = parse_kanjivg_svg(svg_with("<path id=\"a\" d=\"M1 2 L3 4 M5 6 L7 8\"/><path d=\"M0 0 L1 1\"/>"),
                                      "04e8c.svg");
    ASSERT_EQ(c.strokes.size(), 2u);
    ASSERT_EQ(c.strokes[0].size(), 4u);
    EXPECT_FLOAT_EQ(c.strokes[0][2].x, 5);
    EXPECT_FLOAT_EQ(c.strokes[0][3].y, 8);
    // A path without an id is named by its stroke number.
    EXPECT_EQ(c.stroke_ids, (std::vector<std::string>{"a", "#2"}));
}

TEST(KanjiVg, ErrorsNameTheFileAndCause) {
    EXPECT_EQ(error_of_text("<svg><g id=\"kvg:StrokePaths_04e8c\"><path id=\"s1\" d=\"M1 2 L3\"/>", "04e8c.svg"),
              "04e8c.svg: not valid XML (XML_ERROR_PARSING at line 1)");
    EXPECT_EQ(error_of_text("just text", "04e8c.svg"), "04e8c.svg: not valid XML (XML_ERROR_PARSING_TEXT at line 1)");
    EXPECT_EQ(error_of_text("", "04e8c.svg"), "04e8c.svg: not valid XML (XML_ERROR_EMPTY_DOCUMENT at line 0)");
    EXPECT_EQ(error_of_text("<html/>", "04e8c.svg"), "04e8c.svg: root element is <html>, expected <svg>");
    EXPECT_EQ(error_of_text(svg_with("<path d=\"M1 2 L3 4\"/>", "kvg:StrokeNumbers_04e8c"), "04e8c.svg"),
              "04e8c.svg: no <g id=\"kvg:StrokePaths_...\"> group under <svg>");
    EXPECT_EQ(error_of_text(svg_with("<g id=\"kvg:04e8c\"/>"), "04e8c.svg"),
              "04e8c.svg: the kvg:StrokePaths_04e8c group has no <path>");
    EXPECT_EQ(error_of_text(svg_with("<path id=\"kvg:04e8c-s1\"/>"), "04e8c.svg"),
              "04e8c.svg: path kvg:04e8c-s1: no 'd' attribute");
    EXPECT_EQ(error_of_text(svg_with("<path id=\"kvg:04e8c-s1\" d=\" \"/>"), "04e8c.svg"),
              "04e8c.svg: path kvg:04e8c-s1: path data draws nothing");
    EXPECT_EQ(error_of_text(svg_with("<path id=\"kvg:04e8c-s1\" d=\"M1 2 L3 4\"/><path id=\"kvg:04e8c-s2\" d=\"M1 2 C3\"/>"),
                            "04e8c.svg"),
              "04e8c.svg: path kvg:04e8c-s2: offset 7: expected a number for argument 2 of 'C', found end of data");
    EXPECT_EQ(error_of_text(svg_with("<path d=\"M1 2 L3 4\"/>", "kvg:StrokePaths_x"), "drawing.svg"),
              "drawing.svg: cannot tell the code point (the name is not like 05b57[-Variant].svg and the group id "
              "is 'kvg:StrokePaths_x')");
}

TEST(KanjiVg, PointLimitCountsEveryPathOfTheFile) {
    // Each of these paths flattens to 65537 points, within SvgPathOptions::max_points (100000);
    // the two together are not (without the file total, N such paths took N times the memory).
    const std::string arc = "d=\"M0 0 a9e9 9 0 1 1 1 1\"/>";
    EXPECT_EQ(parse_kanjivg_svg(svg_with("<path id=\"s1\" " + arc), "04e8c.svg").strokes[0].size(), 65537u);
    EXPECT_EQ(error_of_text(svg_with("<path id=\"s1\" " + arc + "<g><path id=\"s2\" " + arc + "</g>"), "04e8c.svg"),
              "04e8c.svg: path s2: the paths flatten to more than 100000 points in all (SvgPathOptions::max_points)");
    // The caller's limit applies to the file: three 2-point strokes fit in 6, not in 5.
    const std::string three = "<path d=\"M0 0 L1 1\"/><path d=\"M0 0 L1 1\"/><path id=\"s3\" d=\"M0 0 L1 1\"/>";
    SvgPathOptions opt;
    opt.max_points = 6;
    EXPECT_EQ(parse_kanjivg_svg(svg_with(three), "04e8c.svg", opt).strokes.size(), 3u);
    opt.max_points = 5;
    try {
        parse_kanjivg_svg(svg_with(three), "04e8c.svg", opt);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "04e8c.svg: path s3: the paths flatten to more than 5 points in all (SvgPathOptions::max_points)");
    }
}

TEST(KanjiVg, ReadErrorsNameThePath) {
    std::string dir = test::make_temp_dir("kanjivg");
    try {
        read_kanjivg_file(dir + "/05b57.svg");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), dir + "/05b57.svg: cannot open (No such file or directory)");
    }
    write_file_atomic(dir + "/05b57.svg", svg_with("<path id=\"s1\" d=\"L1 2\"/>"));
    try {
        read_kanjivg_file(dir + "/05b57.svg");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  dir + "/05b57.svg: path s1: offset 0: path data must start with 'M' or 'm', found 'L'");
    }
    test::remove_tree(dir);
}

TEST(KanjiVg, ListsSvgFilesSortedByName) {
    std::string dir = test::make_temp_dir("kanjivg_list");
    for (const char* name : {"05b57.svg", "04e00.svg", "05b57-Kaisho.svg", "notes.txt"})
        write_file_atomic(dir + "/" + name, std::string("x"));
    std::filesystem::create_directories(dir + "/sub.svg");
    std::vector<std::string> files = list_kanjivg_files(dir);
    std::string d = (std::filesystem::path(dir) / "").string();
    EXPECT_EQ(files, (std::vector<std::string>{d + "04e00.svg", d + "05b57-Kaisho.svg", d + "05b57.svg"}));
    test::remove_tree(dir);
    try {
        list_kanjivg_files(dir);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), dir + ": not a folder (KanjiVG kanji/ folder expected)");
    }
}

TEST(KanjiVg, FileNames) {
    EXPECT_EQ(kanjivg_base_filename(0x5B57), "05b57.svg");
    EXPECT_EQ(kanjivg_base_filename(0x41), "00041.svg");
    EXPECT_EQ(kanjivg_base_filename(0x20B9F), "20b9f.svg");

    uint32_t cp = 0;
    std::string variant = "unchanged";
    EXPECT_TRUE(parse_kanjivg_filename("05b57.svg", &cp, &variant));
    EXPECT_EQ(cp, 0x5B57u);
    EXPECT_EQ(variant, "");
    EXPECT_TRUE(parse_kanjivg_filename("05b57-Kaisho.svg", &cp, &variant));
    EXPECT_EQ(variant, "Kaisho");
    EXPECT_TRUE(parse_kanjivg_filename("06f22-HyougaiKaishoVt3.svg", &cp, &variant));
    EXPECT_EQ(cp, 0x6F22u);
    EXPECT_EQ(variant, "HyougaiKaishoVt3");
    EXPECT_TRUE(parse_kanjivg_filename("20B9F.svg", &cp, nullptr));
    EXPECT_EQ(cp, 0x20B9Fu);
    EXPECT_TRUE(parse_kanjivg_filename("00041.svg", nullptr, nullptr));

    cp = 7;
    variant = "unchanged";
    for (const char* bad : {"05b57.png", ".svg", "05b57-.svg", "05b57_Kaisho.svg", "05b57-Kai sho.svg", "xyz.svg",
                            "1234567.svg", "110000.svg", "0d800.svg", "dir/05b57.svg", "05b57.svg.bak"}) {
        EXPECT_FALSE(parse_kanjivg_filename(bad, &cp, &variant)) << bad;
    }
    EXPECT_EQ(cp, 7u);
    EXPECT_EQ(variant, "unchanged");
}

TEST(KanjiVg, CodePointText) {
    EXPECT_EQ(codepoint_to_utf8(0x41), "A");
    EXPECT_EQ(codepoint_to_utf8(0xE9), "\xC3\xA9");
    EXPECT_EQ(codepoint_to_utf8(0x5B57), "字");
    EXPECT_EQ(codepoint_to_utf8(0x20B9F), "𠮟");
    EXPECT_EQ(codepoint_label(0x5B57), "U+5B57");
    EXPECT_EQ(codepoint_label(0x41), "U+0041");
    EXPECT_EQ(codepoint_label(0x20B9F), "U+20B9F");
    try {
        codepoint_to_utf8(0xD800);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "codepoint_to_utf8: U+D800 is a surrogate, not a character");
    }
    try {
        codepoint_to_utf8(0x110000);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "codepoint_to_utf8: U+110000 is above U+10FFFF");
    }
}

// ---- real data: ../shared/data/kanjivg/kanji (KanjiVG at the commit in its PROVENANCE.md) ----

std::string kanji_dir() { return test::shared_data_dir() + "/kanjivg/kanji"; }

TEST(KanjiVgRealData, WellKnownStrokeCounts) {
    K2K_REQUIRE_SHARED_DATA("kanjivg/kanji");
    struct Case {
        uint32_t codepoint;
        size_t strokes;
    };
    // 字 6, 一 1, 書 10, 永 5, 木 4, 漢 13, 鬱 29, あ 3
    for (Case k : std::vector<Case>{{0x5B57, 6}, {0x4E00, 1}, {0x66F8, 10}, {0x6C38, 5}, {0x6728, 4},
                                    {0x6F22, 13}, {0x9B31, 29}, {0x3042, 3}}) {
        KanjiVgChar c = read_kanjivg_file(kanji_dir() + "/" + kanjivg_base_filename(k.codepoint));
        EXPECT_EQ(c.strokes.size(), k.strokes) << codepoint_label(k.codepoint);
        EXPECT_EQ(c.codepoint, k.codepoint);
        EXPECT_EQ(c.element, codepoint_to_utf8(k.codepoint));
        EXPECT_EQ(c.variant, "");
    }
    KanjiVgChar ji = read_kanjivg_file(kanji_dir() + "/05b57.svg");
    for (size_t i = 0; i < ji.stroke_ids.size(); i++) EXPECT_EQ(ji.stroke_ids[i], "kvg:05b57-s" + std::to_string(i + 1));
    // The first stroke of 字 is the dot at the top: it starts at M52.73,9.5.
    EXPECT_FLOAT_EQ(ji.strokes[0].front().x, 52.73f);
    EXPECT_FLOAT_EQ(ji.strokes[0].front().y, 9.5f);
}

TEST(KanjiVgRealData, KaishoVariant) {
    K2K_REQUIRE_SHARED_DATA("kanjivg/kanji");
    KanjiVgChar c = read_kanjivg_file(kanji_dir() + "/05b57-Kaisho.svg");
    EXPECT_EQ(c.codepoint, 0x5B57u);
    EXPECT_EQ(c.variant, "Kaisho");
    EXPECT_EQ(c.element, "字");
    EXPECT_EQ(c.file, "05b57-Kaisho.svg");
    EXPECT_EQ(c.strokes.size(), 6u);
}

TEST(KanjiVgRealData, WholeCorpusParses) {
    K2K_REQUIRE_SHARED_DATA("kanjivg/kanji");
    auto t0 = std::chrono::steady_clock::now();
    std::clock_t cpu0 = std::clock();
    std::vector<std::string> files = list_kanjivg_files(kanji_dir());
    size_t base = 0, strokes = 0, points = 0;
    std::vector<std::string> failures, mismatches;
    float min_c = 1e9f, max_c = -1e9f;
    for (const std::string& path : files) {
        try {
            KanjiVgChar c = read_kanjivg_file(path);
            if (c.variant.empty()) base++;
            if (c.element_mismatch) mismatches.push_back(c.file);
            strokes += c.strokes.size();
            for (const Polyline& s : c.strokes) {
                EXPECT_GE(s.size(), 2u) << c.file;
                points += s.size();
                for (const Point& p : s) {
                    min_c = std::min(min_c, std::min(p.x, p.y));
                    max_c = std::max(max_c, std::max(p.x, p.y));
                }
            }
        } catch (const Error& e) {
            failures.push_back(e.what());
        }
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double cpu_seconds = double(std::clock() - cpu0) / CLOCKS_PER_SEC;
    std::printf("KanjiVG: %zu files (%zu base), %zu strokes, %zu points, %zu failures, coordinates %.2f..%.2f, "
                "%.2f s wall / %.2f s CPU single-threaded\n",
                files.size(), base, strokes, points, failures.size(), min_c, max_c, seconds, cpu_seconds);
    for (const std::string& f : failures) std::printf("  failure: %s\n", f.c_str());
    EXPECT_EQ(files.size(), 11662u);
    EXPECT_EQ(base, 6703u);
    EXPECT_TRUE(failures.empty());
    EXPECT_EQ(strokes, 148292u);  // every <path> is one stroke
    // All strokes stay on (or just outside) the 109x109 canvas.
    EXPECT_GT(min_c, -10.0f);
    EXPECT_LT(max_c, 119.0f);
    // The only file whose kvg:element names another character at this commit: 06a45.svg says 機.
    EXPECT_EQ(mismatches, (std::vector<std::string>{"06a45.svg"}));
}

}  // namespace
}  // namespace k2k
