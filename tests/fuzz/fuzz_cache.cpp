// libFuzzer target: load_dataset (src/data/cache.h) on arbitrary bytes, written to a per-process
// temp file first (the loader maps a path).
//
// The loader verifies an XXH64 checksum of the payload before it parses any block, so nearly
// every mutation would stop there. Each input is therefore loaded twice: as it is (the header and
// checksum checks), and, when it has a 48-byte header, with the header's payload size and checksum
// recomputed, which lets the mutations reach the block reader and Dataset::inconsistency. Checked:
// k2k::Error is the only exception; and for a dataset that loads, the accessors of its first 64
// modern and 64 old entries stay in bounds (ASan checks the reads) and agree on the sizes.
#include <cstdint>
#include <cstring>
#include <vector>

#include "data/cache.h"
#include "fuzz_support.h"
#include "util/error.h"

namespace {

constexpr size_t kHeaderBytes = 48;    // magic, version, header size, two counts, payload bytes, XXH64
constexpr size_t kPayloadBytesAt = 32;
constexpr size_t kChecksumAt = 40;
constexpr size_t kEntriesTouched = 64;

void touch(const k2k::Dataset& ds) {
    for (size_t i = 0; i < ds.num_modern() && i < kEntriesTouched; i++) {
        k2k::Strokes strokes = ds.modern_strokes(i);
        size_t n = 0;
        for (const k2k::Polyline& line : strokes) n += line.size();
        if (n != ds.modern_num_points(i) || strokes.size() != ds.modern_num_strokes(i))
            k2k::fuzz::bug("modern entry %zu: the accessors disagree on its size", i);
        if (ds.modern_raster_image(i).pixels.size() != ds.image_bytes())
            k2k::fuzz::bug("modern entry %zu: raster of the wrong size", i);
        if (uint8_t(ds.modern_split(i)) > uint8_t(k2k::Split::Test)) k2k::fuzz::bug("modern entry %zu: bad split", i);
        (void)ds.modern_variant(i);
        (void)ds.modern_element(i);
    }
    for (size_t i = 0; i < ds.num_old() && i < kEntriesTouched; i++) {
        if (ds.old_image_copy(i).pixels.size() != ds.image_bytes()) k2k::fuzz::bug("old entry %zu: image of the wrong size", i);
        if (uint8_t(ds.old_split(i)) > uint8_t(k2k::Split::Test)) k2k::fuzz::bug("old entry %zu: bad split", i);
        (void)ds.old_name(i);
    }
}

void load(const uint8_t* data, size_t size) {
    static k2k::fuzz::TempInput temp("cache", ".cache");
    const std::string& path = temp.write(data, size);
    k2k::Dataset ds;
    try {
        ds = k2k::load_dataset(path);
    } catch (const k2k::Error&) {
        return;
    }
    touch(ds);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    load(data, size);
    if (size >= kHeaderBytes) {
        std::vector<uint8_t> fixed(data, data + size);
        const uint64_t payload_bytes = size - kHeaderBytes;
        const uint64_t sum = k2k::xxh64(fixed.data() + kHeaderBytes, size_t(payload_bytes));
        std::memcpy(&fixed[kPayloadBytesAt], &payload_bytes, 8);
        std::memcpy(&fixed[kChecksumAt], &sum, 8);
        if (std::memcmp(fixed.data(), data, size) != 0) load(fixed.data(), fixed.size());
    }
    return 0;
}
