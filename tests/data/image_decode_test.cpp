// Tests for data/image_decode.h: JPEGs encoded here with libjpeg decode back within JPEG's error,
// headers claiming huge sizes and truncated files are refused, and PNG/JPEG/other are told apart.
#include "data/image_decode.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "jpeg_encode.h"
#include "test_support.h"
#include "util/error.h"
#include "util/fs.h"

namespace k2k {
namespace {

using test::encode_jpeg;
using test::jpeg_claiming;

// A smooth grey pattern: JPEG keeps it within a few grey levels at quality 95.
Image smooth_pattern(int w, int h) {
    Image img(w, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            img.at(x, y) = uint8_t(128 + 100 * std::sin(x * 0.15) * std::cos(y * 0.11));
    return img;
}

const uint8_t* u8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

double mean_abs_diff(const Image& a, const Image& b) {
    double sum = 0;
    for (size_t i = 0; i < a.pixels.size(); i++) sum += std::abs(int(a.pixels[i]) - int(b.pixels[i]));
    return sum / double(a.pixels.size());
}

int max_abs_diff(const Image& a, const Image& b) {
    int m = 0;
    for (size_t i = 0; i < a.pixels.size(); i++) m = std::max(m, std::abs(int(a.pixels[i]) - int(b.pixels[i])));
    return m;
}

TEST(ImageDecode, GreyJpegRoundTrip) {
    const Image img = smooth_pattern(48, 40);
    for (bool progressive : {false, true}) {
        const std::string jpeg = encode_jpeg(48, 40, 1, img.pixels, 95, progressive);
        Image back = decode_jpeg_gray(u8(jpeg), jpeg.size(), "g.jpg");
        ASSERT_EQ(back.width, 48);
        ASSERT_EQ(back.height, 40);
        // Measured: mean 0.33, max 2 (libjpeg-turbo 2.1.5, quality 95).
        EXPECT_LT(mean_abs_diff(back, img), 1.5) << "progressive " << progressive;
        EXPECT_LE(max_abs_diff(back, img), 8) << "progressive " << progressive;
    }
}

// libjpeg's own RGB -> grey is the Y of YCbCr: 0.299 R + 0.587 G + 0.114 B. Flat 16x16 blocks
// (whole MCUs) keep JPEG's error to a couple of levels away from the block edges.
TEST(ImageDecode, RgbJpegBecomesGrey) {
    const uint8_t colours[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {250, 250, 250}};
    std::vector<uint8_t> rgb(64 * 16 * 3);
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 64; x++)
            for (int c = 0; c < 3; c++) rgb[size_t(y * 64 + x) * 3 + size_t(c)] = colours[x / 16][c];
    const std::string jpeg = encode_jpeg(64, 16, 3, rgb, 95);
    Image grey = decode_image_gray(u8(jpeg), jpeg.size(), "c.jpg");
    ASSERT_EQ(grey.width, 64);
    ASSERT_EQ(grey.height, 16);
    for (int b = 0; b < 4; b++) {
        const double want = 0.299 * colours[b][0] + 0.587 * colours[b][1] + 0.114 * colours[b][2];
        EXPECT_NEAR(grey.at(b * 16 + 8, 8), want, 4.0) << "block " << b;
    }
}

// A 332-byte file claiming 65000x65000 (4.2 GB of grey) is refused from the header: decoding
// would report the missing data (or allocate the 4.2 GB) instead.
TEST(ImageDecode, HugeJpegHeaderIsRefusedBeforeDecoding) {
    const std::string small = encode_jpeg(8, 8, 1, std::vector<uint8_t>(64, 100), 90);
    const std::string huge = jpeg_claiming(small, 65000, 65000);
    EXPECT_EQ(test::error_of([&] { decode_jpeg_gray(u8(huge), huge.size(), "h.jpg"); }),
              "h.jpg: JPEG header claims 65000x65000 pixels, more than the limit of 16777216 (4096x4096); "
              "refused before decoding");
    EXPECT_EQ(test::error_of([&] { decode_image_gray(u8(huge), huge.size(), "h.jpg"); }),
              "h.jpg: JPEG header claims 65000x65000 pixels, more than the limit of 16777216 (4096x4096); "
              "refused before decoding");
    PngReadOptions o;
    o.expected_width = 64;
    o.expected_height = 64;
    EXPECT_EQ(test::error_of([&] { decode_jpeg_gray(u8(small), small.size(), "s.jpg", o); }),
              "s.jpg: expected a 64x64 image, found 8x8");
    o = PngReadOptions{};
    o.max_pixels = 63;
    EXPECT_EQ(test::error_of([&] { decode_jpeg_gray(u8(small), small.size(), "s.jpg", o); }),
              "s.jpg: JPEG header claims 8x8 pixels, more than the limit of 63; refused before decoding");
    // Within the limit, the same header over 8x8 pixels of data reaches the decoder, which finds
    // the data missing (a warning in libjpeg, an error here).
    const std::string tall = jpeg_claiming(small, 8, 4000);
    EXPECT_EQ(test::error_of([&] { decode_jpeg_gray(u8(tall), tall.size(), "t.jpg"); }),
              "t.jpg: malformed JPEG (Corrupt JPEG data: premature end of data segment)");
}

// libjpeg only warns on data that ends early and fills the rest with grey; k2k refuses it, and
// nothing reaches stderr.
TEST(ImageDecode, TruncatedJpegIsRefusedSilently) {
    const Image img = smooth_pattern(64, 64);
    const std::string jpeg = encode_jpeg(64, 64, 1, img.pixels, 90);
    for (size_t cut : {jpeg.size() - 2, jpeg.size() / 2, size_t(300)}) {
        const std::string part = jpeg.substr(0, cut);
        testing::internal::CaptureStderr();
        const std::string e = test::error_of([&] { decode_jpeg_gray(u8(part), part.size(), "cut.jpg"); });
        EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
        EXPECT_EQ(e.rfind("cut.jpg: malformed JPEG (", 0), 0u) << e;
        EXPECT_NE(e.find("remature end"), std::string::npos) << "cut at " << cut << ": " << e;
    }
    // Cut inside the header: libjpeg's own error.
    const std::string head = jpeg.substr(0, 20);
    EXPECT_EQ(test::error_of([&] { decode_jpeg_gray(u8(head), head.size(), "h.jpg"); }),
              "h.jpg: malformed JPEG (Premature end of JPEG file)");
    const std::string junk = std::string("\xFF\xD8\xFF", 3) + std::string(40, 'x');
    const std::string e = test::error_of([&] { decode_jpeg_gray(u8(junk), junk.size(), "j.jpg"); });
    EXPECT_EQ(e.rfind("j.jpg: malformed JPEG (", 0), 0u) << e;
}

// A progressive file whose first scan is repeated: libjpeg only warns about the bogus progression
// and would decode every scan; k2k stops after 500.
TEST(ImageDecode, TooManyProgressiveScansAreRefused) {
    const std::string jpeg = encode_jpeg(64, 64, 1, smooth_pattern(64, 64).pixels, 75, true);
    const size_t first = jpeg.find("\xFF\xDA"), second = jpeg.find("\xFF\xDA", first + 2);
    ASSERT_NE(second, std::string::npos);
    const std::string scan = jpeg.substr(first, second - first);
    auto with_extra_scans = [&](int n) {
        std::string out = jpeg.substr(0, jpeg.size() - 2);  // without EOI
        for (int i = 0; i < n; i++) out += scan;
        return out + "\xFF\xD9";
    };
    const std::string ok = with_extra_scans(400);
    EXPECT_EQ(decode_jpeg_gray(u8(ok), ok.size(), "ok.jpg").width, 64);
    const std::string many = with_extra_scans(600);
    EXPECT_EQ(test::error_of([&] { decode_jpeg_gray(u8(many), many.size(), "m.jpg"); }),
              "m.jpg: malformed JPEG (more than 500 progressive scans)");
}

TEST(ImageDecode, FormatIsSniffedFromTheSignature) {
    const std::string gif("GIF89a\x01\x00\x01\x00", 10);
    EXPECT_EQ(test::error_of([&] { decode_image_gray(u8(gif), gif.size(), "a.gif"); }),
              "a.gif: not a PNG or JPEG image (starts with 47 49 46 38 39 61 01 00)");
    EXPECT_EQ(test::error_of([&] { decode_image_gray(u8(gif), 2, "b"); }), "b: not a PNG or JPEG image (starts with 47 49)");
    EXPECT_EQ(test::error_of([&] { decode_image_gray(u8(gif), 0, "e.png"); }), "e.png: empty file");
    EXPECT_STREQ(image_format(u8(gif), gif.size()), "");
    EXPECT_STREQ(image_format(u8(std::string("\x89PNG", 4)), 4), "png");
    EXPECT_STREQ(image_format(u8(std::string("\xFF\xD8\xFF", 3)), 3), "jpeg");
    EXPECT_STREQ(image_format(u8(std::string("\xFF\xD8", 2)), 2), "");
    // A PNG signature goes to the PNG reader, whatever follows.
    const std::string fake_png = "\x89PNG rest";
    EXPECT_EQ(test::error_of([&] { decode_image_gray(u8(fake_png), fake_png.size(), "f.png"); }),
              "f.png: not a PNG file (bad signature)");
}

TEST(ImageDecode, PngAndJpegFilesThroughReadImageGray) {
    const std::string dir = test::make_temp_dir("image_decode");
    const Image img = smooth_pattern(33, 21);
    write_png_gray(dir + "/a.png", img);
    const std::vector<uint8_t> png = read_file_bytes(dir + "/a.png");
    EXPECT_EQ(decode_image_gray(png.data(), png.size(), "a.png").pixels, img.pixels);
    EXPECT_EQ(read_image_gray(dir + "/a.png").pixels, img.pixels);

    write_file_atomic(dir + "/b.jpg", encode_jpeg(33, 21, 1, img.pixels, 95));
    Image back = read_image_gray(dir + "/b.jpg");
    EXPECT_EQ(back.width, 33);
    EXPECT_LT(mean_abs_diff(back, img), 1.5);
    test::remove_tree(dir);
}

TEST(ImageDecode, MissingAndOversizedFiles) {
    const std::string dir = test::make_temp_dir("image_decode_files");
    EXPECT_EQ(test::error_of([&] { read_image_gray(dir + "/absent.jpg"); }),
              dir + "/absent.jpg: cannot open (No such file or directory)");
    // A sparse file: refused from its size, before a byte is read.
    const std::string big = dir + "/big.jpg";
    write_file_atomic(big, std::string("\xFF\xD8\xFF", 3));
    std::filesystem::resize_file(big, kMaxImageFileBytes + 1);
    EXPECT_EQ(test::error_of([&] { read_image_gray(big); }),
              big + ": file is 67108865 bytes, more than the 64 MB limit");
    test::remove_tree(dir);
}

}  // namespace
}  // namespace k2k

