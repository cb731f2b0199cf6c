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

Image decode_jpeg_gray(const uint8_t* data, size_t size, const std::string& name, const PngReadOptions& options) {
    JpegDecoder d;
    if (!read_jpeg_header(d, data, size)) throw Error(name + ": malformed JPEG (" + d.errors.message + ")");
    // libjpeg converts neither to grey, and Adobe's inverted CMYK would need its marker read first.
    if (d.cinfo.jpeg_color_space == JCS_CMYK || d.cinfo.jpeg_color_space == JCS_YCCK)
        throw Error(name + ": CMYK JPEG is not supported (save it as RGB or greyscale)");
    check_header_size(d.cinfo.image_width, d.cinfo.image_height, "JPEG", name, options);
    Image out(int(d.cinfo.image_width), int(d.cinfo.image_height));
    if (!read_jpeg_pixels(d, out)) throw Error(name + ": malformed JPEG (" + d.errors.message + ")");
    return out;
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
