// Dataset cache: serialisation of the flat arrays into checksummed 8-byte-aligned blocks, and a
// loader that maps the file once, verifies XXH64 and bulk-copies each block into its array.
#include "data/cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <type_traits>

#include "data/kanjivg.h"
#include "util/error.h"
#include "util/fs.h"

namespace k2k {

static_assert(sizeof(Point) == 8 && std::is_trivially_copyable<Point>::value, "points are stored as raw f32 pairs");
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the dataset cache is written in the host's byte order, which must be little-endian"
#endif

// ---- XXH64 ----

namespace {

constexpr uint64_t kP1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t kP2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t kP3 = 0x165667B19E3779F9ULL;
constexpr uint64_t kP4 = 0x85EBCA77C2B2AE63ULL;
constexpr uint64_t kP5 = 0x27D4EB2F165667C5ULL;

inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
inline uint64_t load64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}
inline uint32_t load32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
inline uint64_t xxh_round(uint64_t acc, uint64_t input) {
    acc += input * kP2;
    acc = rotl64(acc, 31);
    return acc * kP1;
}
inline uint64_t xxh_merge(uint64_t acc, uint64_t val) {
    acc ^= xxh_round(0, val);
    return acc * kP1 + kP4;
}

}  // namespace

Xxh64::Xxh64(uint64_t s) : seed(s) {
    acc[0] = s + kP1 + kP2;
    acc[1] = s + kP2;
    acc[2] = s;
    acc[3] = s - kP1;
}

void Xxh64::update(const void* data, size_t size) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    total += size;
    if (buffered + size < 32) {
        if (size) std::memcpy(buffer + buffered, p, size);
        buffered += size;
        return;
    }
    if (buffered) {
        size_t fill = 32 - buffered;
        std::memcpy(buffer + buffered, p, fill);
        for (int lane = 0; lane < 4; ++lane) acc[lane] = xxh_round(acc[lane], load64(buffer + 8 * lane));
        p += fill;
        size -= fill;
        buffered = 0;
    }
    // Four independent lanes: the multiplies of one stripe overlap, hence ~10 GB/s.
    uint64_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    const uint8_t* limit = p + (size & ~size_t(31));
    for (; p < limit; p += 32) {
        a0 = xxh_round(a0, load64(p));
        a1 = xxh_round(a1, load64(p + 8));
        a2 = xxh_round(a2, load64(p + 16));
        a3 = xxh_round(a3, load64(p + 24));
    }
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
    buffered = size & 31;
    if (buffered) std::memcpy(buffer, p, buffered);
}

uint64_t Xxh64::digest() const {
    uint64_t h;
    if (total >= 32) {
        h = rotl64(acc[0], 1) + rotl64(acc[1], 7) + rotl64(acc[2], 12) + rotl64(acc[3], 18);
        for (int lane = 0; lane < 4; ++lane) h = xxh_merge(h, acc[lane]);
    } else {
        h = seed + kP5;
    }
    h += total;
    const uint8_t* p = buffer;
    size_t left = buffered;
    for (; left >= 8; left -= 8, p += 8) h = rotl64(h ^ xxh_round(0, load64(p)), 27) * kP1 + kP4;
    if (left >= 4) {
        h = rotl64(h ^ (uint64_t(load32(p)) * kP1), 23) * kP2 + kP3;
        left -= 4;
        p += 4;
    }
    for (; left > 0; --left, ++p) h = rotl64(h ^ (uint64_t(*p) * kP5), 11) * kP1;
    h ^= h >> 33;
    h *= kP2;
    h ^= h >> 29;
    h *= kP3;
    h ^= h >> 32;
    return h;
}

uint64_t xxh64(const void* data, size_t size, uint64_t seed) {
    Xxh64 h(seed);
    h.update(data, size);
    return h.digest();
}

// ---- Dataset ----

void StringColumn::push_back(const std::string& s) {
    if (chars.size() + s.size() > std::numeric_limits<uint32_t>::max())
        throw Error("dataset: string column passes 4 GiB");
    chars += s;
    offsets.push_back(uint32_t(chars.size()));
}