namespace k2k {
namespace {

// An APP1 Exif segment holding IFD0 with one entry, Orientation = `o` (big- or little-endian TIFF).
std::string exif_segment(int o, bool little) {
    auto u16 = [little](uint32_t v) {
        return little ? std::string{char(v & 0xFF), char(v >> 8)} : std::string{char(v >> 8), char(v & 0xFF)};
    };
    auto u32 = [&](uint32_t v) { return little ? u16(v & 0xFFFF) + u16(v >> 16) : u16(v >> 16) + u16(v & 0xFFFF); };
    std::string tiff = std::string(little ? "II" : "MM") + u16(42) + u32(8);
    tiff += u16(1) + u16(0x0112) + u16(3) + u32(1) + u16(uint32_t(o)) + u16(0) + u32(0);
    const std::string payload = std::string("Exif\0\0", 6) + tiff;
    const size_t length = payload.size() + 2;
    return std::string{char(0xFF), char(0xE1), char(length >> 8), char(length & 0xFF)} + payload;
}

// The pixel of the upright image at (x, y) by Exif's definition of each orientation: where the
// stored image's first row and first column end up.
uint8_t upright_pixel(const Image& s, int o, int x, int y) {
    const int w = s.width, h = s.height;
    switch (o) {
        case 1: return s.at(x, y);
        case 2: return s.at(w - 1 - x, y);          // mirrored
        case 3: return s.at(w - 1 - x, h - 1 - y);  // turned 180
        case 4: return s.at(x, h - 1 - y);          // flipped
        case 5: return s.at(y, x);                  // transposed
        case 6: return s.at(y, h - 1 - x);          // to be turned 90 clockwise
        case 7: return s.at(w - 1 - y, h - 1 - x);  // transversed
        default: return s.at(w - 1 - y, x);         // 8: to be turned 90 anticlockwise
    }
}

TEST(ImageDecode, ExifOrientationIsAppliedForEachOfTheEightValues) {
    Image stored(3, 2);
    for (size_t i = 0; i < stored.pixels.size(); i++) stored.pixels[i] = uint8_t(10 * (i + 1));
    for (int o = 1; o <= 8; o++) {
        const Image up = apply_exif_orientation(stored, o);
        ASSERT_EQ(up.width, o >= 5 ? 2 : 3) << o;
        ASSERT_EQ(up.height, o >= 5 ? 3 : 2) << o;
        for (int y = 0; y < up.height; y++)
            for (int x = 0; x < up.width; x++) EXPECT_EQ(up.at(x, y), upright_pixel(stored, o, x, y)) << o;
    }
    // Orientation 6 (the usual phone photo held upright): the stored left column becomes the top row.
    const Image six = apply_exif_orientation(stored, 6);
    EXPECT_EQ(six.pixels, (std::vector<uint8_t>{40, 10, 50, 20, 60, 30}));
}

TEST(ImageDecode, APhonePhotoStoredSidewaysComesOutUpright) {
    // Stored 32 wide, 16 high: left half white, right half black.
    std::vector<uint8_t> px(32 * 16, 0);
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++) px[size_t(y * 32 + x)] = 255;
    const std::string plain = test::encode_jpeg(32, 16, 1, px, 95);
    for (bool little : {true, false}) {
        std::string jpeg = plain;
        jpeg.insert(2, exif_segment(6, little));  // right after SOI
        ASSERT_EQ(jpeg_exif_orientation(u8(jpeg), jpeg.size()), 6);
        const Image up = decode_image_gray(u8(jpeg), jpeg.size(), "phone.jpg");
        ASSERT_EQ(up.width, 16);
        ASSERT_EQ(up.height, 32);
        EXPECT_GT(up.at(8, 4), 200);   // the white half is on top once turned clockwise
        EXPECT_LT(up.at(8, 28), 50);
    }
    EXPECT_EQ(jpeg_exif_orientation(u8(plain), plain.size()), 1);
    // A size limit applies to the upright size: 16 wide is refused when 32 is expected.
    std::string jpeg = plain;
    jpeg.insert(2, exif_segment(6, true));
    PngReadOptions o;
    o.expected_width = 32;
    EXPECT_NE(test::error_of([&] { decode_jpeg_gray(u8(jpeg), jpeg.size(), "phone.jpg", o); }).find("found 16x32"),
              std::string::npos);
}

TEST(ImageDecode, MalformedExifIsIgnoredNotTrusted) {
    const std::string plain = test::encode_jpeg(16, 16, 1, std::vector<uint8_t>(256, 128), 95);
    std::string seg = exif_segment(6, true);
    // IFD0 offset pointing far outside the segment; an orientation of 9.
    std::string far = seg;
    far[4 + 6 + 4] = char(0xFF);
    std::string nine = exif_segment(9, true);
    for (const std::string& bad : {far, nine}) {
        std::string jpeg = plain;
        jpeg.insert(2, bad);
        EXPECT_EQ(jpeg_exif_orientation(u8(jpeg), jpeg.size()), 1);
        EXPECT_EQ(decode_jpeg_gray(u8(jpeg), jpeg.size(), "x.jpg").width, 16);
    }
    // A segment whose length runs past the data.
    const std::string cut = std::string("\xFF\xD8\xFF\xE1\xFF\xFF", 6) + std::string("Exif\0\0II", 8);
    EXPECT_EQ(jpeg_exif_orientation(u8(cut), cut.size()), 1);
}

}  // namespace
}  // namespace k2k
