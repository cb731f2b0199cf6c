// Tests for data/cache.h: XXH64 against libxxhash, builder checks, a full round trip, and the
// exact error messages for missing, truncated, corrupt, wrong-magic and wrong-version caches.
#include "data/cache.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "test_support.h"
#include "util/error.h"
#include "util/fs.h"

namespace k2k {
namespace {

namespace fs = std::filesystem;

const std::string kHint = "; re-run 'k2k data prepare'";

std::vector<uint8_t> pattern_bytes(size_t n) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = uint8_t((i * 31 + 7) & 255);
    return v;
}

// Golden values from the system's libxxhash 0.8.1 through Python ctypes:
//   x = ctypes.CDLL('libxxhash.so.0'); x.XXH64.restype = ctypes.c_uint64
//   x.XXH64(bytes(((i*31+7)&255) for i in range(n)), n, seed)
TEST(Xxh64, MatchesReferenceImplementation) {
    EXPECT_EQ(xxh64("", 0), 0xef46db3751d8e999ULL);
    EXPECT_EQ(xxh64("a", 1), 0xd24ec4f1a98c6e5bULL);
    EXPECT_EQ(xxh64("abc", 3), 0x44bc2cf5ad770999ULL);
    const std::pair<size_t, uint64_t> golden[] = {
        {1, 0xa96c7f0ce858bbb7ULL},  {3, 0x56e6957632a487f9ULL},  {4, 0xc60d15b1e3ff8f04ULL},
        {7, 0xafbefc3d6c6f9a8eULL},  {8, 0x3da5c7aa269683e0ULL},  {31, 0x4a74f3a1a39ad4a1ULL},
        {32, 0x8d57d6a4671cc43dULL}, {33, 0x62c9fd21ed857664ULL}, {63, 0x5c320a0d2707057fULL},
        {64, 0x7bbabbc45729d17eULL}, {100, 0xefa0ad2d3e70c151ULL}, {1000, 0x99594f4828043d35ULL}};
    std::vector<uint8_t> data = pattern_bytes(1000);
    for (const auto& g : golden) EXPECT_EQ(xxh64(data.data(), g.first), g.second) << g.first << " bytes";
    EXPECT_EQ(xxh64(data.data(), 100, 12345), 0x4f2e446ab943e539ULL);
}

TEST(Xxh64, StreamingEqualsOneShot) {
    std::vector<uint8_t> data = pattern_bytes(1000);
    std::mt19937 rng(5);
    for (int trial = 0; trial < 50; ++trial) {
        Xxh64 h;
        size_t pos = 0;
        while (pos < data.size()) {
            size_t n = std::min(data.size() - pos, size_t(rng() % 70));
            h.update(data.data() + pos, n);
            pos += n;
        }
        ASSERT_EQ(h.digest(), 0x99594f4828043d35ULL) << "trial " << trial;
    }
}

Image noise(int size, uint32_t seed) {
    Image img(size, size);
    std::mt19937 rng(seed);
    for (uint8_t& p : img.pixels) p = uint8_t(rng());
    return img;
}

Dataset sample_dataset() {
    Dataset ds;
    ds.meta.raster.size = 16;
    ds.meta.raster.line_width = 1.5f;
    ds.meta.raster.margin = 2.25f;
    ds.meta.raster.canvas = 109.0f;
    ds.meta.raster.fit_bbox = true;
    ds.meta.raster.antialias = false;
    ds.meta.curve_tolerance = 0.125f;
    ds.meta.val_ratio = 0.05;
    ds.meta.test_ratio = 0.15;
    ds.meta.modern_skipped = 3;
    ds.meta.old_skipped = 28;
    ds.meta.modern_source = "/data/kanjivg/kanji";
    ds.meta.old_source = "/data/kkanji2";
    Strokes s1 = {{{1.f, 2.f}, {3.5f, 4.f}, {5.f, 6.25f}}, {{10.f, 11.f}}};
    Strokes s2 = {};
    Strokes s3 = {{{0.f, 0.f}, {109.f, 109.f}}, {{-1.f, 2.f}, {3.f, -4.f}, {5.f, 6.f}, {7.f, 8.f}}, {}};
    ds.add_modern(0x5B57, "", "字", Split::Train, s1, noise(16, 1));
    ds.add_modern(0x5B57, "Kaisho", "字", Split::Test, s2, noise(16, 2));
    ds.add_modern(0x20B9F, "", "𠮟", Split::Val, s3, noise(16, 3));
    ds.add_old(0x5B57, "U+5B57/0a1b2c3d4e5f6789.png", Split::Val, noise(16, 4));
    ds.add_old(0xFA55, "U+FA55/ffffffffffffffff.png", Split::Train, noise(16, 5));
    return ds;
}

TEST(Dataset, BuilderAndAccessors) {
    Dataset ds = sample_dataset();
    ASSERT_EQ(ds.num_modern(), 3u);
    ASSERT_EQ(ds.num_old(), 2u);
    EXPECT_EQ(ds.modern_variant(1), "Kaisho");
    EXPECT_EQ(ds.modern_element(2), "𠮟");
    EXPECT_EQ(ds.modern_num_strokes(0), 2u);
    EXPECT_EQ(ds.modern_num_strokes(1), 0u);
    EXPECT_EQ(ds.modern_num_strokes(2), 3u);
    EXPECT_EQ(ds.modern_num_points(0), 4u);
    EXPECT_EQ(ds.modern_num_points(2), 6u);
    Strokes s = ds.modern_strokes(2);
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s[1].size(), 4u);
    EXPECT_EQ(s[1][1].x, 3.f);
    EXPECT_EQ(s[1][1].y, -4.f);
    EXPECT_TRUE(s[2].empty());
    EXPECT_EQ(ds.modern_raster_image(1).pixels, noise(16, 2).pixels);
    EXPECT_EQ(ds.old_image_copy(1).pixels, noise(16, 5).pixels);
    EXPECT_EQ(ds.old_name(0), "U+5B57/0a1b2c3d4e5f6789.png");
    EXPECT_EQ(ds.modern_indices(Split::Train), (std::vector<size_t>{0}));
    EXPECT_EQ(ds.old_indices(Split::Val), (std::vector<size_t>{0}));
    EXPECT_EQ(ds.inconsistency(), "");
}

