// The binary dataset cache written by `k2k data prepare`: KanjiVG ("modern") strokes + rasters and
// Kuzushiji-Kanji ("old") images in flat arrays, saved and loaded with one read and a checksum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "data/geometry.h"
#include "data/raster.h"
#include "data/split.h"

namespace k2k {

// File layout, version 1 (little-endian; every block is padded to 8 bytes):
//   header, 48 bytes: magic "K2KCACHE" | u32 version | u32 header size (48) | u64 modern count |
//                     u64 old count | u64 payload bytes | u64 XXH64 (seed 0) of the payload
//   payload: blocks, each u64 byte length + bytes + zero padding, in this order:
//     meta numbers, modern source, old source,
//     modern code points (u32), splits (u8), variant offsets (u32) + chars, element offsets + chars,
//     stroke offsets into points (u32), per-entry offsets into strokes (u32), points (f32 x,y),
//     rasters (u8, size*size each),
//     old code points (u32), splits (u8), name offsets (u32) + chars, images (u8, size*size each).
// Any change to this layout must bump kDatasetCacheVersion.
constexpr uint32_t kDatasetCacheVersion = 1;

struct DatasetMeta {
    RasterOptions raster;         // how the modern rasters were rendered; raster.size (default 64)
                                  // is also the side of every old image
    float curve_tolerance = 0;    // max distance of the flattened polylines from the SVG curves, in
                                  // KanjiVG units; default 0 (unknown)
    double val_ratio = 0.1;       // SplitRatios::val used to assign the splits, default 0.1
    double test_ratio = 0.1;      // SplitRatios::test used to assign the splits, default 0.1
    uint64_t modern_skipped = 0;  // KanjiVG files left out (unreadable, no strokes, ...), default 0
    uint64_t old_skipped = 0;     // Kuzushiji-Kanji images left out (all black, unreadable, not
                                  // 64x64), default 0
    std::string modern_source;    // KanjiVG folder the modern entries came from, default ""
    std::string old_source;       // Kuzushiji-Kanji folder the old entries came from, default ""
};

// Many short strings in one buffer: string i is chars[offsets[i], offsets[i+1]).
struct StringColumn {
    std::string chars;
    std::vector<uint32_t> offsets = {0};

    size_t size() const { return offsets.size() - 1; }
    std::string_view at(size_t i) const {
        return std::string_view(chars).substr(offsets[i], offsets[i + 1] - offsets[i]);
    }
    void push_back(const std::string& s);  // throws k2k::Error past 4 GiB of characters
};

// Everything `k2k data prepare` extracts, as flat arrays. Fill it with add_modern/add_old (after
// setting meta.raster.size), read it with the accessors; the arrays are public for bulk use.
struct Dataset {
    DatasetMeta meta;

    // Modern entries (one per KanjiVG file, base and variants); i in [0, num_modern()).
    std::vector<uint32_t> modern_codepoints;
    std::vector<uint8_t> modern_splits;           // Split values
    StringColumn modern_variants;                 // "" for the base file, "Kaisho" for 05b57-Kaisho.svg
    StringColumn modern_elements;                 // kvg:element, UTF-8, e.g. "字"
    std::vector<Point> modern_points;             // every stroke's absolute points, concatenated
    std::vector<uint32_t> modern_stroke_offsets = {0};  // stroke s is points[so[s], so[s+1])
    std::vector<uint32_t> modern_char_strokes = {0};    // entry i has strokes [cs[i], cs[i+1])
    std::vector<uint8_t> modern_rasters;          // num_modern * size * size, entry-major

    // Old entries (one per Kuzushiji-Kanji image); i in [0, num_old()).
    std::vector<uint32_t> old_codepoints;
    std::vector<uint8_t> old_splits;              // Split values
    StringColumn old_names;                       // "U+5B57/0a1b2c3d4e5f6789.png"
    std::vector<uint8_t> old_images;              // num_old * size * size, white ink on black

    size_t image_bytes() const { return size_t(meta.raster.size) * size_t(meta.raster.size); }

    size_t num_modern() const { return modern_codepoints.size(); }
    uint32_t modern_codepoint(size_t i) const { return modern_codepoints[i]; }
    Split modern_split(size_t i) const { return Split(modern_splits[i]); }
    std::string_view modern_variant(size_t i) const { return modern_variants.at(i); }
    std::string_view modern_element(size_t i) const { return modern_elements.at(i); }
    size_t modern_num_strokes(size_t i) const { return modern_char_strokes[i + 1] - modern_char_strokes[i]; }
    size_t modern_num_points(size_t i) const;
    Strokes modern_strokes(size_t i) const;  // a copy as nested vectors
    const uint8_t* modern_raster(size_t i) const { return modern_rasters.data() + i * image_bytes(); }
    Image modern_raster_image(size_t i) const;  // a copy

    size_t num_old() const { return old_codepoints.size(); }
    uint32_t old_codepoint(size_t i) const { return old_codepoints[i]; }
    Split old_split(size_t i) const { return Split(old_splits[i]); }
    std::string_view old_name(size_t i) const { return old_names.at(i); }
    const uint8_t* old_image(size_t i) const { return old_images.data() + i * image_bytes(); }
    Image old_image_copy(size_t i) const;

    // The modern entry of `codepoint` with `variant` ("" = the base file): the first such entry in
    // index order (a cache holds at most one; prepare never adds a pair twice). npos when absent.
    static constexpr size_t npos = size_t(-1);
    size_t find_modern(uint32_t codepoint, std::string_view variant = {}) const;
    // Code point -> index of its base entry (find_modern(cp, "")), for every base entry.
    std::map<uint32_t, size_t> base_entries() const;
    // find_modern, or k2k::Error "<source>: no KanjiVG entry for U+XXXX [variant V]" when absent.
    size_t require_modern(uint32_t codepoint, std::string_view variant, const std::string& source) const;

    // Indices of the entries in `split`, ascending.
    std::vector<size_t> modern_indices(Split split) const;
    std::vector<size_t> old_indices(Split split) const;

    // Appends an entry and returns its index. Throws k2k::Error when the image is not
    // meta.raster.size square or the arrays would pass 2^32 elements.
    size_t add_modern(uint32_t codepoint, const std::string& variant, const std::string& element, Split split,
                      const Strokes& strokes, const Image& raster);
    size_t add_old(uint32_t codepoint, const std::string& name, Split split, const Image& image);

    // Empty string when the arrays are consistent, else what is wrong (e.g. "old images hold 100
    // bytes, expected 4096"). save_dataset and load_dataset check this.
    std::string inconsistency() const;
};

// Writes `dataset` to `path` atomically (temp file + rename). Throws k2k::Error when the dataset
// is inconsistent or the file cannot be written.
void save_dataset(const std::string& path, const Dataset& dataset);

// Reads a cache written by save_dataset: one mapping of the file, the checksum verified, then
// bulk copies into the arrays. Throws k2k::Error "<path>: <cause>; <hint>" when the file is
// missing, has the wrong magic or version, is truncated, fails its checksum or is malformed.
Dataset load_dataset(const std::string& path);

// XXH64 (Yann Collet's xxHash, 64-bit), the cache checksum; about 10 GB/s on one core.
struct Xxh64 {
    explicit Xxh64(uint64_t seed = 0);
    void update(const void* data, size_t size);
    uint64_t digest() const;

    uint64_t acc[4];
    uint64_t total = 0;
    uint8_t buffer[32];
    size_t buffered = 0;
    uint64_t seed;
};
uint64_t xxh64(const void* data, size_t size, uint64_t seed = 0);

}  // namespace k2k