size_t Dataset::modern_num_points(size_t i) const {
    return modern_stroke_offsets[modern_char_strokes[i + 1]] - modern_stroke_offsets[modern_char_strokes[i]];
}

Strokes Dataset::modern_strokes(size_t i) const {
    Strokes strokes;
    strokes.reserve(modern_num_strokes(i));
    for (uint32_t s = modern_char_strokes[i]; s < modern_char_strokes[i + 1]; ++s)
        strokes.emplace_back(modern_points.begin() + modern_stroke_offsets[s],
                             modern_points.begin() + modern_stroke_offsets[s + 1]);
    return strokes;
}

Image Dataset::modern_raster_image(size_t i) const {
    Image image(meta.raster.size, meta.raster.size);
    std::memcpy(image.pixels.data(), modern_raster(i), image_bytes());
    return image;
}

Image Dataset::old_image_copy(size_t i) const {
    Image image(meta.raster.size, meta.raster.size);
    std::memcpy(image.pixels.data(), old_image(i), image_bytes());
    return image;
}

namespace {

std::vector<size_t> indices_of(const std::vector<uint8_t>& splits, Split split) {
    std::vector<size_t> out;
    for (size_t i = 0; i < splits.size(); ++i)
        if (splits[i] == uint8_t(split)) out.push_back(i);
    return out;
}

void check_square(const Image& image, int size, const char* what, uint32_t codepoint) {
    if (image.width != size || image.height != size || image.pixels.size() != size_t(size) * size_t(size)) {
        throw Error(std::string("dataset: ") + what + " of " + codepoint_label(codepoint) + " is " +
                    std::to_string(image.width) + "x" + std::to_string(image.height) + ", expected " +
                    std::to_string(size) + "x" + std::to_string(size) + " (meta.raster.size)");
    }
}

constexpr uint64_t kU32Max = std::numeric_limits<uint32_t>::max();

}  // namespace

size_t Dataset::find_modern(uint32_t codepoint, std::string_view variant) const {
    for (size_t i = 0; i < num_modern(); ++i)
        if (modern_codepoints[i] == codepoint && modern_variants.at(i) == variant) return i;
    return npos;
}

std::map<uint32_t, size_t> Dataset::base_entries() const {
    std::map<uint32_t, size_t> base;
    for (size_t i = 0; i < num_modern(); ++i)
        if (modern_variants.at(i).empty()) base.emplace(modern_codepoints[i], i);  // emplace keeps the first
    return base;
}

size_t Dataset::require_modern(uint32_t codepoint, std::string_view variant, const std::string& source) const {
    size_t i = find_modern(codepoint, variant);
    if (i == npos)
        throw Error(source + ": no KanjiVG entry for " + codepoint_label(codepoint) +
                    (variant.empty() ? std::string() : " variant " + std::string(variant)));
    return i;
}

std::vector<size_t> Dataset::modern_indices(Split split) const { return indices_of(modern_splits, split); }
std::vector<size_t> Dataset::old_indices(Split split) const { return indices_of(old_splits, split); }

size_t Dataset::add_modern(uint32_t codepoint, const std::string& variant, const std::string& element, Split split,
                           const Strokes& strokes, const Image& raster) {
    check_square(raster, meta.raster.size, "modern raster", codepoint);
    size_t new_points = 0;
    for (const Polyline& line : strokes) new_points += line.size();
    // Checked before any push so that a throw leaves the arrays consistent.
    if (modern_points.size() + new_points > kU32Max || modern_stroke_offsets.size() + strokes.size() > kU32Max ||
        modern_codepoints.size() + 1 >= kU32Max || modern_variants.chars.size() + variant.size() > kU32Max ||
        modern_elements.chars.size() + element.size() > kU32Max)
        throw Error("dataset: more than 2^32 modern points, strokes, entries or string bytes");
    modern_codepoints.push_back(codepoint);
    modern_splits.push_back(uint8_t(split));
    modern_variants.push_back(variant);
    modern_elements.push_back(element);
    for (const Polyline& line : strokes) {
        modern_points.insert(modern_points.end(), line.begin(), line.end());
        modern_stroke_offsets.push_back(uint32_t(modern_points.size()));
    }
    modern_char_strokes.push_back(uint32_t(modern_stroke_offsets.size() - 1));
    modern_rasters.insert(modern_rasters.end(), raster.pixels.begin(), raster.pixels.end());
    return modern_codepoints.size() - 1;
}

