// Data-parallel training through the k2k CLI (Gloo on loopback): 2 workers x batch B/2 give the
// weights of 1 worker x batch B, a 2-worker checkpoint resumes on 1 and on 2, a killed worker
// stops the other with one clear line. On a tiny run of real data (the MDN stage, deterministic).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <torch/torch.h>

#include "config/config.h"
#include "data/selection.h"
#include "models/mdn.h"
#include "run/checkpoint.h"
#include "run/options.h"
#include "test_support.h"
#include "torch_test_support.h"
#include "train/data_parallel.h"
#include "train/pipeline.h"
#include "util/error.h"
#include "util/fs.h"

namespace k2k {
namespace {

namespace fs = std::filesystem;

const char* const kOldClasses[] = {"U+4E00", "U+4EBA", "U+5927", "U+5C71"};
const char* const kModernFiles[] = {"04e00.svg", "04eba.svg", "05927.svg", "05c71.svg", "05b57.svg"};

size_t count_lines(const std::string& path) {
    std::istringstream in(read_file_text(path));
    std::string line;
    size_t n = 0;
    while (std::getline(in, line)) ++n;
    return n;
}

struct CliRun {
    int status = -1;     // exit status of the k2k command
    std::string output;  // its stdout and stderr
    double seconds = 0;
};

// Runs the k2k binary with `args` (and `env` before it), 1 torch thread per worker.
CliRun k2k_cli(const std::string& args, const std::string& env = "") {
    const std::string log = test::make_temp_dir("dp_log") + "/out.txt";
    const std::string cmd = "env K2K_THREADS=1 " + env + " " + std::string(K2K_BINARY) + " " + args + " > " + log + " 2>&1";
    const auto t0 = std::chrono::steady_clock::now();
    const int rc = std::system(cmd.c_str());
    CliRun r;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.output = read_file_text(log);
    return r;
}

class DataParallelTest : public ::testing::Test {
protected:
    // The VAE stages trained once, in this process; each test copies the run and trains the MDN.
    static void SetUpTestSuite() {
        const std::string shared = test::shared_data_dir();
        if (shared.empty() || !fs::exists(shared + "/kanjivg/kanji") || !fs::exists(shared + "/kkanji2")) return;
        root_ = test::make_temp_dir("data_parallel");
        test::copy_data_subset(root_, {std::begin(kModernFiles), std::end(kModernFiles)},
                               {std::begin(kOldClasses), std::end(kOldClasses)}, 8);
        base_ = test::tiny_run_config(root_, root_ + "/kanjivg", root_ + "/kkanji2");
        base_.name = "data_parallel_test";
        // A deterministic MDN step (z_old and z_new the encoders' means, no augmentation), so one
        // worker and two must agree to rounding.
        base_.mdn.sample_z_old = false;
        base_.mdn.sample_z_new = false;
        base_.mdn.steps = 6;
        base_.mdn.eval_every = 2;
        try {
            TrainingData data = load_training_data(base_);
            for (const char* stage : {"vae_new", "vae_old"}) train_stage(base_, stage, data, torch::kCPU, false);
        } catch (const std::exception& e) {
            setup_error_ = e.what();
        }
    }

    void SetUp() override {
        K2K_REQUIRE_SHARED_DATA("kanjivg/kanji");
        K2K_REQUIRE_SHARED_DATA("kkanji2");
        ASSERT_TRUE(setup_error_.empty()) << "training the VAE stages failed: " << setup_error_;
    }

    // A copy of the run with the VAEs trained; returns its config file.
    static std::string copy_run(const std::string& tag) {
        const std::string dir = test::make_temp_dir(tag);
        fs::copy(base_.run_dir, dir + "/run", fs::copy_options::recursive);
        Config c = base_;
        c.run_dir = dir + "/run";
        const std::string yaml = dir + "/config.yaml";
        write_file_atomic(yaml, dump_config(c));
        write_file_atomic(c.run_dir + "/config.yaml", dump_config(c));
        return yaml;
    }

    static std::string run_of(const std::string& yaml) { return fs::path(yaml).parent_path().string() + "/run"; }

