// One job per folder (see lock.h). flock locks belong to the open file description, so a crashed
// or killed job releases its lock with its last descriptor: no stale lock to clean up.
#include "util/lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "util/error.h"

namespace k2k {

FolderLock::FolderLock(const std::string& dir, const std::string& what) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw Error(dir + ": cannot create the folder (" + ec.message() + ")");
    const std::string path = (std::filesystem::path(dir) / ".k2k.lock").string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(path + ": cannot open the lock file (" + std::strerror(errno) + ")");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        char owner[256] = {0};
        ssize_t n = ::pread(fd_, owner, sizeof owner - 1, 0);
        std::string who = n > 0 ? std::string(owner, size_t(n)) : std::string("unknown");
        while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
        ::close(fd_);
        fd_ = -1;
        throw Error(dir + ": in use by another k2k process (" + who +
                    "); wait for it to finish or use another folder");
    }
    const std::string me = "pid " + std::to_string(::getpid()) + ", " + what + "\n";
    if (::ftruncate(fd_, 0) == 0) {
        ssize_t written = ::pwrite(fd_, me.data(), me.size(), 0);
        (void)written;  // the owner line is only a hint for the next job's message
    }
}

FolderLock::~FolderLock() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace k2k
