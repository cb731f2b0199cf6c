// Checkpoint files: torch archives written atomically (temp + rename), with the training state
// (step, wall time, RNG states) next to the weights, so `--resume` continues exactly.
#pragma once

#include <torch/serialize/archive.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>

namespace k2k {

// Writes an archive filled by `fill` to `path` atomically.
void save_archive(const std::string& path, const std::function<void(torch::serialize::OutputArchive&)>& fill);
// Loads `path`; a missing or corrupt file throws k2k::Error naming it, the cause and a hint.
void load_archive(const std::string& path, const std::function<void(torch::serialize::InputArchive&)>& read);

// Scalars and RNG states inside archives (std::mt19937 is stored as its text state).
void archive_write_int(torch::serialize::OutputArchive& a, const std::string& key, int64_t v);
int64_t archive_read_int(torch::serialize::InputArchive& a, const std::string& key);
void archive_write_double(torch::serialize::OutputArchive& a, const std::string& key, double v);
double archive_read_double(torch::serialize::InputArchive& a, const std::string& key);
void archive_write_string(torch::serialize::OutputArchive& a, const std::string& key, const std::string& v);
std::string archive_read_string(torch::serialize::InputArchive& a, const std::string& key);
void archive_write_rng(torch::serialize::OutputArchive& a, const std::string& key, const std::mt19937_64& rng);
void archive_read_rng(torch::serialize::InputArchive& a, const std::string& key, std::mt19937_64& rng);

}  // namespace k2k
