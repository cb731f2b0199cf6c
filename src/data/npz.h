// Readers (and a writer, for fixtures) of the array files the classification benchmarks ship in:
// NumPy .npy / .npz (KMNIST, Kuzushiji-49) and MNIST idx (optionally gzipped).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace k2k {

// Largest array the readers accept unless told otherwise: 1 GiB (Kuzushiji-49's training images,
// the largest official file, are 232,365 x 28 x 28 = 182 MB). Checked from the header, before the
// array is read or inflated.
constexpr uint64_t kArrayMaxBytes = uint64_t(1) << 30;

// One n-dimensional array, C order, little endian.
struct NdArray {
    std::string dtype;            // element type as NumPy spells it without byte order: u1 i1 u2 i2 u4 i4 u8 i8 f4 f8
    std::vector<int64_t> shape;   // sizes, outermost first; {} is a scalar
    std::vector<uint8_t> bytes;   // count() * itemsize() bytes

    int64_t count() const;        // product of shape
    int64_t itemsize() const;     // bytes per element
    // Element i as int64 (integer dtypes only; throws k2k::Error for float dtypes).
    int64_t integer_at(int64_t i) const;
};

// Parses the bytes of a .npy file (format 1.0, 2.0, 3.0). `name` names it in errors:
// "<name>: not a .npy array (bad magic)", "<name>: Fortran-order arrays are not supported",
// "<name>: unsupported dtype '>f8' (expected a little-endian integer or float type)",
// "<name>: header says (10000, 28, 28) uint8 = 7840000 bytes, the file holds 7839000".
NdArray parse_npy(const uint8_t* data, size_t size, const std::string& name, uint64_t max_bytes = kArrayMaxBytes);

// Reads member `member` (e.g. "arr_0"; ".npy" is appended when missing) of a .npz archive (a zip,
// stored or deflated). Throws k2k::Error("<path>: <cause>") for a missing or non-zip file, a
// missing member (listing the members), an array over `max_bytes`, or a malformed array.
NdArray read_npz(const std::string& path, const std::string& member = "arr_0", uint64_t max_bytes = kArrayMaxBytes);

// Writes `arrays` (member name without ".npy", array) as an uncompressed .npz, atomically.
void write_npz(const std::string& path, const std::vector<std::pair<std::string, NdArray>>& arrays);

// Reads an MNIST idx file (magic 0x00 0x00 type ndim, big-endian u32 sizes, then the data), gzip
// compressed or not (detected from the first bytes). Only type 0x08 (unsigned byte) is read.
// Throws k2k::Error("<path>: <cause>") for a bad magic, an unsupported type, a size over
// `max_bytes`, or data shorter or longer than the header says.
NdArray read_idx(const std::string& path, uint64_t max_bytes = kArrayMaxBytes);

}  // namespace k2k