TEST(Dataset, BuilderRejectsWrongImageSize) {
    Dataset ds;
    EXPECT_EQ(test::error_of([&] { ds.add_modern(0x5B57, "", "字", Split::Train, {}, noise(32, 1)); }),
              "dataset: modern raster of U+5B57 is 32x32, expected 64x64 (meta.raster.size)");
    EXPECT_EQ(test::error_of([&] { ds.add_old(0x4E00, "U+4E00/x.png", Split::Train, Image(64, 63)); }),
              "dataset: old image of U+4E00 is 64x63, expected 64x64 (meta.raster.size)");
    EXPECT_EQ(ds.num_modern(), 0u);
    EXPECT_EQ(ds.num_old(), 0u);
}

TEST(Dataset, InconsistencyIsReported) {
    Dataset ds = sample_dataset();
    ds.old_images.pop_back();
    EXPECT_EQ(ds.inconsistency(), "old images hold 511 bytes, expected 512");
    std::string dir = test::make_temp_dir("cache_bad");
    EXPECT_EQ(test::error_of([&] { save_dataset(dir + "/k2k.cache", ds); }),
              dir + "/k2k.cache: refusing to save an inconsistent dataset (old images hold 511 bytes, expected 512)");
    EXPECT_FALSE(fs::exists(dir + "/k2k.cache"));
    ds = sample_dataset();
    ds.modern_splits[2] = 7;
    EXPECT_EQ(ds.inconsistency(), "modern splits value 7 at 2 is not a split");
    ds = sample_dataset();
    ds.modern_stroke_offsets[2] = 1;
    EXPECT_EQ(ds.inconsistency(), "modern stroke offsets decrease at 2");
    test::remove_tree(dir);
}

