// .npy / .npz (libzip) and MNIST idx (zlib) readers. Every size is checked against the header
// and against max_bytes before anything is allocated, so a small file cannot claim gigabytes.
#include "data/npz.h"

#include <unistd.h>
#include <zip.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "util/error.h"

namespace k2k {

namespace {

struct DtypeInfo {
    const char* name;
    int64_t size;
    bool is_float;
};

const DtypeInfo kDtypes[] = {{"u1", 1, false}, {"i1", 1, false}, {"u2", 2, false}, {"i2", 2, false},
                             {"u4", 4, false}, {"i4", 4, false}, {"u8", 8, false}, {"i8", 8, false},
                             {"f4", 4, true},  {"f8", 8, true}};

const DtypeInfo* find_dtype(const std::string& name) {
    for (const DtypeInfo& d : kDtypes)
        if (name == d.name) return &d;
    return nullptr;
}

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");
}

// Product of the sizes times the item size; throws when it overflows or passes max_bytes.
uint64_t checked_bytes(const std::vector<int64_t>& shape, int64_t itemsize, uint64_t max_bytes, const std::string& name) {
    uint64_t total = uint64_t(itemsize);
    for (int64_t s : shape) {
        if (s < 0) throw Error(name + ": negative size in shape " + shape_text(shape));
        if (s != 0 && total > max_bytes / uint64_t(s))
            throw Error(name + ": array of shape " + shape_text(shape) + " is larger than the limit of " +
                        std::to_string(max_bytes) + " bytes");
        total *= uint64_t(s);
    }
    if (total > max_bytes)
        throw Error(name + ": array of shape " + shape_text(shape) + " is larger than the limit of " +
                    std::to_string(max_bytes) + " bytes");
    return total;
}

// The value of 'key' in the .npy header dict, from the character after its ':' (spaces skipped).
size_t dict_value(const std::string& header, const std::string& key, const std::string& name) {
    size_t at = header.find("'" + key + "'");
    if (at == std::string::npos) throw Error(name + ": .npy header has no '" + key + "' (" + header + ")");
    at = header.find(':', at);
    if (at == std::string::npos) throw Error(name + ": malformed .npy header (" + header + ")");
    ++at;
    while (at < header.size() && header[at] == ' ') ++at;
    return at;
}

std::vector<int64_t> parse_shape(const std::string& header, const std::string& name) {
    size_t p = dict_value(header, "shape", name);
    if (p >= header.size() || header[p] != '(') throw Error(name + ": malformed shape in .npy header (" + header + ")");
    const size_t end = header.find(')', p);
    if (end == std::string::npos) throw Error(name + ": malformed shape in .npy header (" + header + ")");
    std::vector<int64_t> shape;
    std::string number;
    for (size_t i = p + 1; i <= end; ++i) {
        const char c = header[i];
        if (c >= '0' && c <= '9') {
            number += c;
            if (number.size() > 15) throw Error(name + ": size too large in .npy shape (" + header + ")");
        } else if (c == ',' || c == ')' || c == ' ' || c == 'L') {
            if (!number.empty()) shape.push_back(std::stoll(number));
            number.clear();
        } else {
            throw Error(name + ": malformed shape in .npy header (" + header + ")");
        }
    }
    if (shape.size() > 32) throw Error(name + ": more than 32 dimensions in .npy shape");
    return shape;
}

struct ZipCloser {
    void operator()(zip_t* z) const { zip_discard(z); }
};

}  // namespace

int64_t NdArray::count() const {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    return n;
}

int64_t NdArray::itemsize() const {
    const DtypeInfo* d = find_dtype(dtype);
    return d ? d->size : 0;
}

int64_t NdArray::integer_at(int64_t i) const {
    const uint8_t* p = bytes.data() + i * itemsize();
    if (dtype == "u1") return p[0];
    if (dtype == "i1") return int8_t(p[0]);
    uint64_t v = 0;
    const int64_t n = itemsize();
    for (int64_t b = n - 1; b >= 0; --b) v = v << 8 | p[b];
    if (dtype == "u2" || dtype == "u4" || dtype == "u8") return int64_t(v);
    if (dtype == "i2") return int16_t(v);
    if (dtype == "i4") return int32_t(v);
    if (dtype == "i8") return int64_t(v);
    throw Error("array of dtype " + dtype + " read as integers");
}