size_t Dataset::add_old(uint32_t codepoint, const std::string& name, Split split, const Image& image) {
    check_square(image, meta.raster.size, "old image", codepoint);
    if (old_codepoints.size() + 1 >= kU32Max || old_names.chars.size() + name.size() > kU32Max)
        throw Error("dataset: more than 2^32 old entries or string bytes");
    old_codepoints.push_back(codepoint);
    old_splits.push_back(uint8_t(split));
    old_names.push_back(name);
    old_images.insert(old_images.end(), image.pixels.begin(), image.pixels.end());
    return old_codepoints.size() - 1;
}

namespace {

// "" when offsets start at 0, never decrease and end at `end`.
std::string check_offsets(const std::vector<uint32_t>& offsets, size_t count, uint64_t end, const char* what) {
    if (offsets.size() != count + 1)
        return std::string(what) + " has " + std::to_string(offsets.size()) + " offsets, expected " +
               std::to_string(count + 1);
    if (offsets[0] != 0) return std::string(what) + " do not start at 0";
    for (size_t i = 1; i < offsets.size(); ++i)
        if (offsets[i] < offsets[i - 1]) return std::string(what) + " decrease at " + std::to_string(i);
    if (offsets.back() != end)
        return std::string(what) + " end at " + std::to_string(offsets.back()) + ", expected " + std::to_string(end);
    return "";
}

std::string check_splits(const std::vector<uint8_t>& splits, size_t count, const char* what) {
    if (splits.size() != count)
        return std::string(what) + " has " + std::to_string(splits.size()) + " values, expected " +
               std::to_string(count);
    for (size_t i = 0; i < splits.size(); ++i)
        if (splits[i] > uint8_t(Split::Test))
            return std::string(what) + " value " + std::to_string(splits[i]) + " at " + std::to_string(i) +
                   " is not a split";
    return "";
}

std::string check_bytes(size_t have, size_t count, size_t each, const char* what) {
    if (have != count * each)
        return std::string(what) + " hold " + std::to_string(have) + " bytes, expected " +
               std::to_string(count * each);
    return "";
}

}  // namespace

std::string Dataset::inconsistency() const {
    if (meta.raster.size < 1 || meta.raster.size > 4096)
        return "raster size " + std::to_string(meta.raster.size) + " is outside 1..4096";
    size_t n = modern_codepoints.size();
    size_t num_strokes = modern_stroke_offsets.empty() ? 0 : modern_stroke_offsets.size() - 1;
    const StringColumn& variants = modern_variants;
    const StringColumn& elements = modern_elements;
    std::string bad;
    if (bad.empty()) bad = check_splits(modern_splits, n, "modern splits");
    if (bad.empty()) bad = check_offsets(variants.offsets, n, variants.chars.size(), "modern variant offsets");
    if (bad.empty()) bad = check_offsets(elements.offsets, n, elements.chars.size(), "modern element offsets");
    if (bad.empty()) bad = check_offsets(modern_stroke_offsets, num_strokes, modern_points.size(),
                                         "modern stroke offsets");
    if (bad.empty()) bad = check_offsets(modern_char_strokes, n, num_strokes, "modern per-entry stroke offsets");
    if (bad.empty()) bad = check_bytes(modern_rasters.size(), n, image_bytes(), "modern rasters");
    size_t m = old_codepoints.size();
    if (bad.empty()) bad = check_splits(old_splits, m, "old splits");
    if (bad.empty()) bad = check_offsets(old_names.offsets, m, old_names.chars.size(), "old name offsets");
    if (bad.empty()) bad = check_bytes(old_images.size(), m, image_bytes(), "old images");
    return bad;
}

// ---- file format ----

