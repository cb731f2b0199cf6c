// Tests of data/npz.h: .npy/.npz round trips, the errors of malformed arrays, MNIST idx files
// (plain and gzip), and the real Kuzushiji-MNIST / Kuzushiji-49 files under ../shared/data.
#include "data/npz.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>

#include "test_support.h"
#include "util/fs.h"

namespace k2k {
namespace {

NdArray u8_array(std::vector<int64_t> shape) {
    NdArray a;
    a.dtype = "u1";
    a.shape = shape;
    a.bytes.resize(size_t(a.count()));
    for (size_t i = 0; i < a.bytes.size(); ++i) a.bytes[i] = uint8_t(i * 7 + 3);
    return a;
}

// A .npy file's bytes with the given header dict and payload.
std::vector<uint8_t> npy_bytes(const std::string& dict, size_t payload) {
    std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, uint8_t(dict.size() & 0xff), uint8_t(dict.size() >> 8)};
    out.insert(out.end(), dict.begin(), dict.end());
    out.resize(out.size() + payload, 9);
    return out;
}

std::string npy_error(const std::string& dict, size_t payload) {
    const std::vector<uint8_t> b = npy_bytes(dict, payload);
    return test::error_of([&] { parse_npy(b.data(), b.size(), "a.npy"); });
}

TEST(Npz, WriteThenReadGivesTheSameArrays) {
    const std::string dir = test::make_temp_dir("npz_round_trip");
    NdArray images = u8_array({3, 4, 5});
    NdArray labels;
    labels.dtype = "i8";
    labels.shape = {3};
    for (int64_t v : {int64_t(0), int64_t(-2), int64_t(1) << 40}) {
        for (int b = 0; b < 8; ++b) labels.bytes.push_back(uint8_t(uint64_t(v) >> (8 * b)));
    }
    write_npz(dir + "/x.npz", {{"arr_0", images}, {"labels", labels}});
    const NdArray back = read_npz(dir + "/x.npz");
    EXPECT_EQ(back.dtype, "u1");
    EXPECT_EQ(back.shape, (std::vector<int64_t>{3, 4, 5}));
    EXPECT_EQ(back.bytes, images.bytes);
    const NdArray l = read_npz(dir + "/x.npz", "labels.npy");
    ASSERT_EQ(l.count(), 3);
    EXPECT_EQ(l.integer_at(0), 0);
    EXPECT_EQ(l.integer_at(1), -2);
    EXPECT_EQ(l.integer_at(2), int64_t(1) << 40);
    EXPECT_FALSE(std::filesystem::exists(dir + "/x.npz.tmp." + std::to_string(getpid())));
}

TEST(Npz, ErrorsNameTheFileAndTheCause) {
    const std::string dir = test::make_temp_dir("npz_errors");
    EXPECT_EQ(test::error_of([&] { read_npz(dir + "/missing.npz"); }).rfind(dir + "/missing.npz: cannot open (", 0), 0u);
    write_file_atomic(dir + "/text.npz", std::string("not a zip at all, just text"));
    EXPECT_EQ(test::error_of([&] { read_npz(dir + "/text.npz"); }), dir + "/text.npz: cannot open (not a .npz (zip) archive)");
    write_npz(dir + "/other.npz", {{"images", u8_array({2, 2})}});
    EXPECT_EQ(test::error_of([&] { read_npz(dir + "/other.npz"); }), dir + "/other.npz: no member arr_0.npy (members: images.npy)");
    // Over the caller's limit.
    EXPECT_EQ(test::error_of([&] { read_npz(dir + "/other.npz", "images", 3); }),
              dir + "/other.npz: images.npy: array of shape (2, 2) is larger than the limit of 3 bytes");
}

TEST(Npz, MalformedNpyHeadersAreRefused) {
    const std::vector<uint8_t> junk = {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_EQ(test::error_of([&] { parse_npy(junk.data(), junk.size(), "a.npy"); }), "a.npy: not a .npy array (bad magic)");
    EXPECT_EQ(npy_error("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2), }", 4),
              "a.npy: Fortran-order arrays are not supported");
    EXPECT_EQ(npy_error("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", 16),
              "a.npy: unsupported dtype '>f8' (expected a little-endian integer or float type)");
    EXPECT_EQ(npy_error("{'descr': '<U5', 'fortran_order': False, 'shape': (2,), }", 40),
              "a.npy: unsupported dtype '<U5' (expected a little-endian integer or float type)");
    EXPECT_EQ(npy_error("{'descr': '|u1', 'fortran_order': False, 'shape': (10, 28, 28), }", 7839),
              "a.npy: header says (10, 28, 28) |u1 = 7840 bytes, the file holds 7839");
    // A shape claiming far more than the limit fails before any allocation.
    const std::string huge = npy_error("{'descr': '<i8', 'fortran_order': False, 'shape': (100000000000, 100000), }", 8);
    EXPECT_NE(huge.find("is larger than the limit of 1073741824 bytes"), std::string::npos) << huge;
    EXPECT_EQ(npy_error("{'descr': '|u1', 'fortran_order': False, 'shape': (2, x), }", 4).rfind("a.npy: malformed shape", 0), 0u);
    EXPECT_EQ(npy_error("{'descr': '|u1', 'fortran_order': False, }", 4).rfind("a.npy: .npy header has no 'shape'", 0), 0u);
}

void write_idx(const std::string& path, const std::vector<uint8_t>& bytes, bool gz) {
    if (gz) {
        gzFile f = gzopen(path.c_str(), "wb");
        gzwrite(f, bytes.data(), unsigned(bytes.size()));
        gzclose(f);
    } else {
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    }
}

TEST(Idx, PlainAndGzippedFilesReadTheSame) {
    const std::string dir = test::make_temp_dir("idx");
    std::vector<uint8_t> file = {0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3};
    for (int i = 0; i < 12; ++i) file.push_back(uint8_t(i * 20));
    for (bool gz : {false, true}) {
        const std::string path = dir + (gz ? "/a.gz" : "/a");
        write_idx(path, file, gz);
        const NdArray a = read_idx(path);
        EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 2, 3}));
        EXPECT_EQ(a.bytes, std::vector<uint8_t>(file.begin() + 16, file.end()));
    }
    std::vector<uint8_t> cut(file.begin(), file.end() - 1);
    write_idx(dir + "/cut.gz", cut, true);
    EXPECT_EQ(test::error_of([&] { read_idx(dir + "/cut.gz"); }), dir + "/cut.gz: header says (2, 2, 3) = 12 bytes, the file holds 11");
    std::vector<uint8_t> longer = file;
    longer.push_back(1);
    write_idx(dir + "/long", longer, false);
    EXPECT_EQ(test::error_of([&] { read_idx(dir + "/long"); }), dir + "/long: data after the 12 bytes its header gives");
    std::vector<uint8_t> floats = file;
    floats[2] = 0x0D;
    write_idx(dir + "/f", floats, false);
    EXPECT_EQ(test::error_of([&] { read_idx(dir + "/f"); }), dir + "/f: idx element type 0x13 is not supported (only 0x08, unsigned byte)");
    write_idx(dir + "/png", {0x89, 'P', 'N', 'G'}, false);
    EXPECT_EQ(test::error_of([&] { read_idx(dir + "/png"); }), dir + "/png: not an MNIST idx file (bad magic)");
    // 4 sizes of 65535 claim 18 EB: refused from the header.
    write_idx(dir + "/huge", {0, 0, 0x08, 4, 0, 0, 255, 255, 0, 0, 255, 255, 0, 0, 255, 255, 0, 0, 255, 255}, false);
    EXPECT_NE(test::error_of([&] { read_idx(dir + "/huge"); }).find("larger than the limit"), std::string::npos);
}

