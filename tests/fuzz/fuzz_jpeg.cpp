// libFuzzer target: decode_jpeg_gray (src/data/image_decode.h), libjpeg-turbo behind k2k's
// longjmp error handling, header checks and scan cap, on arbitrary bytes; and decode_image_gray's
// format sniffing. Checked: k2k::Error is the only exception (libjpeg's exit() would end the run,
// its longjmp leaking would show as an ASan/LSan report); a decoded image is non-empty, within
// PngReadOptions::max_pixels (default 4096x4096), and has width * height pixels.
#include <cstdint>
#include <cstring>

#include "data/image_decode.h"
#include "fuzz_support.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        k2k::fuzz::check_decoded_image(k2k::decode_jpeg_gray(data, size, "input.jpg"));
    } catch (const k2k::Error&) {
    }
    // The sniffing path: for a JPEG it is the decode above again, so only the others go through it
    // (which reach libpng for a PNG signature, or the "not a PNG or JPEG" message).
    if (std::strcmp(k2k::image_format(data, size), "jpeg") == 0) return 0;
    try {
        k2k::fuzz::check_decoded_image(k2k::decode_image_gray(data, size, "input"));
    } catch (const k2k::Error&) {
    }
    return 0;
}
