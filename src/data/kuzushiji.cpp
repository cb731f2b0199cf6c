// Kuzushiji-Kanji reader: lists the U+ class folders in a fixed order, then decodes the PNGs on
// several threads into pre-sized slots, so the output order never depends on scheduling.
#include "data/kuzushiji.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include "data/png_io.h"
#include "util/error.h"

namespace k2k {

namespace {

namespace fs = std::filesystem;

constexpr int kImageSize = 64;  // every Kuzushiji-Kanji image is 64x64

struct ClassFolder {
    uint32_t codepoint;
    std::string name;  // folder name as found, e.g. "U+5B57"
};

// U+ folders directly under `dir`, sorted by code point (then name, should two spell the same one).
std::vector<ClassFolder> list_class_folders(const fs::path& dir) {
    std::vector<ClassFolder> folders;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        uint32_t cp = 0;
        if (parse_codepoint_label(name, &cp) && it->is_directory(ec)) folders.push_back({cp, name});
    }
    if (ec) throw Error(dir.string() + ": cannot list folder (" + ec.message() + ")");
    std::sort(folders.begin(), folders.end(), [](const ClassFolder& a, const ClassFolder& b) {
        return a.codepoint != b.codepoint ? a.codepoint < b.codepoint : a.name < b.name;
    });
    return folders;
}

bool has_png_extension(const std::string& name) {
    if (name.size() < 4) return false;
    std::string ext = name.substr(name.size() - 4);
    for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
    return ext == ".png";
}

// Reads a whole file into `buf` (reused across calls by one thread: no allocation per image).
void read_into(const std::string& path, std::vector<uint8_t>* buf) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
    struct stat st;
    if (::fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        throw Error(path + ": cannot stat (" + std::strerror(err) + ")");
    }
    buf->resize(size_t(st.st_size));
    size_t done = 0;
    while (done < buf->size()) {
        ssize_t n = ::read(fd, buf->data() + done, buf->size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int err = n < 0 ? errno : 0;
            ::close(fd);
            throw Error(path + ": read failed (" + (err ? std::strerror(err) : "file shrank while reading") + ")");
        }
        done += size_t(n);
    }
    ::close(fd);
}

bool is_blank(const Image& image) {
    for (uint8_t p : image.pixels)
        if (p != 0) return false;
    return true;
}

}  // namespace

bool parse_codepoint_label(const std::string& s, uint32_t* cp) {
    if (s.size() < 6 || s.size() > 8 || s[0] != 'U' || s[1] != '+') return false;
    uint32_t value = 0;
    for (size_t i = 2; i < s.size(); ++i) {
        char c = s[i];
        uint32_t digit;
        if (c >= '0' && c <= '9') digit = uint32_t(c - '0');
        else if (c >= 'A' && c <= 'F') digit = uint32_t(c - 'A' + 10);
        else if (c >= 'a' && c <= 'f') digit = uint32_t(c - 'a' + 10);
        else return false;
        value = value * 16 + digit;
    }
    if (value > 0x10FFFF) return false;
    *cp = value;
    return true;
}

uint32_t parse_character_arg(const std::string& s, const std::string& what) {
    uint32_t cp = 0;
    if (parse_codepoint_label(s, &cp)) return cp;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(s.c_str());
    const size_t n = s.size();
    auto cont = [&](size_t i) { return (p[i] & 0xC0) == 0x80; };
    if (n == 1 && p[0] < 0x80) return p[0];
    if (n == 2 && (p[0] & 0xE0) == 0xC0 && cont(1)) return uint32_t(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
    if (n == 3 && (p[0] & 0xF0) == 0xE0 && cont(1) && cont(2))
        return uint32_t(p[0] & 0x0F) << 12 | uint32_t(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
    if (n == 4 && (p[0] & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3))
        return uint32_t(p[0] & 0x07) << 18 | uint32_t(p[1] & 0x3F) << 12 | uint32_t(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
    throw Error(what + ": '" + s + "' is not a character: expected U+XXXX (e.g. U+5B57) or one character");
}

KuzushijiSet read_kkanji_dir(const std::string& root, int threads) {
    fs::path dir(root);
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw Error(root + ": not a folder (expected the kkanji2 folder of the Kuzushiji-Kanji archive)");
    std::vector<ClassFolder> folders = list_class_folders(dir);
    if (folders.empty() && fs::is_directory(dir / "kkanji2", ec)) {
        dir /= "kkanji2";
        folders = list_class_folders(dir);
    }
    if (folders.empty())
        throw Error(root + ": no U+XXXX class folders (expected the kkanji2 folder of the Kuzushiji-Kanji archive)");

    // One task per PNG, in the final order: classes by code point, files by name.
    struct Task {
        uint32_t codepoint;
        std::string name;  // relative to dir
    };
    std::vector<Task> tasks;
    for (const ClassFolder& folder : folders) {
        std::vector<std::string> files;
        for (fs::directory_iterator it(dir / folder.name, ec), end; !ec && it != end; it.increment(ec)) {
            std::string name = it->path().filename().string();
            if (has_png_extension(name) && it->is_regular_file(ec)) files.push_back(name);
        }
        if (ec) throw Error((dir / folder.name).string() + ": cannot list folder (" + ec.message() + ")");
        std::sort(files.begin(), files.end());
        for (const std::string& f : files) tasks.push_back({folder.codepoint, folder.name + "/" + f});
    }

    std::vector<Image> decoded(tasks.size());
    std::vector<std::string> errors(tasks.size());  // non-empty where a task failed
    std::atomic<size_t> next{0};
    std::string prefix = dir.string();
    if (prefix.empty() || prefix.back() != '/') prefix += '/';
    PngReadOptions expected;
    expected.expected_width = kImageSize;
    expected.expected_height = kImageSize;
    auto work = [&]() {
        std::vector<uint8_t> buf;
        const size_t chunk = 64;  // tasks claimed at once: keeps the shared counter cold
        for (;;) {
            size_t begin = next.fetch_add(chunk);
            if (begin >= tasks.size()) break;
            size_t end = std::min(tasks.size(), begin + chunk);
            for (size_t i = begin; i < end; ++i) {
                std::string path = prefix + tasks[i].name;
                try {
                    read_into(path, &buf);
                    decoded[i] = decode_png_gray(buf.data(), buf.size(), path, expected);
                } catch (const std::exception& e) {
                    errors[i] = e.what();
                }
            }
        }
    };
    int n = std::max(1, std::min<int>(threads, int(tasks.size() / 256) + 1));
    std::vector<std::thread> pool;
    for (int t = 1; t < n; ++t) pool.emplace_back(work);
    work();
    for (std::thread& t : pool) t.join();

    KuzushijiSet set;
    set.num_folders = folders.size();
    set.num_files = tasks.size();
    set.images.reserve(tasks.size());
    uint32_t last_cp = 0;
    for (size_t i = 0; i < tasks.size(); ++i) {
        if (!errors[i].empty()) {
            set.failed.push_back(std::move(errors[i]));
            continue;
        }
        if (is_blank(decoded[i])) {
            set.skipped_blank++;
            set.skipped_files.push_back(tasks[i].name);
            continue;
        }
        if (set.images.empty() || tasks[i].codepoint != last_cp) set.num_classes++;
        last_cp = tasks[i].codepoint;
        set.images.push_back({tasks[i].codepoint, std::move(tasks[i].name), std::move(decoded[i])});
    }
    return set;
}

}  // namespace k2k
