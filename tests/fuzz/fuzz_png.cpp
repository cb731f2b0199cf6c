// libFuzzer target: decode_png_gray (src/data/png_io.h), libpng's simplified API behind k2k's
// header checks, on arbitrary bytes.
//
// libpng refuses a chunk whose CRC does not match, so nearly every mutation would stop at the
// first chunk it touches. Each input is therefore decoded twice: as it is (the CRC checks), and
// with every chunk's CRC recomputed, which lets the mutations reach the header checks, the
// colour conversions and inflate. Checked: k2k::Error is the only exception; a decoded image is
// non-empty, within PngReadOptions::max_pixels (default 4096x4096), and has width * height pixels.
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "data/png_io.h"
#include "fuzz_support.h"
#include "util/error.h"

namespace {

uint32_t load_be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

void store_be32(uint8_t* p, uint32_t v) {
    p[0] = uint8_t(v >> 24);
    p[1] = uint8_t(v >> 16);
    p[2] = uint8_t(v >> 8);
    p[3] = uint8_t(v);
}

// The input with the CRC of every whole chunk (length, type, data, CRC) after the 8-byte
// signature recomputed; a chunk that runs past the end, and what follows it, is left as it is.
std::vector<uint8_t> with_fixed_crcs(const uint8_t* data, size_t size) {
    std::vector<uint8_t> out(data, data + size);
    size_t p = 8;
    while (p + 12 <= size) {
        const uint32_t len = load_be32(&out[p]);
        if (len > size - p - 12) break;
        const uLong crc = crc32(crc32(0L, Z_NULL, 0), &out[p + 4], uInt(len) + 4);
        store_be32(&out[p + 8 + len], uint32_t(crc));
        p += 12 + size_t(len);
    }
    return out;
}

void decode(const uint8_t* data, size_t size) {
    k2k::Image img;
    try {
        img = k2k::decode_png_gray(data, size, "input.png");
    } catch (const k2k::Error&) {
        return;
    }
    k2k::fuzz::check_decoded_image(img);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    decode(data, size);
    if (size >= 8) {
        std::vector<uint8_t> fixed = with_fixed_crcs(data, size);
        if (!std::equal(fixed.begin(), fixed.end(), data)) decode(fixed.data(), fixed.size());
    }
    return 0;
}
