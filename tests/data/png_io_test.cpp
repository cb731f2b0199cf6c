// Tests for data/png_io.h: round trips, and PNGs whose header claims a huge size, which must be
// refused from the header alone (before any pixel memory is allocated or any IDAT is inflated).
#include "data/png_io.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_support.h"
#include "util/error.h"
#include "util/fs.h"

namespace k2k {
namespace {

// CRC-32 (ISO 3309, the one PNG chunks carry), bitwise: fast enough for a few bytes.
uint32_t crc32_of(const std::string& bytes) {
    uint32_t crc = 0xFFFFFFFFu;
    for (unsigned char c : bytes) {
        crc ^= c;
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

std::string be32(uint32_t v) {
    return std::string{char(v >> 24), char((v >> 16) & 0xFF), char((v >> 8) & 0xFF), char(v & 0xFF)};
}

std::string chunk(const std::string& type, const std::string& data) {
    return be32(uint32_t(data.size())) + type + data + be32(crc32_of(type + data));
}

// A well-formed PNG header (signature + IHDR, 8-bit grey) claiming width x height, then one tiny
// IDAT (an empty zlib stream: far too little data for such an image) and IEND. Decoding it would
// fail; refusing it from the header gives the size error instead.
std::string png_claiming(uint32_t width, uint32_t height) {
    std::string ihdr = be32(width) + be32(height) + std::string{8, 0, 0, 0, 0};  // depth 8, grey, no interlace
    const std::string empty_zlib = {'\x78', '\x9c', '\x03', '\x00', '\x00', '\x00', '\x00', '\x01'};
    return std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + chunk("IDAT", empty_zlib) + chunk("IEND", "");
}

Image pattern(int w, int h) {
    Image img(w, h);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) img.at(x, y) = uint8_t((x * 7 + y * 13) % 256);
    return img;
}

TEST(PngIo, GrayRoundTrip) {
    std::string dir = test::make_temp_dir("png_roundtrip");
    Image img = pattern(37, 21);
    write_png_gray(dir + "/a.png", img);
    Image back = read_png_gray(dir + "/a.png");
    EXPECT_EQ(back.width, 37);
    EXPECT_EQ(back.height, 21);
    EXPECT_EQ(back.pixels, img.pixels);
    test::remove_tree(dir);
}

// A 4.9 KB file claiming 100000x100000 used to allocate 10 GB before libpng said "image too large".
TEST(PngIo, HugeHeaderIsRefusedBeforeDecoding) {
    std::string dir = test::make_temp_dir("png_huge");
    const std::string path = dir + "/huge.png";
    write_file_atomic(path, png_claiming(100000, 100000));
    EXPECT_EQ(test::error_of([&] { read_png_gray(path); }),
              path + ": PNG header claims 100000x100000 pixels, more than the limit of 16777216 (4096x4096); "
                     "refused before decoding");
    // Just over the default limit: refused the same way (the tiny IDAT shows nothing was decoded).
    write_file_atomic(path, png_claiming(4097, 4096));
    EXPECT_EQ(test::error_of([&] { read_png_gray(path); }),
              path + ": PNG header claims 4097x4096 pixels, more than the limit of 16777216 (4096x4096); "
                     "refused before decoding");
    // Within the limit, the same bogus IDAT reaches the decoder, which reports it.
    write_file_atomic(path, png_claiming(64, 64));
    std::string e = test::error_of([&] { read_png_gray(path); });
    EXPECT_EQ(e.rfind(path + ": malformed PNG (", 0), 0u) << e;
    test::remove_tree(dir);
}

// A caller that needs 64x64 (Kuzushiji-Kanji) refuses a 20000x20000 header without decoding it
// (a real such file used to be decoded in full, 400 MB, before "expected 64x64").
TEST(PngIo, ExpectedSizeIsCheckedBeforeDecoding) {
    std::string dir = test::make_temp_dir("png_expected");
    const std::string path = dir + "/big.png";
    PngReadOptions o;
    o.expected_width = 64;
    o.expected_height = 64;
    write_file_atomic(path, png_claiming(20000, 20000));
    EXPECT_EQ(test::error_of([&] { read_png_gray(path, o); }), path + ": expected a 64x64 image, found 20000x20000");
    write_file_atomic(path, png_claiming(100000, 100000));
    EXPECT_EQ(test::error_of([&] { read_png_gray(path, o); }), path + ": expected a 64x64 image, found 100000x100000");
    write_png_gray(path, pattern(64, 32));
    EXPECT_EQ(test::error_of([&] { read_png_gray(path, o); }), path + ": expected a 64x64 image, found 64x32");
    o.expected_height = 0;  // any height
    EXPECT_EQ(read_png_gray(path, o).height, 32);
    o.expected_width = 63;
    EXPECT_EQ(test::error_of([&] { read_png_gray(path, o); }), path + ": expected a 63x* image, found 64x32");
    test::remove_tree(dir);
}

TEST(PngIo, MaxPixelsIsTheCallersChoice) {
    std::string dir = test::make_temp_dir("png_max");
    const std::string path = dir + "/a.png";
    write_png_gray(path, pattern(64, 64));
    PngReadOptions o;
    o.max_pixels = 4095;
    EXPECT_EQ(test::error_of([&] { read_png_gray(path, o); }),
              path + ": PNG header claims 64x64 pixels, more than the limit of 4095; refused before decoding");
    o.max_pixels = 4096;
    EXPECT_EQ(read_png_gray(path, o).pixels, pattern(64, 64).pixels);
    test::remove_tree(dir);
}

// fuzz_png's find: a 43-byte file whose eXIf chunk claims 1946157118 bytes made libpng 1.6.39
// allocate 1.9 GB before it found the data missing.
TEST(PngIo, ChunkLongerThanTheFileIsRefusedBeforeLibpng) {
    const std::string ihdr = chunk("IHDR", be32(64) + be32(64) + std::string{8, 0, 0, 0, 0});
    const std::string head = std::string("\x89PNG\r\n\x1a\n", 8) + ihdr;
    const std::string exif = be32(1946157118u) + "eXIfMM";  // 2 data bytes of 1946157118, no CRC
    EXPECT_EQ(test::error_of([&] { decode_png_gray(reinterpret_cast<const uint8_t*>((head + exif).data()), head.size() + exif.size(), "x.png"); }),
              "x.png: malformed PNG (chunk eXIf at byte 33 claims 1946157118 bytes, only 2 follow)");
    // A type that is not four letters is written as libpng writes it.
    const std::string odd = head + be32(100) + std::string("\xc6\x0e\x00t", 4);
    EXPECT_EQ(test::error_of([&] { decode_png_gray(reinterpret_cast<const uint8_t*>(odd.data()), odd.size(), "x.png"); }),
              "x.png: malformed PNG (chunk [C6][0E][00]t at byte 33 claims 100 bytes, only 0 follow)");
    // A file cut inside IDAT is left to libpng (its own message), and a whole file still decodes.
    const std::string good = [] {
        std::string dir = test::make_temp_dir("png_chunks");
        write_png_gray(dir + "/good.png", pattern(64, 64));
        std::string bytes = read_file_text(dir + "/good.png");
        test::remove_tree(dir);
        return bytes;
    }();
    EXPECT_EQ(decode_png_gray(reinterpret_cast<const uint8_t*>(good.data()), good.size(), "g.png").pixels, pattern(64, 64).pixels);
    const std::string cut = good.substr(0, good.size() / 2);
    EXPECT_EQ(test::error_of([&] { decode_png_gray(reinterpret_cast<const uint8_t*>(cut.data()), cut.size(), "c.png"); }),
              "c.png: malformed PNG (read beyond end of data)");
}

TEST(PngIo, NotAPngAndTruncated) {
    std::string dir = test::make_temp_dir("png_bad");
    write_file_atomic(dir + "/text.png", std::string("hello, not a png"));
    EXPECT_EQ(test::error_of([&] { read_png_gray(dir + "/text.png"); }), dir + "/text.png: not a PNG file (bad signature)");
    write_png_gray(dir + "/good.png", pattern(64, 64));
    std::string bytes = read_file_text(dir + "/good.png");
    write_file_atomic(dir + "/cut.png", bytes.substr(0, 40));
    std::string e = test::error_of([&] { read_png_gray(dir + "/cut.png"); });
    EXPECT_EQ(e.rfind(dir + "/cut.png: malformed PNG (", 0), 0u) << e;
    test::remove_tree(dir);
}

}  // namespace
}  // namespace k2k
