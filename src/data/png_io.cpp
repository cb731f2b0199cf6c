// PNG reading and writing with libpng's simplified API (png_image_*), which handles every
// colour type and bit depth for us and reports errors as text instead of longjmp.
#include "data/png_io.h"

#include <png.h>

#include <cstdio>
#include <cstring>

#include "util/error.h"
#include "util/fs.h"

namespace k2k {

namespace {

// "64x64", with '*' for a side that may be anything.
std::string size_text(int width, int height) {
    return (width > 0 ? std::to_string(width) : std::string("*")) + "x" + (height > 0 ? std::to_string(height) : std::string("*"));
}

// Refuses a chunk other than IDAT whose length runs past the end of the data. libpng 1.6.39
// allocates an ancillary chunk's declared length before reading it: a 43-byte file whose eXIf chunk
// claims 1946157118 bytes made it ask for 1.9 GB (fuzz_png found it). IDAT lengths are left to
// libpng, which bounds them by the image size and reports a file cut short in its own words.
void check_chunk_lengths(const uint8_t* data, size_t size, const std::string& name) {
    size_t p = 8;  // p <= size throughout
    while (size - p >= 8) {
        const uint32_t len = uint32_t(data[p]) << 24 | uint32_t(data[p + 1]) << 16 | uint32_t(data[p + 2]) << 8 | data[p + 3];
        const uint8_t* type = data + p + 4;
        const size_t room = size - p - 8;  // bytes after the length and type
        if (len > room) {
            if (std::memcmp(type, "IDAT", 4) == 0) return;
            std::string type_text;
            for (int i = 0; i < 4; i++) {
                char buf[8];
                const bool letter = (type[i] >= 'a' && type[i] <= 'z') || (type[i] >= 'A' && type[i] <= 'Z');
                std::snprintf(buf, sizeof buf, letter ? "%c" : "[%02X]", unsigned(type[i]));
                type_text += buf;
            }
            throw Error(name + ": malformed PNG (chunk " + type_text + " at byte " + std::to_string(p) + " claims " +
                        std::to_string(len) + " bytes, only " + std::to_string(room) + " follow)");
        }
        if (std::memcmp(type, "IEND", 4) == 0 || room - len < 4) return;  // the end, or a CRC cut short
        p += 12 + size_t(len);
    }
}

}  // namespace

// Without this check the caller allocated width*height bytes first: 10 GB for a 500-byte file
// claiming 100000x100000.
void check_header_size(uint64_t w, uint64_t h, const char* format, const std::string& name, const PngReadOptions& o) {
    if ((o.expected_width > 0 && w != uint64_t(o.expected_width)) || (o.expected_height > 0 && h != uint64_t(o.expected_height)))
        throw Error(name + ": expected a " + size_text(o.expected_width, o.expected_height) + " image, found " +
                    std::to_string(w) + "x" + std::to_string(h));
    if (w * h > o.max_pixels)
        throw Error(name + ": " + format + " header claims " + std::to_string(w) + "x" + std::to_string(h) +
                    " pixels, more than the limit of " + std::to_string(o.max_pixels) +
                    (o.max_pixels == kPngMaxPixels ? " (4096x4096)" : "") + "; refused before decoding");
}

Image decode_png_gray(const uint8_t* data, size_t size, const std::string& name, const PngReadOptions& options) {
    png_image img;
    std::memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) throw Error(name + ": not a PNG file (bad signature)");
    check_chunk_lengths(data, size, name);
    // Reads the signature and IHDR only (png_read_info): nothing of the image's size is allocated yet.
    if (!png_image_begin_read_from_memory(&img, data, size))
        throw Error(name + ": malformed PNG (" + img.message + ")");
    try {
        check_header_size(img.width, img.height, "PNG", name, options);
    } catch (...) {
        png_image_free(&img);
        throw;
    }
    img.format = PNG_FORMAT_GRAY;
    Image out(int(img.width), int(img.height));
    if (!png_image_finish_read(&img, nullptr, out.pixels.data(), 0, nullptr)) {
        std::string msg = img.message;
        png_image_free(&img);
        throw Error(name + ": malformed PNG (" + msg + ")");
    }
    return out;
}

Image read_png_gray(const std::string& path, const PngReadOptions& options) {
    std::vector<uint8_t> bytes = read_file_bytes(path);
    return decode_png_gray(bytes.data(), bytes.size(), path, options);
}

namespace {

// PNG bytes of width x height pixels in libpng's simplified-API `format`; `name` is for errors.
std::string encode_png_any(const std::string& name, int width, int height, uint32_t format, const uint8_t* pixels) {
    if (width <= 0 || height <= 0) throw Error(name + ": cannot write an empty image");
    png_image img;
    std::memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    img.width = png_uint_32(width);
    img.height = png_uint_32(height);
    img.format = format;
    png_alloc_size_t size = 0;
    if (!png_image_write_to_memory(&img, nullptr, &size, 0, pixels, 0, nullptr))
        throw Error(name + ": PNG encoding failed (" + img.message + ")");
    std::string bytes(size, '\0');
    if (!png_image_write_to_memory(&img, bytes.data(), &size, 0, pixels, 0, nullptr))
        throw Error(name + ": PNG encoding failed (" + img.message + ")");
    bytes.resize(size);
    return bytes;
}

void write_png_any(const std::string& path, int width, int height, uint32_t format, const uint8_t* pixels) {
    write_file_atomic(path, encode_png_any(path, width, height, format, pixels));
}

}  // namespace

void write_png_gray(const std::string& path, const Image& image) {
    if (image.pixels.size() != size_t(image.width) * size_t(image.height))
        throw Error(path + ": image buffer does not match its size");
    write_png_any(path, image.width, image.height, PNG_FORMAT_GRAY, image.pixels.data());
}

void write_png_rgb(const std::string& path, int width, int height, const std::vector<uint8_t>& rgb) {
    if (rgb.size() != size_t(width) * size_t(height) * 3) throw Error(path + ": RGB buffer does not match its size");
    write_png_any(path, width, height, PNG_FORMAT_RGB, rgb.data());
}

std::string encode_png_gray(const Image& image) {
    if (image.pixels.size() != size_t(image.width) * size_t(image.height))
        throw Error("encode_png_gray: image buffer does not match its size");
    return encode_png_any("encode_png_gray", image.width, image.height, PNG_FORMAT_GRAY, image.pixels.data());
}

std::string encode_png_rgba(int width, int height, const std::vector<uint8_t>& rgba) {
    if (rgba.size() != size_t(width) * size_t(height) * 4) throw Error("encode_png_rgba: RGBA buffer does not match its size");
    return encode_png_any("encode_png_rgba", width, height, PNG_FORMAT_RGBA, rgba.data());
}

}  // namespace k2k
