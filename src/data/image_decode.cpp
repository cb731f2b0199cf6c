// JPEG decoding with libjpeg-turbo and the PNG/JPEG dispatch. libjpeg reports errors by longjmp:
// the two functions that call setjmp hold no C++ object with a destructor, and only their callers throw.
#include "data/image_decode.h"

#include <cstdio>  // before jpeglib.h, which uses FILE
#include <jpeglib.h>
#include <jerror.h>  // the JWRN_ message codes

#include <csetjmp>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include "util/error.h"
#include "util/fs.h"

namespace k2k {

namespace {

// libjpeg's working memory, above all the coefficient buffers of a progressive file: a 4096x4096
// 4:4:4 one needs 3 components x 16.7 M coefficients x 2 bytes = 100 MB. libjpeg refuses more
// with its own message ("Backing store not supported").
constexpr long kJpegMaxMemory = 256L << 20;
// TurboJPEG's scan limit and libjpeg-turbo's fuzzers use the same cap: one refinement scan can
// cover the whole image in a few bytes (an end-of-band run), so a small file of thousands of scans
// costs thousands of passes over every coefficient.
constexpr int kJpegMaxScans = 500;

// libjpeg's error manager, where to jump back to, and the message of the failure.
struct JpegErrors {
    jpeg_error_mgr mgr;  // first member: libjpeg casts cinfo->err to this struct
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

struct JpegDecoder {
    jpeg_decompress_struct cinfo;
    JpegErrors errors;
    jpeg_progress_mgr progress;

