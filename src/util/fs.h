// File helpers: whole-file reads and atomic writes (temp file in the same folder + rename),
// so a crash or an error never leaves a half-written output behind.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace k2k {

// Reads a whole file; throws k2k::Error("<path>: cannot open (reason)") on failure.
std::vector<uint8_t> read_file_bytes(const std::string& path);
std::string read_file_text(const std::string& path);

// Writes `path` atomically: `write` fills a stream on `path.tmp.<pid>`, which is flushed,
// closed and renamed over `path`. On any exception the temp file is removed and the
// exception propagates; `path` is then untouched. Parent folders are created.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);
void write_file_atomic(const std::string& path, const std::string& bytes);

// Removes the temp files that writers killed mid-save left in `dir` (not its sub-folders): files
// named <anything>.tmp.<pid> whose pid is not a running process (kill(pid, 0) fails with ESRCH).
// A live pid's file (another process may be writing it) is kept. Returns the removed paths,
// sorted; a missing folder gives none. Throws k2k::Error when a stale file cannot be removed.
std::vector<std::string> remove_stale_temp_files(const std::string& dir);

// Creates `dir` when missing and checks a file can be written in it (a probe file is created and
// removed), so a job that writes there at its end fails at its start instead. Throws k2k::Error
// "<dir>: cannot write output here (<cause>)".
void require_writable_folder(const std::string& dir);

}  // namespace k2k