TEST(Npz, RealKuzushijiMnistTestArrays) {
    K2K_REQUIRE_SHARED_DATA("kmnist/kmnist-test-imgs.npz");
    const std::string dir = test::shared_data_dir() + "/kmnist";
    const NdArray images = read_npz(dir + "/kmnist-test-imgs.npz");
    EXPECT_EQ(images.dtype, "u1");
    EXPECT_EQ(images.shape, (std::vector<int64_t>{10000, 28, 28}));
    const NdArray labels = read_npz(dir + "/kmnist-test-labels.npz");
    ASSERT_EQ(labels.shape, (std::vector<int64_t>{10000}));
    std::vector<int> per_class(10, 0);
    for (int64_t i = 0; i < labels.count(); ++i) per_class[size_t(labels.integer_at(i))]++;
    EXPECT_EQ(per_class, std::vector<int>(10, 1000));
}

TEST(Npz, RealKuzushiji49StagedArrays) {
    K2K_REQUIRE_SHARED_DATA("k49/k49-test-imgs-first100.npz");
    const std::string dir = test::shared_data_dir() + "/k49";
    const NdArray images = read_npz(dir + "/k49-test-imgs-first100.npz");
    EXPECT_EQ(images.shape, (std::vector<int64_t>{100, 28, 28}));
    const NdArray labels = read_npz(dir + "/k49-test-labels.npz");
    EXPECT_EQ(labels.shape, (std::vector<int64_t>{38547}));
    const NdArray train = read_npz(dir + "/k49-train-labels.npz");
    EXPECT_EQ(train.shape, (std::vector<int64_t>{232365}));
}

}  // namespace
}  // namespace k2k