namespace {

constexpr char kMagic[8] = {'K', '2', 'K', 'C', 'A', 'C', 'H', 'E'};
constexpr size_t kHeaderBytes = 48;
constexpr size_t kMetaBytes = 56;  // the fixed-size numbers of DatasetMeta, see meta_bytes()

using Emit = std::function<void(const void*, size_t)>;

// Small little-endian record builder for the header and the meta block.
struct Record {
    std::vector<uint8_t> bytes;
    template <typename T>
    void put(T v) {
        static_assert(std::is_arithmetic<T>::value, "numbers only");
        const uint8_t* p = reinterpret_cast<const uint8_t*>(&v);
        bytes.insert(bytes.end(), p, p + sizeof(T));
    }
};

struct Cursor {
    const uint8_t* p;
    template <typename T>
    T get() {
        T v;
        std::memcpy(&v, p, sizeof(T));
        p += sizeof(T);
        return v;
    }
};

std::vector<uint8_t> meta_bytes(const DatasetMeta& m) {
    Record r;
    r.put<int32_t>(m.raster.size);
    r.put<float>(m.raster.line_width);
    r.put<float>(m.raster.margin);
    r.put<float>(m.raster.canvas);
    r.put<uint8_t>(m.raster.fit_bbox ? 1 : 0);
    r.put<uint8_t>(m.raster.antialias ? 1 : 0);
    r.put<uint16_t>(0);
    r.put<float>(m.curve_tolerance);
    r.put<double>(m.val_ratio);
    r.put<double>(m.test_ratio);
    r.put<uint64_t>(m.modern_skipped);
    r.put<uint64_t>(m.old_skipped);
    return r.bytes;
}

void emit_block(const Emit& emit, const void* data, size_t bytes) {
    static const uint8_t zeros[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    uint64_t len = bytes;
    emit(&len, sizeof(len));
    if (bytes) emit(data, bytes);
    if (bytes % 8) emit(zeros, 8 - bytes % 8);
}

template <typename T>
void emit_vector(const Emit& emit, const std::vector<T>& v) {
    emit_block(emit, v.data(), v.size() * sizeof(T));
}

void emit_payload(const Dataset& ds, const Emit& emit) {
    std::vector<uint8_t> meta = meta_bytes(ds.meta);
    emit_vector(emit, meta);
    emit_block(emit, ds.meta.modern_source.data(), ds.meta.modern_source.size());
    emit_block(emit, ds.meta.old_source.data(), ds.meta.old_source.size());
    emit_vector(emit, ds.modern_codepoints);
    emit_vector(emit, ds.modern_splits);
    emit_vector(emit, ds.modern_variants.offsets);
    emit_block(emit, ds.modern_variants.chars.data(), ds.modern_variants.chars.size());
    emit_vector(emit, ds.modern_elements.offsets);
    emit_block(emit, ds.modern_elements.chars.data(), ds.modern_elements.chars.size());
    emit_vector(emit, ds.modern_stroke_offsets);
    emit_vector(emit, ds.modern_char_strokes);
    emit_vector(emit, ds.modern_points);
    emit_vector(emit, ds.modern_rasters);
    emit_vector(emit, ds.old_codepoints);
    emit_vector(emit, ds.old_splits);
    emit_vector(emit, ds.old_names.offsets);
    emit_block(emit, ds.old_names.chars.data(), ds.old_names.chars.size());
    emit_vector(emit, ds.old_images);
}

const char* kHint = "; re-run 'k2k data prepare'";

std::string hex64(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof(buf), "0x%016" PRIx64, v);
    return buf;
}

// A read-only mapping of a whole file, unmapped on scope exit.
struct Mapping {
    const uint8_t* data = nullptr;
    size_t size = 0;
    ~Mapping() {
        if (data) ::munmap(const_cast<uint8_t*>(data), size);
    }
};

// Walks the payload's blocks; every access is bounds-checked so a malformed file cannot read
// outside the mapping even with a valid checksum (e.g. written by a buggy tool).
struct BlockReader {
    const std::string& path;
    const uint8_t* p;
    const uint8_t* end;

    struct Block {
        const uint8_t* data;
        size_t size;
    };

    Block next(const char* what) {
        if (size_t(end - p) < 8) throw Error(path + ": corrupt (payload ends before the " + what + " block)" + kHint);
        uint64_t len = Cursor{p}.get<uint64_t>();
        p += 8;
        uint64_t padded = len + (8 - len % 8) % 8;
        if (len > uint64_t(end - p) || padded > uint64_t(end - p))
            throw Error(path + ": corrupt (" + what + " block of " + std::to_string(len) +
                        " bytes runs past the payload)" + kHint);
        Block b{p, size_t(len)};
        p += padded;
        return b;
    }

