// File helpers: whole-file reads and atomic writes.
#include "util/fs.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/error.h"

namespace k2k {

std::vector<uint8_t> read_file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
    in.seekg(0, std::ios::end);
    std::streamoff size = in.tellg();
    in.seekg(0, std::ios::beg);
    std::vector<uint8_t> bytes(size > 0 ? size_t(size) : 0);
    if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
        throw Error(path + ": read failed");
    return bytes;
}

std::string read_file_text(const std::string& path) {
    std::vector<uint8_t> bytes = read_file_bytes(path);
    return std::string(bytes.begin(), bytes.end());
}

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
    namespace fs = std::filesystem;
    fs::path target(path);
    if (target.has_parent_path()) {
        std::error_code ec;
        fs::create_directories(target.parent_path(), ec);
        if (ec) throw Error(path + ": cannot create folder " + target.parent_path().string() + " (" + ec.message() + ")");
    }
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    try {
        {
            std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
            if (!out) throw Error(path + ": cannot write (" + std::strerror(errno) + ")");
            write(out);
            out.flush();
            if (!out) throw Error(path + ": write failed (disk full?)");
        }
        std::error_code ec;
        fs::rename(tmp, target, ec);
        if (ec) throw Error(path + ": cannot rename temp file into place (" + ec.message() + ")");
    } catch (...) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw;
    }
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
    write_file_atomic(path, [&](std::ostream& out) { out.write(bytes.data(), std::streamsize(bytes.size())); });
}

namespace {

// The pid of a name ending in ".tmp.<digits>", or -1.
long temp_file_pid(const std::string& name) {
    const size_t at = name.rfind(".tmp.");
    if (at == std::string::npos || at + 5 >= name.size() || name.size() - at - 5 > 9) return -1;
    long pid = 0;
    for (size_t i = at + 5; i < name.size(); ++i) {
        if (name[i] < '0' || name[i] > '9') return -1;
        pid = pid * 10 + (name[i] - '0');
    }
    return pid > 0 ? pid : -1;
}

}  // namespace

std::vector<std::string> remove_stale_temp_files(const std::string& dir) {
    namespace fs = std::filesystem;
    std::vector<std::string> removed;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const long pid = temp_file_pid(it->path().filename().string());
        if (pid < 0 || !it->is_regular_file(ec)) continue;
        // EPERM means the process exists (another user's): only ESRCH says nobody is writing it.
        if (::kill(pid_t(pid), 0) == 0 || errno != ESRCH) continue;
        removed.push_back(it->path().string());
    }
    std::sort(removed.begin(), removed.end());
    for (const std::string& path : removed) {
        std::error_code rm;
        fs::remove(path, rm);
        if (rm) throw Error(path + ": cannot remove stale temp file (" + rm.message() + ")");
    }
    return removed;
}

void require_writable_folder(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw Error(dir + ": cannot write output here (" + ec.message() + ")");
    if (!std::filesystem::is_directory(dir, ec)) throw Error(dir + ": cannot write output here (not a folder)");
    const std::string probe = (std::filesystem::path(dir) / (".k2k-write-probe." + std::to_string(::getpid()))).string();
    std::FILE* f = std::fopen(probe.c_str(), "wb");
    if (!f) throw Error(dir + ": cannot write output here (" + std::strerror(errno) + ")");
    std::fclose(f);
    std::filesystem::remove(probe, ec);
}

}  // namespace k2k
