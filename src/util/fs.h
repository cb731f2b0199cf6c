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

}  // namespace k2k
