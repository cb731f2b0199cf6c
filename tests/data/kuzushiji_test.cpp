// Tests for data/kuzushiji.h: a fake kkanji2 tree written by the test (ordering, ignored entries,
// blank images, error messages), and the real staged subset when ../shared/data has it.
#include "data/kuzushiji.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <string>

#include "data/png_io.h"
#include "test_support.h"
#include "util/error.h"

namespace k2k {
namespace {

namespace fs = std::filesystem;

// A 64x64 image whose pixels depend on `seed`, never all black.
Image pattern(int seed, int w = 64, int h = 64) {
    Image img(w, h);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) img.at(x, y) = uint8_t((x * 7 + y * 13 + seed * 29) % 256);
    img.at(0, 0) = 255;
    return img;
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
}

// root/kkanji2 with two classes, a blank image, and things the reader must ignore.
std::string make_fake_tree() {
    std::string root = test::make_temp_dir("kkanji");
    std::string k = root + "/kkanji2";
    write_png_gray(k + "/U+5B57/b0.png", pattern(2));
    write_png_gray(k + "/U+5B57/a0.png", pattern(1));
    write_png_gray(k + "/U+5B57/c0.png", Image(64, 64, 0));  // all black: skipped
    write_png_gray(k + "/U+4E00/ff.png", pattern(3));
    write_png_gray(k + "/U+20B9F/01.png", pattern(4));       // 5 hex digits sort after 4E00 and 5B57
    write_png_gray(k + "/U+6F22/00.png", Image(64, 64, 0));  // class with only a blank image
    write_text(k + "/U+5B57/notes.txt", "not an image");
    write_text(k + "/PROVENANCE.md", "# provenance");
    write_text(k + "/classes.csv", "codepoint,char\n");
    write_png_gray(k + "/extra/U+0041.png", pattern(5));     // not a U+ folder
    write_png_gray(k + "/U+12/x.png", pattern(6));           // too few digits
    write_png_gray(k + "/U+1234567/x.png", pattern(7));      // too many digits
    write_text(k + "/U+3042", "a file, not a folder");
    return root;
}

TEST(Kuzushiji, ParseCodepointLabel) {
    uint32_t cp = 0;
    EXPECT_TRUE(parse_codepoint_label("U+5B57", &cp));
    EXPECT_EQ(cp, 0x5B57u);
    EXPECT_TRUE(parse_codepoint_label("U+241C6", &cp));
    EXPECT_EQ(cp, 0x241C6u);
    EXPECT_TRUE(parse_codepoint_label("U+10FFFF", &cp));
    EXPECT_EQ(cp, 0x10FFFFu);
    EXPECT_TRUE(parse_codepoint_label("U+fa55", &cp));
    EXPECT_EQ(cp, 0xFA55u);
    cp = 7;
    for (const char* bad : {"U+110000", "U+5B5", "U+1234567", "u+5B57", "U-5B57", "U+5G57", "U+", "5B57",
                            "PROVENANCE.md", "U+5B57.png", ""})
        EXPECT_FALSE(parse_codepoint_label(bad, &cp)) << bad;
    EXPECT_EQ(cp, 7u);  // untouched on failure
}

TEST(Kuzushiji, ParseCharacterArgument) {
    EXPECT_EQ(parse_character_arg("U+5B57", "--kanji"), 0x5B57u);
    EXPECT_EQ(parse_character_arg("\xE5\xAD\x97", "--kanji"), 0x5B57u);          // 字
    EXPECT_EQ(parse_character_arg("\xF0\xA4\x87\x86", "--kanji"), 0x241C6u);    // 4-byte UTF-8
    for (const char* bad : {"", "U+5B5", "\xE5\xAD", "\xE5\xAD\x97\xE5\xAD\x97", "\xE5\x41\x97", "ab"}) {
        try {
            parse_character_arg(bad, "--kanji");
            ADD_FAILURE() << "accepted '" << bad << "'";
        } catch (const Error& e) {
            EXPECT_EQ(std::string(e.what()).rfind("--kanji: '", 0), 0u) << e.what();
        }
    }
}

void expect_fake_tree(const KuzushijiSet& set) {
    ASSERT_EQ(set.images.size(), 4u);
    EXPECT_EQ(set.images[0].name, "U+4E00/ff.png");
    EXPECT_EQ(set.images[1].name, "U+5B57/a0.png");
    EXPECT_EQ(set.images[2].name, "U+5B57/b0.png");
    EXPECT_EQ(set.images[3].name, "U+20B9F/01.png");
    EXPECT_EQ(set.images[0].codepoint, 0x4E00u);
    EXPECT_EQ(set.images[1].codepoint, 0x5B57u);
    EXPECT_EQ(set.images[2].codepoint, 0x5B57u);
    EXPECT_EQ(set.images[3].codepoint, 0x20B9Fu);
    const int seeds[] = {3, 1, 2, 4};
    for (size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(set.images[i].image.width, 64);
        EXPECT_EQ(set.images[i].image.height, 64);
        EXPECT_EQ(set.images[i].image.pixels, pattern(seeds[i]).pixels) << set.images[i].name;
    }
    EXPECT_EQ(set.num_classes, 3u);  // U+6F22 holds only a blank image
    EXPECT_EQ(set.num_folders, 4u);
    EXPECT_EQ(set.skipped_blank, 2u);
    EXPECT_EQ(set.skipped_files, (std::vector<std::string>{"U+5B57/c0.png", "U+6F22/00.png"}));
}

TEST(Kuzushiji, ReadsFakeTreeInOrderIgnoringOtherEntries) {
    std::string root = make_fake_tree();
    expect_fake_tree(read_kkanji_dir(root + "/kkanji2", 1));
    expect_fake_tree(read_kkanji_dir(root + "/kkanji2", 3));
    expect_fake_tree(read_kkanji_dir(root + "/kkanji2", 0));
    test::remove_tree(root);
}

TEST(Kuzushiji, AcceptsTheParentFolder) {
    std::string root = make_fake_tree();
    expect_fake_tree(read_kkanji_dir(root, 2));
    test::remove_tree(root);
}

// A bad file is left out and listed (prepare_dataset decides whether that is acceptable).
TEST(Kuzushiji, WrongSizeIsListedWithItsName) {
    std::string root = make_fake_tree();
    std::string k = root + "/kkanji2";
    write_png_gray(k + "/U+5B57/d0.png", pattern(8, 32, 48));
    for (const std::string& arg : {k, k + "/"}) {  // no doubled slash
        KuzushijiSet set = read_kkanji_dir(arg, 2);
        EXPECT_EQ(set.failed, std::vector<std::string>{k + "/U+5B57/d0.png: expected a 64x64 image, found 32x48"});
        EXPECT_EQ(set.num_files, 7u);
        EXPECT_EQ(set.images.size(), 4u);
        EXPECT_EQ(set.skipped_blank, 2u);
    }
    test::remove_tree(root);
}

TEST(Kuzushiji, ListsEveryBadFileInOrderWhateverTheThreads) {
    std::string root = test::make_temp_dir("kkanji_bad");
    // Many good files so that several threads run, bad ones near both ends.
    for (int i = 0; i < 600; ++i) {
        char name[32];
        std::snprintf(name, sizeof(name), "/U+4E00/%04d.png", i);
        write_png_gray(root + name, pattern(i));
    }
    write_text(root + "/U+4E00/0100.png", "not a png at all");
    write_png_gray(root + "/U+4E00/0550.png", pattern(1, 63, 64));
    for (int threads : {1, 2, 4}) {
        KuzushijiSet set = read_kkanji_dir(root, threads);
        EXPECT_EQ(set.failed, (std::vector<std::string>{root + "/U+4E00/0100.png: not a PNG file (bad signature)",
                                                        root + "/U+4E00/0550.png: expected a 64x64 image, found 63x64"}))
            << threads << " threads";
        EXPECT_EQ(set.images.size(), 598u) << threads << " threads";
        EXPECT_EQ(set.num_files, 600u);
    }
    test::remove_tree(root);
}

TEST(Kuzushiji, MissingOrEmptyRoot) {
    std::string root = test::make_temp_dir("kkanji_empty");
    write_text(root + "/README", "nothing here");
    EXPECT_EQ(test::error_of([&] { read_kkanji_dir(root); }),
              root + ": no U+XXXX class folders (expected the kkanji2 folder of the Kuzushiji-Kanji archive)");
    EXPECT_EQ(test::error_of([&] { read_kkanji_dir(root + "/absent"); }),
              root + "/absent: not a folder (expected the kkanji2 folder of the Kuzushiji-Kanji archive)");
    test::remove_tree(root);
}

// The staged subset: kkanji2/PROVENANCE.md gives 42,562 images in 3,831 classes, none blank;
// classes.csv gives each class's count.
TEST(Kuzushiji, RealSharedSubset) {
    K2K_REQUIRE_SHARED_DATA("kkanji2");
    std::string dir = test::shared_data_dir() + "/kkanji2";
    auto start = std::chrono::steady_clock::now();
    KuzushijiSet set = read_kkanji_dir(dir, 2);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "[kkanji2] " << set.images.size() << " images, " << set.num_classes << " classes in " << seconds
              << " s on 2 threads\n";
    EXPECT_EQ(set.images.size(), 42562u);
    EXPECT_EQ(set.num_classes, 3831u);
    EXPECT_EQ(set.num_folders, 3831u);
    EXPECT_EQ(set.skipped_blank, 0u);

    std::map<uint32_t, size_t> counts;
    double ink = 0;
    for (size_t i = 0; i < set.images.size(); ++i) {
        const KuzushijiImage& im = set.images[i];
        counts[im.codepoint]++;
        if (i > 0) {
            const KuzushijiImage& prev = set.images[i - 1];
            ASSERT_TRUE(prev.codepoint < im.codepoint || (prev.codepoint == im.codepoint && prev.name < im.name))
                << prev.name << " before " << im.name;
        }
        for (uint8_t p : im.image.pixels) ink += p;
    }
    // White ink on black: the mean pixel is well below mid-grey.
    EXPECT_LT(ink / (double(set.images.size()) * 4096.0), 100.0);

    std::ifstream csv(dir + "/classes.csv");
    std::string line;
    std::getline(csv, line);
    EXPECT_EQ(line, "codepoint,char,full_dataset_count,shared_count,kanjivg_file");
    size_t rows = 0;
    while (std::getline(csv, line)) {
        // codepoint,char,full_dataset_count,shared_count,kanjivg_file
        size_t c1 = line.find(','), c2 = line.find(',', c1 + 1), c3 = line.find(',', c2 + 1),
               c4 = line.find(',', c3 + 1);
        uint32_t cp = 0;
        ASSERT_TRUE(parse_codepoint_label(line.substr(0, c1), &cp)) << line;
        EXPECT_EQ(counts[cp], std::stoul(line.substr(c3 + 1, c4 - c3 - 1))) << line;
        rows++;
    }
    EXPECT_EQ(rows, counts.size());
}

}  // namespace
}  // namespace k2k