void expect_equal(const Dataset& a, const Dataset& b) {
    EXPECT_EQ(a.meta.raster.size, b.meta.raster.size);
    EXPECT_EQ(a.meta.raster.line_width, b.meta.raster.line_width);
    EXPECT_EQ(a.meta.raster.margin, b.meta.raster.margin);
    EXPECT_EQ(a.meta.raster.canvas, b.meta.raster.canvas);
    EXPECT_EQ(a.meta.raster.fit_bbox, b.meta.raster.fit_bbox);
    EXPECT_EQ(a.meta.raster.antialias, b.meta.raster.antialias);
    EXPECT_EQ(a.meta.curve_tolerance, b.meta.curve_tolerance);
    EXPECT_EQ(a.meta.val_ratio, b.meta.val_ratio);
    EXPECT_EQ(a.meta.test_ratio, b.meta.test_ratio);
    EXPECT_EQ(a.meta.modern_skipped, b.meta.modern_skipped);
    EXPECT_EQ(a.meta.old_skipped, b.meta.old_skipped);
    EXPECT_EQ(a.meta.modern_source, b.meta.modern_source);
    EXPECT_EQ(a.meta.old_source, b.meta.old_source);
    EXPECT_EQ(a.modern_codepoints, b.modern_codepoints);
    EXPECT_EQ(a.modern_splits, b.modern_splits);
    EXPECT_EQ(a.modern_variants.chars, b.modern_variants.chars);
    EXPECT_EQ(a.modern_variants.offsets, b.modern_variants.offsets);
    EXPECT_EQ(a.modern_elements.chars, b.modern_elements.chars);
    EXPECT_EQ(a.modern_elements.offsets, b.modern_elements.offsets);
    ASSERT_EQ(a.modern_points.size(), b.modern_points.size());
    for (size_t i = 0; i < a.modern_points.size(); ++i) {
        EXPECT_EQ(a.modern_points[i].x, b.modern_points[i].x) << i;
        EXPECT_EQ(a.modern_points[i].y, b.modern_points[i].y) << i;
    }
    EXPECT_EQ(a.modern_stroke_offsets, b.modern_stroke_offsets);
    EXPECT_EQ(a.modern_char_strokes, b.modern_char_strokes);
    EXPECT_EQ(a.modern_rasters, b.modern_rasters);
    EXPECT_EQ(a.old_codepoints, b.old_codepoints);
    EXPECT_EQ(a.old_splits, b.old_splits);
    EXPECT_EQ(a.old_names.chars, b.old_names.chars);
    EXPECT_EQ(a.old_names.offsets, b.old_names.offsets);
    EXPECT_EQ(a.old_images, b.old_images);
}

TEST(Cache, RoundTripKeepsEveryField) {
    std::string dir = test::make_temp_dir("cache_rt");
    std::string path = dir + "/sub/k2k.cache";  // parent folder is created
    Dataset ds = sample_dataset();
    save_dataset(path, ds);
    Dataset back = load_dataset(path);
    expect_equal(ds, back);
    EXPECT_EQ(back.modern_variant(1), "Kaisho");
    EXPECT_EQ(back.old_name(1), "U+FA55/ffffffffffffffff.png");
    // Atomic write: nothing but the cache is left in its folder.
    size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir + "/sub")) files += e.path().filename() == "k2k.cache" ? 0 : 1;
    EXPECT_EQ(files, 0u);
    // Saving again over it gives the same bytes (the format has no timestamps).
    std::vector<uint8_t> first = read_file_bytes(path);
    save_dataset(path, back);
    EXPECT_EQ(read_file_bytes(path), first);
    test::remove_tree(dir);
}

TEST(Cache, RoundTripEmptyDataset) {
    std::string dir = test::make_temp_dir("cache_empty");
    Dataset ds;
    save_dataset(dir + "/e.cache", ds);
    Dataset back = load_dataset(dir + "/e.cache");
    expect_equal(ds, back);
    EXPECT_EQ(back.num_modern(), 0u);
    EXPECT_EQ(back.num_old(), 0u);
    EXPECT_EQ(back.meta.raster.size, 64);
    test::remove_tree(dir);
}