NdArray parse_npy(const uint8_t* data, size_t size, const std::string& name, uint64_t max_bytes) {
    if (size < 10 || std::memcmp(data, "\x93NUMPY", 6) != 0) throw Error(name + ": not a .npy array (bad magic)");
    const int major = data[6];
    size_t header_len = 0, start = 0;
    if (major == 1) {
        header_len = size_t(data[8]) | size_t(data[9]) << 8;
        start = 10;
    } else if (major == 2 || major == 3) {
        if (size < 12) throw Error(name + ": .npy file cut short in its header");
        header_len = size_t(data[8]) | size_t(data[9]) << 8 | size_t(data[10]) << 16 | size_t(data[11]) << 24;
        start = 12;
    } else {
        throw Error(name + ": unsupported .npy format version " + std::to_string(major) + " (this build reads 1 to 3)");
    }
    if (header_len > size - start) throw Error(name + ": .npy file cut short in its header");
    const std::string header(reinterpret_cast<const char*>(data + start), header_len);

    size_t p = dict_value(header, "descr", name);
    if (p >= header.size() || (header[p] != '\'' && header[p] != '"'))
        throw Error(name + ": unsupported dtype in .npy header (" + header + ")");
    const size_t close = header.find(header[p], p + 1);
    if (close == std::string::npos) throw Error(name + ": malformed .npy header (" + header + ")");
    const std::string descr = header.substr(p + 1, close - p - 1);
    const std::string type = descr.size() == 3 ? descr.substr(1) : "";
    const DtypeInfo* d = find_dtype(type);
    const bool order_ok = !descr.empty() && (descr[0] == '<' || descr[0] == '|');
    if (d == nullptr || !order_ok || (descr[0] == '|' && d->size != 1))
        throw Error(name + ": unsupported dtype '" + descr + "' (expected a little-endian integer or float type)");

    p = dict_value(header, "fortran_order", name);
    if (header.compare(p, 4, "True") == 0) throw Error(name + ": Fortran-order arrays are not supported");
    if (header.compare(p, 5, "False") != 0) throw Error(name + ": malformed .npy header (" + header + ")");

    NdArray array;
    array.dtype = type;
    array.shape = parse_shape(header, name);
    const uint64_t want = checked_bytes(array.shape, d->size, max_bytes, name);
    const size_t have = size - start - header_len;
    if (have != want)
        throw Error(name + ": header says " + shape_text(array.shape) + " " + descr + " = " + std::to_string(want) +
                    " bytes, the file holds " + std::to_string(have));
    array.bytes.assign(data + start + header_len, data + size);
    return array;
}

NdArray read_npz(const std::string& path, const std::string& member, uint64_t max_bytes) {
    int code = 0;
    std::unique_ptr<zip_t, ZipCloser> archive(zip_open(path.c_str(), ZIP_RDONLY, &code));
    if (!archive) {
        zip_error_t error;
        zip_error_init_with_code(&error, code);
        std::string cause = zip_error_strerror(&error);
        zip_error_fini(&error);
        if (code == ZIP_ER_NOZIP) cause = "not a .npz (zip) archive";
        throw Error(path + ": cannot open (" + cause + ")");
    }
    const std::string entry = member.size() > 4 && member.compare(member.size() - 4, 4, ".npy") == 0 ? member : member + ".npy";
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat(archive.get(), entry.c_str(), 0, &st) != 0) {
        std::string members;
        const zip_int64_t n = zip_get_num_entries(archive.get(), 0);
        for (zip_int64_t i = 0; i < n && i < 20; ++i) {
            const char* m = zip_get_name(archive.get(), zip_uint64_t(i), 0);
            members += std::string(i ? ", " : "") + (m ? m : "?");
        }
        throw Error(path + ": no member " + entry + " (members: " + (members.empty() ? "none" : members) + ")");
    }
    const std::string name = path + ": " + entry;
    if (!(st.valid & ZIP_STAT_SIZE)) throw Error(name + ": size unknown");
    if (st.size > max_bytes + 4096)
        throw Error(name + ": " + std::to_string(st.size) + " bytes uncompressed, more than the limit of " +
                    std::to_string(max_bytes) + " bytes");
    zip_file_t* file = zip_fopen(archive.get(), entry.c_str(), 0);
    if (!file) throw Error(name + ": cannot read (" + zip_strerror(archive.get()) + ")");
    std::vector<uint8_t> bytes(size_t(st.size));
    const zip_int64_t got = bytes.empty() ? 0 : zip_fread(file, bytes.data(), st.size);
    std::string cause = got < 0 ? zip_file_strerror(file) : "";
    zip_fclose(file);
    if (got < 0) throw Error(name + ": cannot read (" + cause + ")");
    if (zip_uint64_t(got) != st.size)
        throw Error(name + ": cut short (" + std::to_string(got) + " of " + std::to_string(st.size) + " bytes)");
    return parse_npy(bytes.data(), bytes.size(), name, max_bytes);
}