    template <typename T>
    void read_vector(const char* what, std::vector<T>* out) {
        Block b = next(what);
        if (b.size % sizeof(T))
            throw Error(path + ": corrupt (" + what + " block of " + std::to_string(b.size) +
                        " bytes is not a whole number of " + std::to_string(sizeof(T)) + "-byte values)" + kHint);
        if constexpr (std::is_same<T, uint8_t>::value) {  // no zero-fill before the copy
            out->assign(reinterpret_cast<const T*>(b.data), reinterpret_cast<const T*>(b.data) + b.size);
        } else {
            out->resize(b.size / sizeof(T));
            if (b.size) std::memcpy(out->data(), b.data, b.size);
        }
    }

    void read_string(const char* what, std::string* out) {
        Block b = next(what);
        out->assign(reinterpret_cast<const char*>(b.data), b.size);
    }
};

}  // namespace

void save_dataset(const std::string& path, const Dataset& dataset) {
    std::string bad = dataset.inconsistency();
    if (!bad.empty()) throw Error(path + ": refusing to save an inconsistent dataset (" + bad + ")");

    // Pass 1 hashes the payload so the header can carry its checksum; pass 2 writes it.
    Xxh64 hash;
    uint64_t payload_bytes = 0;
    emit_payload(dataset, [&](const void* data, size_t size) {
        hash.update(data, size);
        payload_bytes += size;
    });

    Record header;
    for (char c : kMagic) header.put<char>(c);
    header.put<uint32_t>(kDatasetCacheVersion);
    header.put<uint32_t>(uint32_t(kHeaderBytes));
    header.put<uint64_t>(dataset.num_modern());
    header.put<uint64_t>(dataset.num_old());
    header.put<uint64_t>(payload_bytes);
    header.put<uint64_t>(hash.digest());

    write_file_atomic(path, [&](std::ostream& out) {
        out.write(reinterpret_cast<const char*>(header.bytes.data()), std::streamsize(header.bytes.size()));
        emit_payload(dataset, [&](const void* data, size_t size) {
            out.write(static_cast<const char*>(data), std::streamsize(size));
        });
    });
}

