// JPEG encoding with libjpeg for the tests and the fuzz seeds (k2k itself only reads JPEG): one
// header shared by tests/data/image_decode_test.cpp and tests/fuzz/make_seeds.cpp.
#pragma once

#include <cstdio>  // before jpeglib.h, which uses FILE
#include <jpeglib.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace k2k::test {

// JPEG bytes of width x height pixels; `components` 1 = grey, 3 = RGB (row-major, interleaved).
// libjpeg's default error handler prints and exits, which is acceptable for the well-formed
// inputs of tests and seed writing.
inline std::string encode_jpeg(int width, int height, int components, const std::vector<uint8_t>& pixels, int quality,
                               bool progressive = false) {
    jpeg_compress_struct cinfo;
    jpeg_error_mgr jerr;
    cinfo.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cinfo);
    unsigned char* buffer = nullptr;
    unsigned long size = 0;
    jpeg_mem_dest(&cinfo, &buffer, &size);
    cinfo.image_width = JDIMENSION(width);
    cinfo.image_height = JDIMENSION(height);
    cinfo.input_components = components;
    cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    if (progressive) jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = const_cast<uint8_t*>(pixels.data()) + size_t(cinfo.next_scanline) * size_t(width) * size_t(components);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    std::string bytes(reinterpret_cast<char*>(buffer), size);
    std::free(buffer);
    return bytes;
}

// The same bytes with the frame header (SOF0 or SOF2) claiming width x height instead.
inline std::string jpeg_claiming(std::string jpeg, int width, int height) {
    for (size_t i = 2; i + 9 < jpeg.size(); i++) {
        if (uint8_t(jpeg[i]) != 0xFF || (uint8_t(jpeg[i + 1]) != 0xC0 && uint8_t(jpeg[i + 1]) != 0xC2)) continue;
        jpeg[i + 5] = char(height >> 8), jpeg[i + 6] = char(height & 0xFF);
        jpeg[i + 7] = char(width >> 8), jpeg[i + 8] = char(width & 0xFF);
        break;
    }
    return jpeg;
}

}  // namespace k2k::test
