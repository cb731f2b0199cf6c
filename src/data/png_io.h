// PNG reading and writing (libpng) for 8-bit grey images and RGB sheets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/geometry.h"

namespace k2k {

// Largest image the readers decode unless told otherwise: 4096x4096 = 16.7 M pixels (16.7 MB
// grey). A 500-byte file can claim 100000x100000 (10 GB) in its header.
constexpr uint64_t kPngMaxPixels = uint64_t(4096) * 4096;

// What a reader accepts. Every check is made on the header alone, before any pixel memory is
// allocated or any image data is inflated.
struct PngReadOptions {
    int expected_width = 0;               // refuse any other width (0 = any)
    int expected_height = 0;              // refuse any other height (0 = any)
    uint64_t max_pixels = kPngMaxPixels;  // refuse width * height above this
};

// Refuses, from a header's size alone, an image `options` does not accept: throws k2k::Error
// "<name>: expected a 64x64 image, found 32x48" or "<name>: <format> header claims WxH pixels, more
// than the limit of ...; refused before decoding". `format` is "PNG" or "JPEG" (shared by both readers).
void check_header_size(uint64_t width, uint64_t height, const char* format, const std::string& name,
                       const PngReadOptions& options);

// Reads any PNG and converts it to 8-bit grey (palette/16-bit/alpha/RGB are converted;
// alpha is dropped). Throws k2k::Error("<path>: <cause>") for a missing or malformed file, and
// for one whose header gives a size `options` refuses ("expected a 64x64 image, found 32x48",
// "PNG header claims 100000x100000 pixels, more than the limit of ..."). A chunk other than IDAT
// that claims more bytes than the file has left is refused before libpng sees it ("malformed PNG
// (chunk eXIf at byte 33 claims 1946157118 bytes, only 2 follow)"): libpng would allocate it first.
Image read_png_gray(const std::string& path, const PngReadOptions& options = {});
// Same, from bytes in memory; `name` is used in error messages.
Image decode_png_gray(const uint8_t* data, size_t size, const std::string& name, const PngReadOptions& options = {});

// Writes an 8-bit grey PNG atomically (temp file + rename).
void write_png_gray(const std::string& path, const Image& image);
// Writes an 8-bit RGB PNG atomically; `rgb` is row-major width*height*3 bytes.
void write_png_rgb(const std::string& path, int width, int height, const std::vector<uint8_t>& rgb);

// The PNG file's bytes in memory (for data: URLs): 8-bit grey, and 8-bit RGBA (row-major
// width*height*4 bytes, alpha not premultiplied). Throw k2k::Error for a buffer of the wrong size.
std::string encode_png_gray(const Image& image);
std::string encode_png_rgba(int width, int height, const std::vector<uint8_t>& rgba);

}  // namespace k2k