    JpegDecoder() {
        std::memset(&cinfo, 0, sizeof cinfo);
        std::memset(&errors, 0, sizeof errors);
        std::memset(&progress, 0, sizeof progress);
    }
    // Safe on a struct jpeg_create_decompress never filled (cinfo.mem is then null).
    ~JpegDecoder() { jpeg_destroy_decompress(&cinfo); }
    JpegDecoder(const JpegDecoder&) = delete;
    JpegDecoder& operator=(const JpegDecoder&) = delete;
};

[[noreturn]] void jump_back(j_common_ptr cinfo) { std::longjmp(reinterpret_cast<JpegErrors*>(cinfo->err)->jump, 1); }

// Replaces libjpeg's default, which prints the message and calls exit().
[[noreturn]] void on_jpeg_error(j_common_ptr cinfo) {
    (*cinfo->err->format_message)(cinfo, reinterpret_cast<JpegErrors*>(cinfo->err)->message);
    jump_back(cinfo);
}

// Warnings (msg_level -1; trace messages have >= 0). On data that ends early libjpeg only warns
// and fills the missing rows with grey, so a cut-off upload would decode as half a character.
void on_jpeg_message(j_common_ptr cinfo, int msg_level) {
    if (msg_level >= 0) return;
    const int code = cinfo->err->msg_code;
    if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER) on_jpeg_error(cinfo);
    cinfo->err->num_warnings++;
}

void on_jpeg_output(j_common_ptr) {}  // nothing on stderr

void on_jpeg_progress(j_common_ptr cinfo) {
    if (reinterpret_cast<j_decompress_ptr>(cinfo)->input_scan_number <= kJpegMaxScans) return;
    std::snprintf(reinterpret_cast<JpegErrors*>(cinfo->err)->message, JMSG_LENGTH_MAX,
                  "more than %d progressive scans", kJpegMaxScans);
    jump_back(cinfo);
}

// Creates the decompressor on `data` and reads the header; false when libjpeg failed
// (d.errors.message says why).
bool read_jpeg_header(JpegDecoder& d, const uint8_t* data, size_t size) {
    d.cinfo.err = jpeg_std_error(&d.errors.mgr);
    d.errors.mgr.error_exit = on_jpeg_error;
    d.errors.mgr.emit_message = on_jpeg_message;
    d.errors.mgr.output_message = on_jpeg_output;
    if (setjmp(d.errors.jump)) return false;
    jpeg_create_decompress(&d.cinfo);
    d.cinfo.mem->max_memory_to_use = kJpegMaxMemory;
    d.progress.progress_monitor = on_jpeg_progress;
    d.cinfo.progress = &d.progress;
    jpeg_mem_src(&d.cinfo, data, static_cast<unsigned long>(size));
    jpeg_read_header(&d.cinfo, TRUE);
    return true;
}

// Decodes the pixels as grey into `out` (already out.width x out.height); false when libjpeg failed.
bool read_jpeg_pixels(JpegDecoder& d, Image& out) {
    if (setjmp(d.errors.jump)) return false;
    d.cinfo.out_color_space = JCS_GRAYSCALE;
    jpeg_start_decompress(&d.cinfo);
    while (d.cinfo.output_scanline < d.cinfo.output_height) {
        JSAMPROW row = out.pixels.data() + size_t(d.cinfo.output_scanline) * size_t(out.width);
        jpeg_read_scanlines(&d.cinfo, &row, 1);
    }
    jpeg_finish_decompress(&d.cinfo);
    return true;
}

// Big- or little-endian integers of the TIFF block inside an Exif segment, bounds-checked.
struct TiffReader {
    const uint8_t* p;
    size_t n;
    bool little;
    bool u16(size_t at, uint32_t& v) const {
        if (at + 2 > n) return false;
        v = little ? uint32_t(p[at]) | uint32_t(p[at + 1]) << 8 : uint32_t(p[at]) << 8 | uint32_t(p[at + 1]);
        return true;
    }
    bool u32(size_t at, uint32_t& v) const {
        uint32_t a = 0, b = 0;
        if (!u16(at, a) || !u16(at + 2, b)) return false;
        v = little ? a | b << 16 : a << 16 | b;
        return true;
    }
};

// The Orientation tag (0x0112) of IFD0 in one APP1 "Exif\0\0" payload; 1 when absent or malformed.
int exif_payload_orientation(const uint8_t* p, size_t n) {
    if (n < 14 || std::memcmp(p, "Exif\0\0", 6) != 0) return 1;
    const TiffReader t{p + 6, n - 6, p[6] == 'I' && p[7] == 'I'};
    if (!t.little && !(p[6] == 'M' && p[7] == 'M')) return 1;
    uint32_t ifd = 0, count = 0;
    if (!t.u32(4, ifd) || !t.u16(ifd, count)) return 1;
    for (uint32_t k = 0; k < count && k < 1000; k++) {
        const size_t entry = size_t(ifd) + 2 + 12 * size_t(k);
        uint32_t tag = 0, value = 0;
        if (!t.u16(entry, tag)) return 1;
        if (tag != 0x0112) continue;
        if (!t.u16(entry + 8, value) || value < 1 || value > 8) return 1;
        return int(value);
    }
    return 1;
}

bool starts_with(const uint8_t* data, size_t size, const char* magic, size_t n) {
    return size >= n && std::memcmp(data, magic, n) == 0;
}

// "47 49 46 38": the first bytes (at most 8), for the error on an unknown format.
std::string first_bytes_hex(const uint8_t* data, size_t size) {
    std::string out;
    for (size_t i = 0; i < size && i < 8; i++) {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%02X", unsigned(data[i]));
        out += (i > 0 ? " " : "") + std::string(buf);
    }
    return out;
}

}  // namespace

int jpeg_exif_orientation(const uint8_t* data, size_t size) {
    if (size < 4 || data[0] != 0xFF || data[1] != 0xD8) return 1;
    size_t i = 2;
    while (i + 4 <= size && data[i] == 0xFF) {
        const uint8_t marker = data[i + 1];
        const size_t length = size_t(data[i + 2]) << 8 | data[i + 3];
        if (marker == 0xDA || length < 2 || i + 2 + length > size) break;  // start of scan: no metadata after it
        if (marker == 0xE1) {
            const int o = exif_payload_orientation(data + i + 4, length - 2);
            if (o != 1) return o;
        }
        i += 2 + length;
    }
    return 1;
}

Image apply_exif_orientation(const Image& stored, int orientation) {
    if (orientation < 2 || orientation > 8) return stored;
    const int w = stored.width, h = stored.height;
    const bool turned = orientation >= 5;
    Image out(turned ? h : w, turned ? w : h);
    for (int y = 0; y < out.height; y++)
        for (int x = 0; x < out.width; x++) {
            int sx = x, sy = y;  // the stored pixel shown at (x, y)
            switch (orientation) {
                case 2: sx = w - 1 - x; break;
                case 3: sx = w - 1 - x; sy = h - 1 - y; break;
                case 4: sy = h - 1 - y; break;
                case 5: sx = y; sy = x; break;
                case 6: sx = y; sy = h - 1 - x; break;
                case 7: sx = w - 1 - y; sy = h - 1 - x; break;
                default: sx = w - 1 - y; sy = x; break;  // 8
            }
            out.at(x, y) = stored.at(sx, sy);
        }
    return out;
}

Image decode_jpeg_gray(const uint8_t* data, size_t size, const std::string& name, const PngReadOptions& options) {
    JpegDecoder d;
    if (!read_jpeg_header(d, data, size)) throw Error(name + ": malformed JPEG (" + d.errors.message + ")");
    // libjpeg converts neither to grey, and Adobe's inverted CMYK would need its marker read first.
    if (d.cinfo.jpeg_color_space == JCS_CMYK || d.cinfo.jpeg_color_space == JCS_YCCK)
        throw Error(name + ": CMYK JPEG is not supported (save it as RGB or greyscale)");
    // Sizes as shown: a phone photo is often stored sideways with an Orientation tag.
    const int orientation = jpeg_exif_orientation(data, size);
    const bool turned = orientation >= 5;
    check_header_size(turned ? d.cinfo.image_height : d.cinfo.image_width,
                      turned ? d.cinfo.image_width : d.cinfo.image_height, "JPEG", name, options);
    Image out(int(d.cinfo.image_width), int(d.cinfo.image_height));
    if (!read_jpeg_pixels(d, out)) throw Error(name + ": malformed JPEG (" + d.errors.message + ")");
    return apply_exif_orientation(out, orientation);
}

const char* image_format(const uint8_t* data, size_t size) {
    if (starts_with(data, size, "\x89PNG", 4)) return "png";
    if (starts_with(data, size, "\xFF\xD8\xFF", 3)) return "jpeg";
    return "";
}

Image decode_image_gray(const uint8_t* data, size_t size, const std::string& name, const PngReadOptions& options) {
    if (size == 0) throw Error(name + ": empty file");
    const std::string format = image_format(data, size);
    if (format == "png") return decode_png_gray(data, size, name, options);
    if (format == "jpeg") return decode_jpeg_gray(data, size, name, options);
    throw Error(name + ": not a PNG or JPEG image (starts with " + first_bytes_hex(data, size) + ")");
}

Image read_image_gray(const std::string& path, const PngReadOptions& options) {
    std::error_code ec;
    const uintmax_t bytes = std::filesystem::file_size(path, ec);
    if (!ec && bytes > kMaxImageFileBytes)
        throw Error(path + ": file is " + std::to_string(bytes) + " bytes, more than the 64 MB limit");
    const std::vector<uint8_t> data = read_file_bytes(path);  // a missing file: its own message
    return decode_image_gray(data.data(), data.size(), path, options);
}

}  // namespace k2k