Dataset load_dataset(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path + ": cannot open (" + std::strerror(errno) + "); run 'k2k data prepare' first");
    struct stat st;
    if (::fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        throw Error(path + ": cannot stat (" + std::strerror(err) + ")");
    }
    Mapping map;
    map.size = size_t(st.st_size);
    if (map.size > 0) {
        int flags = MAP_PRIVATE;
#ifdef MAP_POPULATE
        flags |= MAP_POPULATE;  // fault the whole file in at once: the checksum reads all of it anyway
#endif
        void* p = ::mmap(nullptr, map.size, PROT_READ, flags, fd, 0);
        if (p == MAP_FAILED) {
            int err = errno;
            ::close(fd);
            throw Error(path + ": cannot map (" + std::strerror(err) + ")");
        }
        map.data = static_cast<const uint8_t*>(p);
    }
    ::close(fd);

    const std::string found = std::to_string(map.size);
    if (map.size < kHeaderBytes) {
        if (map.size > 0 && std::memcmp(map.data, kMagic, std::min(map.size, sizeof(kMagic))) != 0)
            throw Error(path + ": not a k2k dataset cache (bad magic)" + kHint);
        throw Error(path + ": truncated (expected at least " + std::to_string(kHeaderBytes) + " bytes, found " +
                    found + ")" + kHint);
    }
    if (std::memcmp(map.data, kMagic, sizeof(kMagic)) != 0)
        throw Error(path + ": not a k2k dataset cache (bad magic)" + kHint);
    Cursor header{map.data + sizeof(kMagic)};
    uint32_t version = header.get<uint32_t>();
    uint32_t header_bytes = header.get<uint32_t>();
    uint64_t num_modern = header.get<uint64_t>();
    uint64_t num_old = header.get<uint64_t>();
    uint64_t payload_bytes = header.get<uint64_t>();
    uint64_t stored_sum = header.get<uint64_t>();
    if (version != kDatasetCacheVersion)
        throw Error(path + ": unsupported cache format version " + std::to_string(version) +
                    " (this build reads version " + std::to_string(kDatasetCacheVersion) + ")" + kHint);
    if (header_bytes != kHeaderBytes)
        throw Error(path + ": corrupt (header size " + std::to_string(header_bytes) + ", expected " +
                    std::to_string(kHeaderBytes) + ")" + kHint);
    uint64_t body = map.size - kHeaderBytes;
    if (payload_bytes > body)
        throw Error(path + ": truncated (expected " + std::to_string(kHeaderBytes + payload_bytes) + " bytes, found " +
                    found + ")" + kHint);
    if (payload_bytes < body)
        throw Error(path + ": corrupt (expected " + std::to_string(kHeaderBytes + payload_bytes) + " bytes, found " +
                    found + ")" + kHint);
    const uint8_t* payload = map.data + kHeaderBytes;
    uint64_t sum = xxh64(payload, size_t(payload_bytes));
    if (sum != stored_sum)
        throw Error(path + ": corrupt (checksum mismatch: stored " + hex64(stored_sum) + ", computed " + hex64(sum) +
                    ")" + kHint);

    Dataset ds;
    BlockReader in{path, payload, payload + payload_bytes};
    BlockReader::Block meta = in.next("meta");
    if (meta.size != kMetaBytes)
        throw Error(path + ": corrupt (meta block of " + std::to_string(meta.size) + " bytes, expected " +
                    std::to_string(kMetaBytes) + ")" + kHint);
    Cursor m{meta.data};
    ds.meta.raster.size = m.get<int32_t>();
    ds.meta.raster.line_width = m.get<float>();
    ds.meta.raster.margin = m.get<float>();
    ds.meta.raster.canvas = m.get<float>();
    ds.meta.raster.fit_bbox = m.get<uint8_t>() != 0;
    ds.meta.raster.antialias = m.get<uint8_t>() != 0;
    m.get<uint16_t>();
    ds.meta.curve_tolerance = m.get<float>();
    ds.meta.val_ratio = m.get<double>();
    ds.meta.test_ratio = m.get<double>();
    ds.meta.modern_skipped = m.get<uint64_t>();
    ds.meta.old_skipped = m.get<uint64_t>();
    in.read_string("modern source", &ds.meta.modern_source);
    in.read_string("old source", &ds.meta.old_source);
    in.read_vector("modern code points", &ds.modern_codepoints);
    in.read_vector("modern splits", &ds.modern_splits);
    in.read_vector("modern variant offsets", &ds.modern_variants.offsets);
    in.read_string("modern variants", &ds.modern_variants.chars);
    in.read_vector("modern element offsets", &ds.modern_elements.offsets);
    in.read_string("modern elements", &ds.modern_elements.chars);
    in.read_vector("modern stroke offsets", &ds.modern_stroke_offsets);
    in.read_vector("modern per-entry stroke offsets", &ds.modern_char_strokes);
    in.read_vector("modern points", &ds.modern_points);
    in.read_vector("modern rasters", &ds.modern_rasters);
    in.read_vector("old code points", &ds.old_codepoints);
    in.read_vector("old splits", &ds.old_splits);
    in.read_vector("old name offsets", &ds.old_names.offsets);
    in.read_string("old names", &ds.old_names.chars);
    in.read_vector("old images", &ds.old_images);
    if (in.p != in.end)
        throw Error(path + ": corrupt (" + std::to_string(in.end - in.p) + " unread bytes after the last block)" +
                    kHint);
    if (ds.num_modern() != num_modern || ds.num_old() != num_old)
        throw Error(path + ": corrupt (header counts " + std::to_string(num_modern) + " modern / " +
                    std::to_string(num_old) + " old entries, payload holds " + std::to_string(ds.num_modern()) +
                    " / " + std::to_string(ds.num_old()) + ")" + kHint);
    std::string bad = ds.inconsistency();
    if (!bad.empty()) throw Error(path + ": corrupt (" + bad + ")" + kHint);
    return ds;
}

}  // namespace k2k