void write_npz(const std::string& path, const std::vector<std::pair<std::string, NdArray>>& arrays) {
    namespace fs = std::filesystem;
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty()) fs::create_directories(parent);
    const std::string tmp = path + ".tmp." + std::to_string(getpid());
    std::remove(tmp.c_str());
    int code = 0;
    zip_t* archive = zip_open(tmp.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
    if (!archive) throw Error(tmp + ": cannot create (libzip error " + std::to_string(code) + ")");
    std::vector<std::vector<uint8_t>> files;  // must outlive zip_close
    files.reserve(arrays.size());
    for (const auto& [member, array] : arrays) {
        std::string shape = shape_text(array.shape);
        std::string header = "{'descr': '" + std::string(array.itemsize() == 1 ? "|" : "<") + array.dtype +
                             "', 'fortran_order': False, 'shape': " + shape + ", }";
        while ((10 + header.size() + 1) % 64 != 0) header += ' ';
        header += '\n';
        std::vector<uint8_t> file = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, uint8_t(header.size() & 0xff),
                                     uint8_t(header.size() >> 8)};
        file.insert(file.end(), header.begin(), header.end());
        file.insert(file.end(), array.bytes.begin(), array.bytes.end());
        files.push_back(std::move(file));
        zip_source_t* source = zip_source_buffer(archive, files.back().data(), files.back().size(), 0);
        const zip_int64_t index = source ? zip_file_add(archive, (member + ".npy").c_str(), source, ZIP_FL_OVERWRITE) : -1;
        if (index < 0) {
            if (source) zip_source_free(source);
            const std::string cause = zip_strerror(archive);
            zip_discard(archive);
            std::remove(tmp.c_str());
            throw Error(path + ": cannot write member " + member + " (" + cause + ")");
        }
        zip_set_file_compression(archive, zip_uint64_t(index), ZIP_CM_STORE, 0);
    }
    if (zip_close(archive) != 0) {
        const std::string cause = zip_strerror(archive);
        zip_discard(archive);
        std::remove(tmp.c_str());
        throw Error(path + ": cannot write (" + cause + ")");
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        std::remove(tmp.c_str());
        throw Error(path + ": cannot write (" + ec.message() + ")");
    }
}

NdArray read_idx(const std::string& path, uint64_t max_bytes) {
    gzFile file = gzopen(path.c_str(), "rb");  // reads plain files unchanged
    if (!file) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
    std::unique_ptr<gzFile_s, int (*)(gzFile)> closer(file, gzclose);
    auto read_exact = [&](void* into, unsigned n) {
        const int got = gzread(file, into, n);
        if (got < 0) {
            int err = 0;
            throw Error(path + ": malformed (" + gzerror(file, &err) + ")");
        }
        return unsigned(got) == n;
    };
    uint8_t magic[4];
    if (!read_exact(magic, 4) || magic[0] != 0 || magic[1] != 0)
        throw Error(path + ": not an MNIST idx file (bad magic)");
    if (magic[2] != 0x08)
        throw Error(path + ": idx element type 0x" + std::to_string(magic[2]) + " is not supported (only 0x08, unsigned byte)");
    const int ndim = magic[3];
    if (ndim < 1 || ndim > 4) throw Error(path + ": idx file with " + std::to_string(ndim) + " dimensions (expected 1 to 4)");
    NdArray array;
    array.dtype = "u1";
    for (int i = 0; i < ndim; ++i) {
        uint8_t b[4];
        if (!read_exact(b, 4)) throw Error(path + ": idx file cut short in its header");
        array.shape.push_back(int64_t(uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3]));
    }
    const uint64_t want = checked_bytes(array.shape, 1, max_bytes, path);
    array.bytes.resize(size_t(want));
    size_t done = 0;
    while (done < want) {
        const unsigned chunk = unsigned(std::min<uint64_t>(want - done, 1u << 30));
        const int got = gzread(file, array.bytes.data() + done, chunk);
        if (got < 0) {
            int err = 0;
            throw Error(path + ": malformed (" + gzerror(file, &err) + ")");
        }
        if (got == 0) break;
        done += size_t(got);
    }
    if (done != want)
        throw Error(path + ": header says " + shape_text(array.shape) + " = " + std::to_string(want) + " bytes, the file holds " +
                    std::to_string(done));
    uint8_t extra;
    if (gzread(file, &extra, 1) > 0) throw Error(path + ": data after the " + std::to_string(want) + " bytes its header gives");
    return array;
}

}  // namespace k2k
