// Tests for run/checkpoint.h and the loaders of run/loaders.h on damaged checkpoints: weights
// holding NaN or Inf are refused when loaded (they used to load and give all-black predictions).
#include "run/checkpoint.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include <torch/torch.h>

#include "config/config.h"
#include "run/loaders.h"
#include "run/options.h"
#include "test_support.h"
#include "util/error.h"

namespace k2k {
namespace {

std::string nan_message(const std::string& path, const std::string& what, const std::string& name) {
    return path + ": " + what + " " + name +
           " holds NaN/Inf; the checkpoint is corrupt or the training diverged (retrain the stage)";
}

void save_model(const std::string& path, const torch::nn::Module& m) {
    save_archive(path, [&](torch::serialize::OutputArchive& a) { archive_write_module(a, "model", m); });
}

void load_model(const std::string& path, torch::nn::Module& m) {
    load_archive(path, [&](torch::serialize::InputArchive& a) { archive_read_module(a, "model", m); });
}

TEST(Checkpoint, FiniteWeightsRoundTrip) {
    const std::string dir = test::make_temp_dir("ckpt_ok");
    torch::manual_seed(1);
    torch::nn::Linear a(3, 2), b(3, 2);
    save_model(dir + "/m.pt", *a);
    load_model(dir + "/m.pt", *b);
    EXPECT_TRUE(torch::equal(a->weight, b->weight));
    EXPECT_TRUE(torch::equal(a->bias, b->bias));
    test::remove_tree(dir);
}

TEST(Checkpoint, NanOrInfInAParameterIsRefused) {
    const std::string dir = test::make_temp_dir("ckpt_nan");
    torch::nn::Linear a(3, 2), b(3, 2);
    {
        torch::NoGradGuard no_grad;
        a->weight[1][2] = std::nan("");
    }
    save_model(dir + "/nan.pt", *a);
    EXPECT_EQ(test::error_of([&] { load_model(dir + "/nan.pt", *b); }),
              nan_message(dir + "/nan.pt", "parameter", "model.weight"));
    {
        torch::NoGradGuard no_grad;
        a->weight[1][2] = 0.5;
        a->bias[0] = -std::numeric_limits<float>::infinity();
    }
    save_model(dir + "/inf.pt", *a);
    EXPECT_EQ(test::error_of([&] { load_model(dir + "/inf.pt", *b); }),
              nan_message(dir + "/inf.pt", "parameter", "model.bias"));
    test::remove_tree(dir);
}

TEST(Checkpoint, NanInABufferIsRefused) {
    const std::string dir = test::make_temp_dir("ckpt_buffer");
    torch::nn::BatchNorm1d a(4), b(4);
    a->running_var.fill_(std::nan(""));
    save_model(dir + "/bn.pt", *a);
    EXPECT_EQ(test::error_of([&] { load_model(dir + "/bn.pt", *b); }),
              nan_message(dir + "/bn.pt", "buffer", "model.running_var"));
    test::remove_tree(dir);
}

// Through the loader `k2k generate` uses: a run folder whose mdn/best.pt holds a NaN.
TEST(Checkpoint, LoaderRefusesANanCheckpoint) {
    Config c;
    c.run_dir = test::make_temp_dir("ckpt_loader") + "/run";
    c.vae_new.z_size = 4;
    c.vae_old.z_size = 4;
    c.mdn.hidden = {8};
    c.mdn.num_mixtures = 2;
    Mdn mdn(mdn_options(c));
    std::string name;
    {
        torch::NoGradGuard no_grad;
        auto params = mdn->named_parameters();
        name = params.pairs().back().first;
        params.pairs().back().second.view(-1)[0] = std::nan("");
    }
    const std::string path = c.run_dir + "/mdn/best.pt";
    save_model(path, *mdn);
    EXPECT_EQ(test::error_of([&] { load_trained_mdn(c, torch::kCPU); }), nan_message(path, "parameter", "model." + name));
    test::remove_tree(std::filesystem::path(c.run_dir).parent_path().string());
}

}  // namespace
}  // namespace k2k
