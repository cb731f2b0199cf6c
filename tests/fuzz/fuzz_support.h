// Helpers shared by the libFuzzer targets in tests/fuzz: how a target reports a bug, and the
// per-process temp file through which the path-based readers get their input.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "data/geometry.h"
#include "data/png_io.h"

namespace k2k::fuzz {

// A property the target checks does not hold: print it and abort, which libFuzzer reports as a
// crash and saves the input (crash-<sha1>) for replay.
[[noreturn]] inline void bug(const char* format, ...) {
    std::va_list args;
    va_start(args, format);
    std::fputs("k2k fuzz: BUG: ", stderr);
    std::vfprintf(stderr, format, args);
    std::fputc('\n', stderr);
    va_end(args);
    std::abort();
}

// What every decoded image must be, whatever the bytes (the image readers' targets): non-empty,
// within the readers' default pixel limit, and holding width * height pixels.
inline void check_decoded_image(const k2k::Image& img) {
    if (img.width <= 0 || img.height <= 0) bug("decoded a %dx%d image", img.width, img.height);
    if (uint64_t(img.width) * uint64_t(img.height) > k2k::kPngMaxPixels)
        bug("decoded %dx%d, above the default limit", img.width, img.height);
    if (img.pixels.size() != size_t(img.width) * size_t(img.height))
        bug("%dx%d image holds %zu pixels", img.width, img.height, img.pixels.size());
}

// The file, in $TMPDIR (or /tmp), into which each input is written before a path-based reader
// reads it: one per process (named by the pid, so -fork/-jobs workers do not share one), removed
// at a normal exit. `suffix` is e.g. ".csv". The file stays open and each input overwrites it in
// place (pwrite + ftruncate to its size): truncating it to 0 and rewriting it, as fopen("wb")
// does, made ext4 flush it on every close (auto_da_alloc), 1.5 ms per input.
class TempInput {
public:
    explicit TempInput(const std::string& tag, const std::string& suffix) {
        std::error_code ec;
        std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
        if (ec) dir = "/tmp";
        path_ = (dir / ("k2k_fuzz_" + tag + "_" + std::to_string(::getpid()) + suffix)).string();
        fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd_ < 0) bug("cannot create %s", path_.c_str());
    }
    ~TempInput() {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    TempInput(const TempInput&) = delete;
    TempInput& operator=(const TempInput&) = delete;

    // Makes the file hold exactly these `size` bytes; returns its path.
    const std::string& write(const uint8_t* data, size_t size) {
        size_t done = 0;
        while (done < size) {
            ssize_t n = ::pwrite(fd_, data + done, size - done, off_t(done));
            if (n <= 0) bug("cannot write %s", path_.c_str());
            done += size_t(n);
        }
        if (::ftruncate(fd_, off_t(size)) != 0) bug("cannot truncate %s", path_.c_str());
        return path_;
    }

private:
    std::string path_;
    int fd_ = -1;
};

}  // namespace k2k::fuzz
