// One job per folder: an advisory lock (flock) on <dir>/.k2k.lock held while a pipeline trains a
// run folder or generate writes an output folder, so two jobs never mix their files.
#pragma once

#include <string>

namespace k2k {

class FolderLock {
public:
    // Creates `dir` when missing and takes the lock without waiting. Throws k2k::Error
    // "<dir>: in use by another k2k process (pid N, <what>); wait for it to finish or use another folder"
    // when another process (or another FolderLock in this one) holds it. `what` names this job in
    // the lock file (e.g. "k2k pipeline"), for the message the next one sees.
    FolderLock(const std::string& dir, const std::string& what);
    ~FolderLock();  // releases the lock (the file stays: removing it would race a waiting job)
    FolderLock(const FolderLock&) = delete;
    FolderLock& operator=(const FolderLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace k2k
