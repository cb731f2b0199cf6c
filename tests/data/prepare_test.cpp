// Tests for data/prepare.h on small trees written by the test: both sources follow one policy for
// unreadable files (skipped with a warning and counted, an error when nothing is left or when
// more than PrepareOptions::max_failed_fraction of a source fails).
#include "data/prepare.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "data/png_io.h"
#include "test_support.h"
#include "util/error.h"
#include "util/fs.h"

namespace k2k {
namespace {

Image pattern(int seed) {
    Image img(64, 64);
    for (int y = 0; y < 64; ++y)
        for (int x = 0; x < 64; ++x) img.at(x, y) = uint8_t((x * 7 + y * 13 + seed * 29) % 256);
    img.at(0, 0) = 255;
    return img;
}

void write_text(const std::string& path, const std::string& text) { write_file_atomic(path, text); }

// dir/U+4E00/NNNN.png: `good` readable 64x64 images.
std::string kkanji_tree(const std::string& root, int good) {
    const std::string dir = root + "/kkanji2";
    for (int i = 0; i < good; ++i) {
        char name[32];
        std::snprintf(name, sizeof(name), "/U+4E00/%04d.png", i);
        write_png_gray(dir + name, pattern(i));
    }
    return dir;
}

// dir/0XXXX.svg: `good` copies of the fixture under distinct code points (the file name wins).
std::string kanjivg_tree(const std::string& root, int good) {
    const std::string dir = root + "/kanji";
    const std::string fixture = read_file_text(test::fixtures_dir() + "/svg/04e8c.svg");
    for (int i = 0; i < good; ++i) {
        char name[32];
        std::snprintf(name, sizeof(name), "/%05x.svg", 0x4E00 + i);
        write_text(dir + name, fixture);
    }
    return dir;
}

PrepareOptions options(const std::string& kanjivg, const std::string& kkanji) {
    PrepareOptions o;
    o.kanjivg_dir = kanjivg;
    o.kkanji_dir = kkanji;
    o.threads = 2;
    return o;
}

// One bad PNG used to abort the whole prepare, while a bad SVG was skipped.
TEST(Prepare, OneBadPngAmongManyIsSkippedAndCounted) {
    const std::string root = test::make_temp_dir("prepare_png");
    const std::string dir = kkanji_tree(root, 200);
    write_text(dir + "/U+4E00/0100x.png", "not a png at all");
    PrepareReport rep;
    Dataset ds = prepare_dataset(options("", dir), &rep);
    EXPECT_EQ(ds.num_old(), 200u);
    EXPECT_EQ(ds.meta.old_skipped, 1u);
    EXPECT_EQ(rep.old_files, 201u);
    EXPECT_EQ(rep.old_failed, std::vector<std::string>{dir + "/U+4E00/0100x.png: not a PNG file (bad signature)"});
    testing::internal::CaptureStderr();
    print_skipped_files(rep);
    EXPECT_EQ(testing::internal::GetCapturedStderr(),
              "warning: skipped " + dir + "/U+4E00/0100x.png: not a PNG file (bad signature)\n");
    test::remove_tree(root);
}

TEST(Prepare, TooManyBadPngsIsAnError) {
    const std::string root = test::make_temp_dir("prepare_png_many");
    const std::string dir = kkanji_tree(root, 4);
    write_text(dir + "/U+4E00/0002x.png", "not a png at all");
    EXPECT_EQ(test::error_of([&] { prepare_dataset(options("", dir)); }),
              dir + ": 1 of 5 Kuzushiji-Kanji images could not be read (more than the 1% allowed); first: " + dir +
                  "/U+4E00/0002x.png: not a PNG file (bad signature)");
    test::remove_tree(root);
}

TEST(Prepare, NoUsableImageIsAnError) {
    const std::string root = test::make_temp_dir("prepare_png_none");
    const std::string dir = root + "/kkanji2";
    write_png_gray(dir + "/U+4E00/a.png", Image(64, 64, 0));  // all black: left out
    write_png_gray(dir + "/U+4E00/b.png", Image(64, 64, 0));
    EXPECT_EQ(test::error_of([&] { prepare_dataset(options("", dir)); }),
              dir + ": no usable Kuzushiji-Kanji images among 2 (0 could not be read, 2 all black)");
    test::remove_tree(root);
}

// Every SVG failing used to give exit 0 and an empty cache.
TEST(Prepare, EverySvgFailingIsAnError) {
    const std::string root = test::make_temp_dir("prepare_svg_none");
    const std::string dir = root + "/kanji";
    write_text(dir + "/04e00.svg", "just text");
    write_text(dir + "/04e01.svg", "<html/>");
    EXPECT_EQ(test::error_of([&] { prepare_dataset(options(dir, "")); }),
              dir + ": no usable KanjiVG files among 2 (2 could not be read); first: " + dir +
                  "/04e00.svg: not valid XML (XML_ERROR_PARSING_TEXT at line 1)");
    test::remove_tree(root);
}

TEST(Prepare, OneBadSvgAmongManyIsSkippedAndCounted) {
    const std::string root = test::make_temp_dir("prepare_svg");
    const std::string dir = kanjivg_tree(root, 150);
    write_text(dir + "/05000.svg", "just text");
    PrepareReport rep;
    Dataset ds = prepare_dataset(options(dir, ""), &rep);
    EXPECT_EQ(ds.num_modern(), 150u);
    EXPECT_EQ(ds.meta.modern_skipped, 1u);
    ASSERT_EQ(rep.modern_failed.size(), 1u);
    EXPECT_EQ(rep.modern_failed[0], dir + "/05000.svg: not valid XML (XML_ERROR_PARSING_TEXT at line 1)");
    test::remove_tree(root);
}

TEST(Prepare, TooManyBadSvgsIsAnError) {
    const std::string root = test::make_temp_dir("prepare_svg_many");
    const std::string dir = kanjivg_tree(root, 3);
    write_text(dir + "/05000.svg", "just text");
    EXPECT_EQ(test::error_of([&] { prepare_dataset(options(dir, "")); }),
              dir + ": 1 of 4 KanjiVG files could not be read (more than the 1% allowed); first: " + dir +
                  "/05000.svg: not valid XML (XML_ERROR_PARSING_TEXT at line 1)");
    test::remove_tree(root);
}

}  // namespace
}  // namespace k2k
