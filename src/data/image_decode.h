// Reading the images users bring (photographs, scans, crops): JPEG through libjpeg-turbo, and
// PNG or JPEG told apart by their signature, all converted to 8-bit grey.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "data/geometry.h"
#include "data/png_io.h"

namespace k2k {

// Largest file read_image_gray reads: a 4096x4096 image is at most a few MB as PNG or JPEG, so a
// bigger file is not an image we would decode anyway (and reading it would hold it all in memory).
constexpr uint64_t kMaxImageFileBytes = uint64_t(64) << 20;

// Decodes a baseline or progressive JPEG (grey, YCbCr or RGB) to 8-bit grey (libjpeg's own
// JCS_GRAYSCALE conversion, the Y channel). The header's size is checked against `options` after
// jpeg_read_header, before any pixel memory is allocated ("<name>: JPEG header claims 65000x65000
// pixels, more than the limit of ..."). Every libjpeg error, and the warnings that say the data
// ends early, throw k2k::Error "<name>: malformed JPEG (<libjpeg's message>)"; libjpeg prints
// nothing. CMYK JPEGs are refused ("<name>: CMYK JPEG is not supported ..."). libjpeg's working
// memory is capped at 256 MB, and a progressive file at 500 scans ("<name>: malformed JPEG (more
// than 500 progressive scans)"): each scan is a pass over the whole image, however few bytes it has.
// The image comes out upright: the EXIF Orientation tag (phone photos are often stored sideways)
// is applied, and the size check applies to the upright size.
Image decode_jpeg_gray(const uint8_t* data, size_t size, const std::string& name, const PngReadOptions& options = {});

// The EXIF Orientation (1..8, as TIFF 6.0 / Exif 2.3 define it) in the APP1 segments before the
// first scan; 1 (stored upright) when there is none or it is malformed. Bounds-checked throughout.
int jpeg_exif_orientation(const uint8_t* data, size_t size);
// The stored image turned and/or flipped upright for `orientation` (2..8; any other value: as is).
Image apply_exif_orientation(const Image& stored, int orientation);

// PNG (\x89PNG) -> decode_png_gray, JPEG (FF D8 FF) -> decode_jpeg_gray. Throws k2k::Error
// "<name>: empty file", or "<name>: not a PNG or JPEG image (starts with 47 49 46 38 39 61 01 00)"
// giving at most the first 8 bytes in hex.
Image decode_image_gray(const uint8_t* data, size_t size, const std::string& name, const PngReadOptions& options = {});

// Reads the file and decode_image_gray's it. A file over kMaxImageFileBytes is refused before it is
// read: "<path>: file is N bytes, more than the 64 MB limit"; a missing one gives read_file_bytes'
// error.
Image read_image_gray(const std::string& path, const PngReadOptions& options = {});

// "png", "jpeg" or "" (neither) from the signature alone.
const char* image_format(const uint8_t* data, size_t size);

}  // namespace k2k
