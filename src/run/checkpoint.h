// Checkpoint files: torch archives written atomically (temp + rename), with the training state
// (step, wall time, RNG states) next to the weights, so `--resume` continues exactly.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>

namespace k2k {

// Writes an archive filled by `fill` to `path` atomically.
void save_archive(const std::string& path, const std::function<void(torch::serialize::OutputArchive&)>& fill);
// Loads `path` with its tensors on `device`; a missing or corrupt file throws k2k::Error naming
// it, the cause and a hint.
void load_archive(const std::string& path, const std::function<void(torch::serialize::InputArchive&)>& read,
                  c10::optional<torch::Device> device = c10::nullopt);

// Sub-archives holding a module's or an optimiser's state under `key`. archive_read_module
// refuses weights holding NaN or Inf: inside load_archive the k2k::Error reads "<path>: parameter
// <key>.<name> holds NaN/Inf; the checkpoint is corrupt or the training diverged (retrain the stage)".
void archive_write_module(torch::serialize::OutputArchive& a, const std::string& key, const torch::nn::Module& m);
void archive_read_module(torch::serialize::InputArchive& a, const std::string& key, torch::nn::Module& m);
void archive_write_optimizer(torch::serialize::OutputArchive& a, const std::string& key, const torch::optim::Optimizer& o);
void archive_read_optimizer(torch::serialize::InputArchive& a, const std::string& key, torch::optim::Optimizer& o);
// A torch generator's state (e.g. the VAE's sampling noise), so resumed runs draw the same noise.
void archive_write_generator(torch::serialize::OutputArchive& a, const std::string& key, at::Generator& g);
void archive_read_generator(torch::serialize::InputArchive& a, const std::string& key, at::Generator& g);

// Scalars and RNG states inside archives (std::mt19937 is stored as its text state).
void archive_write_int(torch::serialize::OutputArchive& a, const std::string& key, int64_t v);
int64_t archive_read_int(torch::serialize::InputArchive& a, const std::string& key);
void archive_write_double(torch::serialize::OutputArchive& a, const std::string& key, double v);
double archive_read_double(torch::serialize::InputArchive& a, const std::string& key);
void archive_write_string(torch::serialize::OutputArchive& a, const std::string& key, const std::string& v);
std::string archive_read_string(torch::serialize::InputArchive& a, const std::string& key);
void archive_write_rng(torch::serialize::OutputArchive& a, const std::string& key, const std::mt19937& rng);
void archive_read_rng(torch::serialize::InputArchive& a, const std::string& key, std::mt19937& rng);

}  // namespace k2k
