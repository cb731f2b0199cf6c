// PNG reading and writing (libpng) for 8-bit grey images and RGB sheets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/geometry.h"

namespace k2k {

// Reads any PNG and converts it to 8-bit grey (palette/16-bit/alpha/RGB are converted;
// alpha is dropped). Throws k2k::Error("<path>: <cause>") for a missing or malformed file.
Image read_png_gray(const std::string& path);
// Same, from bytes in memory; `name` is used in error messages.
Image decode_png_gray(const uint8_t* data, size_t size, const std::string& name);

// Writes an 8-bit grey PNG atomically (temp file + rename).
void write_png_gray(const std::string& path, const Image& image);
// Writes an 8-bit RGB PNG atomically; `rgb` is row-major width*height*3 bytes.
void write_png_rgb(const std::string& path, int width, int height, const std::vector<uint8_t>& rgb);

}  // namespace k2k