    // The MDN weights of <run>/mdn/last.pt.
    static std::vector<torch::Tensor> mdn_weights(const std::string& yaml) {
        Mdn m(mdn_options(base_));
        load_archive(run_of(yaml) + "/mdn/last.pt", [&](torch::serialize::InputArchive& a) { archive_read_module(a, "model", *m); });
        return m->parameters();
    }

    static double max_difference(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
        EXPECT_EQ(a.size(), b.size());
        double worst = 0;
        for (size_t i = 0; i < a.size() && i < b.size(); ++i)
            worst = std::max(worst, (a[i] - b[i]).abs().max().item<double>());
        return worst;
    }

    static std::string root_;
    static Config base_;
    static std::string setup_error_;
};

std::string DataParallelTest::root_;
Config DataParallelTest::base_;
std::string DataParallelTest::setup_error_;

TEST(DataParallelShards, ContiguousEqualShardsOrAnError) {
    EXPECT_EQ(shard_range(16, 0, 1, "mdn"), (std::pair<size_t, size_t>(0, 16)));
    EXPECT_EQ(shard_range(16, 0, 2, "mdn"), (std::pair<size_t, size_t>(0, 8)));
    EXPECT_EQ(shard_range(16, 1, 2, "mdn"), (std::pair<size_t, size_t>(8, 16)));
    EXPECT_EQ(shard_range(15, 2, 3, "mdn"), (std::pair<size_t, size_t>(10, 15)));
    EXPECT_EQ(test::error_of([] { shard_range(16, 0, 3, "vae_new"); }),
              "vae_new: batch_size 16 does not split into 3 equal shards; use a batch size divisible by the number of "
              "workers");
}

TEST(DataParallelShards, TheEnvironmentIsReadAndChecked) {
    setenv("WORLD_SIZE", "4", 1);
    setenv("RANK", "3", 1);
    setenv("MASTER_PORT", "29511", 1);
    DistEnv e = dist_env_from_environment();
    EXPECT_EQ(e.world_size, 4);
    EXPECT_EQ(e.rank, 3);
    EXPECT_EQ(e.local_rank, 3);
    EXPECT_EQ(e.master_port, 29511);
    setenv("RANK", "4", 1);
    EXPECT_EQ(test::error_of([] { dist_env_from_environment(); }), "$RANK='4': expected an integer from 0 to 3");
    setenv("RANK", "x", 1);
    EXPECT_EQ(test::error_of([] { dist_env_from_environment(); }), "$RANK='x': expected an integer from 0 to 3");
    unsetenv("WORLD_SIZE");
    unsetenv("RANK");
    unsetenv("MASTER_PORT");
    EXPECT_EQ(dist_env_from_environment().world_size, 1);
}

TEST_F(DataParallelTest, TwoWorkersOnHalfBatchesGiveTheWeightsOfOneOnTheWholeBatch) {
    const std::string one = copy_run("dp_one"), two = copy_run("dp_two");
    CliRun a = k2k_cli("train --stage mdn --config " + one);
    ASSERT_EQ(a.status, 0) << a.output;
    CliRun b = k2k_cli("train --stage mdn --nproc 2 --config " + two);
    ASSERT_EQ(b.status, 0) << b.output;
    EXPECT_NE(b.output.find("[data-parallel] 2 workers on this host"), std::string::npos) << b.output;
    const double diff = max_difference(mdn_weights(one), mdn_weights(two));
    std::printf("largest weight difference, 1 worker x 16 vs 2 workers x 8, after 6 steps: %.3g\n", diff);
    EXPECT_LT(diff, 1e-5);
    // And training moved the weights (the comparison is not of two untouched copies).
    Mdn init(mdn_options(base_));
    EXPECT_GT(max_difference(mdn_weights(one), init->parameters()), 1e-3);
    // Rank 0 alone wrote the metrics: one row per logged step, as with one worker.
    EXPECT_EQ(count_lines(run_of(one) + "/mdn/metrics.csv"), count_lines(run_of(two) + "/mdn/metrics.csv"));
}

TEST_F(DataParallelTest, ATwoWorkerCheckpointResumesOnOneWorkerAndOnTwo) {
    const std::string whole = copy_run("dp_whole");
    ASSERT_EQ(k2k_cli("train --stage mdn --config " + whole).status, 0);
    // Stopped by the NaN guard after step 5: last.pt holds step 4, written by rank 0 of two.
    const std::string cut = copy_run("dp_cut");
    CliRun stopped = k2k_cli("train --stage mdn --nproc 2 --config " + cut, "K2K_DEBUG_NAN_STEP=5");
    ASSERT_NE(stopped.status, 0) << stopped.output;
    ASSERT_TRUE(fs::exists(run_of(cut) + "/mdn/last.pt"));
    ASSERT_FALSE(fs::exists(run_of(cut) + "/mdn/done.json"));
    for (int nproc : {1, 2}) {
        const std::string resumed = copy_run("dp_resumed" + std::to_string(nproc));
        fs::remove_all(run_of(resumed) + "/mdn");
        fs::copy(run_of(cut) + "/mdn", run_of(resumed) + "/mdn", fs::copy_options::recursive);
        CliRun r = k2k_cli("train --stage mdn --resume --nproc " + std::to_string(nproc) + " --config " + resumed);
        ASSERT_EQ(r.status, 0) << r.output;
        EXPECT_NE(r.output.find("at step 4"), std::string::npos) << r.output;
        EXPECT_TRUE(fs::exists(run_of(resumed) + "/mdn/done.json"));
        EXPECT_LT(max_difference(mdn_weights(whole), mdn_weights(resumed)), 1e-5) << nproc << " worker(s)";
    }
}

TEST_F(DataParallelTest, AKilledWorkerStopsTheOtherWithOneClearLine) {
    const std::string yaml = copy_run("dp_kill");
    CliRun r = k2k_cli("train --stage mdn --nproc 2 --config " + yaml, "K2K_DIST_TIMEOUT_S=30 K2K_DEBUG_KILL_RANK=1 K2K_DEBUG_KILL_STEP=3");
    EXPECT_NE(r.status, 0) << r.output;
    EXPECT_LT(r.seconds, 30.0) << r.output;
    EXPECT_NE(r.output.find("k2k: error: worker 1 (pid "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("was killed by signal 9 (SIGKILL); the other workers were stopped"), std::string::npos)
        << r.output;
    EXPECT_FALSE(fs::exists(run_of(yaml) + "/mdn/done.json"));
    // Nothing half-written: the checkpoint of step 2 is whole and loads.
    EXPECT_NO_THROW(mdn_weights(yaml));
}

// torchrun's way on one host: one k2k per rank with RANK, WORLD_SIZE, MASTER_ADDR=127.0.0.1,
// MASTER_PORT; they meet through rank 0's loopback rendezvous; the same weights as 1 worker.
TEST_F(DataParallelTest, TorchrunsVariablesOnOneHostMeetOnLoopback) {
    const std::string one = copy_run("dp_tcp_one"), two = copy_run("dp_tcp_two");
    ASSERT_EQ(k2k_cli("train --stage mdn --config " + one).status, 0);
    const std::string port = std::to_string(20000 + int(getpid()) % 20000);
    const std::string env = "WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port + " K2K_DIST_TIMEOUT_S=60";
    const std::string log = test::make_temp_dir("dp_tcp_log");
    const std::string cmd = "(env K2K_THREADS=1 RANK=1 " + env + " " + K2K_BINARY + " train --stage mdn --config " + two +
                            " > " + log + "/rank1.txt 2>&1 &) ; env K2K_THREADS=1 RANK=0 " + env + " " + K2K_BINARY +
                            " train --stage mdn --config " + two + " > " + log + "/rank0.txt 2>&1";
    const int rc = std::system(cmd.c_str());
    ASSERT_EQ(rc, 0) << read_file_text(log + "/rank0.txt");
    EXPECT_NE(read_file_text(log + "/rank0.txt").find("[data-parallel] rank 0 of 2 joined the process group"), std::string::npos);
    EXPECT_LT(max_difference(mdn_weights(one), mdn_weights(two)), 1e-5);
}

TEST_F(DataParallelTest, ABatchThatDoesNotSplitIsRefusedByName) {
    const std::string yaml = copy_run("dp_split");
    CliRun r = k2k_cli("train --stage mdn --nproc 3 --config " + yaml);
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("mdn: batch_size 16 does not split into 3 equal shards"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace k2k