class CacheErrors : public ::testing::Test {
protected:
    void SetUp() override {
        dir = test::make_temp_dir("cache_err");
        path = dir + "/k2k.cache";
        save_dataset(path, sample_dataset());
        bytes = read_file_bytes(path);
    }
    void TearDown() override { test::remove_tree(dir); }
    void write(const std::vector<uint8_t>& b) { write_file_atomic(path, std::string(b.begin(), b.end())); }
    std::string load_error() {
        return test::error_of([&] { load_dataset(path); });
    }
    std::string dir, path;
    std::vector<uint8_t> bytes;
};

TEST_F(CacheErrors, Missing) {
    EXPECT_EQ(test::error_of([&] { load_dataset(dir + "/absent.cache"); }),
              dir + "/absent.cache: cannot open (No such file or directory); run 'k2k data prepare' first");
}

TEST_F(CacheErrors, FlippedPayloadByteFailsTheChecksum) {
    ASSERT_GT(bytes.size(), 300u);
    uint64_t stored;
    std::memcpy(&stored, bytes.data() + 40, 8);
    bytes[bytes.size() - 100] ^= 0x01;  // inside the old images
    uint64_t computed = xxh64(bytes.data() + 48, bytes.size() - 48);
    char expect[200];
    std::snprintf(expect, sizeof(expect), ": corrupt (checksum mismatch: stored 0x%016llx, computed 0x%016llx)",
                  static_cast<unsigned long long>(stored), static_cast<unsigned long long>(computed));
    write(bytes);
    EXPECT_EQ(load_error(), path + expect + kHint);
}

TEST_F(CacheErrors, Truncated) {
    std::string size = std::to_string(bytes.size());
    write(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 100));
    EXPECT_EQ(load_error(), path + ": truncated (expected " + size + " bytes, found 100)" + kHint);
    write(std::vector<uint8_t>(bytes.begin(), bytes.end() - 1));
    std::string found = std::to_string(bytes.size() - 1);
    EXPECT_EQ(load_error(), path + ": truncated (expected " + size + " bytes, found " + found + ")" + kHint);
    write(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 20));
    EXPECT_EQ(load_error(), path + ": truncated (expected at least 48 bytes, found 20)" + kHint);
    write({});
    EXPECT_EQ(load_error(), path + ": truncated (expected at least 48 bytes, found 0)" + kHint);
}

TEST_F(CacheErrors, TrailingBytes) {
    std::string size = std::to_string(bytes.size());
    bytes.push_back(0);
    write(bytes);
    EXPECT_EQ(load_error(), path + ": corrupt (expected " + size + " bytes, found " + std::to_string(bytes.size()) +
                                ")" + kHint);
}

TEST_F(CacheErrors, WrongMagic) {
    bytes[0] = 'X';
    write(bytes);
    EXPECT_EQ(load_error(), path + ": not a k2k dataset cache (bad magic)" + kHint);
    write({'P', 'K', 3, 4});
    EXPECT_EQ(load_error(), path + ": not a k2k dataset cache (bad magic)" + kHint);
}

TEST_F(CacheErrors, WrongVersion) {
    EXPECT_EQ(bytes[8], kDatasetCacheVersion);
    bytes[8] = 2;
    write(bytes);
    EXPECT_EQ(load_error(), path + ": unsupported cache format version 2 (this build reads version 1)" + kHint);
}

TEST_F(CacheErrors, HeaderCountsMustMatchThePayload) {
    bytes[24] = 9;  // old count; the header is outside the checksum, the payload is not
    write(bytes);
    EXPECT_EQ(load_error(), path + ": corrupt (header counts 3 modern / 9 old entries, payload holds 3 / 2)" + kHint);
}

TEST_F(CacheErrors, MalformedPayloadWithValidChecksum) {
    // A block length pointing past the end, as a buggy writer could produce: the checksum is
    // recomputed so only the structural checks can catch it.
    uint64_t huge = 1ULL << 40;
    std::memcpy(bytes.data() + 48, &huge, 8);  // length of the meta block
    uint64_t sum = xxh64(bytes.data() + 48, bytes.size() - 48);
    std::memcpy(bytes.data() + 40, &sum, 8);
    write(bytes);
    EXPECT_EQ(load_error(), path + ": corrupt (meta block of 1099511627776 bytes runs past the payload)" + kHint);
}

}  // namespace
}  // namespace k2k
