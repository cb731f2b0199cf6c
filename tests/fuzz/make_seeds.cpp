// Writes the binary seeds of the fuzz corpora with the library's own writers (libjpeg for JPEG):
// fuzz_png/gray64.png (64x64 grey, the Kuzushiji-Kanji size), fuzz_png/rgb16.png (16x16 RGB),
// fuzz_jpeg/gray64.jpg (baseline grey), fuzz_jpeg/rgb16_progressive.jpg (progressive 4:2:0 RGB),
// fuzz_jpeg/claims_65000x65000.jpg (an 8x8 file whose header claims 65000x65000) and
// fuzz_cache/tiny.cache (2 modern + 2 old entries, 16x16 rasters). Run: make_seeds tests/fuzz/corpus
#include <cstdio>
#include <string>
#include <vector>

#include "data/cache.h"
#include "data/png_io.h"
#include "data/raster.h"
#include "jpeg_encode.h"
#include "util/error.h"
#include "util/fs.h"

namespace {

void write_seeds(const std::string& corpus) {
    k2k::Image gray(64, 64);
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++) gray.at(x, y) = (x > 16 && x < 48 && (y == 20 || y == 40 || x == 32)) ? 255 : 0;
    k2k::write_png_gray(corpus + "/fuzz_png/gray64.png", gray);

    std::vector<uint8_t> rgb(16 * 16 * 3);
    for (size_t i = 0; i < rgb.size(); i++) rgb[i] = uint8_t(i * 7);
    k2k::write_png_rgb(corpus + "/fuzz_png/rgb16.png", 16, 16, rgb);

    k2k::write_file_atomic(corpus + "/fuzz_jpeg/gray64.jpg", k2k::test::encode_jpeg(64, 64, 1, gray.pixels, 75));
    k2k::write_file_atomic(corpus + "/fuzz_jpeg/rgb16_progressive.jpg", k2k::test::encode_jpeg(16, 16, 3, rgb, 75, true));
    const std::string small = k2k::test::encode_jpeg(8, 8, 1, std::vector<uint8_t>(64, 100), 90);
    k2k::write_file_atomic(corpus + "/fuzz_jpeg/claims_65000x65000.jpg", k2k::test::jpeg_claiming(small, 65000, 65000));

    k2k::Dataset ds;
    ds.meta.raster.size = 16;
    ds.meta.curve_tolerance = 0.1f;
    ds.meta.modern_source = "kanjivg";
    ds.meta.old_source = "kkanji2";
    k2k::RasterOptions raster = ds.meta.raster;
    const k2k::Strokes one = {{{10, 50}, {99, 50}}};
    const k2k::Strokes two = {{{10, 30}, {99, 30}}, {{54, 10}, {54, 99}, {60, 95}}};
    ds.add_modern(0x4E00, "", "\xE4\xB8\x80", k2k::Split::Train, one, k2k::render_strokes(one, raster));
    ds.add_modern(0x5341, "Kaisho", "\xE5\x8D\x81", k2k::Split::Val, two, k2k::render_strokes(two, raster));
    ds.add_old(0x4E00, "U+4E00/0000000000000000.png", k2k::Split::Train, k2k::render_strokes(one, raster));
    ds.add_old(0x5341, "U+5341/0000000000000001.png", k2k::Split::Test, k2k::render_strokes(two, raster));
    k2k::save_dataset(corpus + "/fuzz_cache/tiny.cache", ds);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_seeds <tests/fuzz/corpus>\n");
        return 2;
    }
    try {
        write_seeds(argv[1]);
    } catch (const k2k::Error& e) {
        std::fprintf(stderr, "make_seeds: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
