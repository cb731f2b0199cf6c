// Tests for train/stage_runner.h with toy hooks (no model, no data): an interrupted stage is not
// restarted silently, temp files of killed saves are cleaned up, a stage needs at least one step.
#include "train/stage_runner.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <torch/torch.h>

#include "run/checkpoint.h"
#include "test_support.h"
#include "util/error.h"

namespace k2k {
namespace {

namespace fs = std::filesystem;

StageLoopOptions toy_options(const std::string& dir, bool resume) {
    StageLoopOptions o;
    o.name = "toy";
    o.dir = dir;
    o.steps = 6;
    o.eval_every = 2;
    o.log_every = 1000;
    o.resume = resume;
    o.terms = {"loss"};
    return o;
}

// Hooks whose training step throws at step `fail_at` (0-based; -1: never), like a kill.
StageHooks toy_hooks(int64_t fail_at) {
    StageHooks h;
    h.train_step = [fail_at](int64_t step) -> std::vector<double> {
        if (step == fail_at) throw Error("toy: killed");
        return {1.0 / double(step + 1)};
    };
    h.evaluate = []() { return std::vector<double>{0.5}; };
    h.save = [](torch::serialize::OutputArchive& a) { archive_write_int(a, "toy", 1); };
    h.load = [](torch::serialize::InputArchive& a) { EXPECT_EQ(archive_read_int(a, "toy"), 1); };
    return h;
}

void touch(const std::string& path) { std::ofstream(path) << "partial checkpoint"; }

// Without --resume, an interrupted stage used to restart from step 0 and overwrite its last.pt.
TEST(StageRunner, InterruptedStageNeedsResume) {
    const std::string dir = test::make_temp_dir("stage_interrupted") + "/toy";
    EXPECT_EQ(test::error_of([&] { run_stage_loop(toy_options(dir, false), toy_hooks(3)); }), "toy: killed");
    ASSERT_TRUE(fs::exists(dir + "/last.pt"));
    ASSERT_FALSE(fs::exists(dir + "/done.json"));
    const auto written = fs::last_write_time(dir + "/last.pt");

    EXPECT_EQ(test::error_of([&] { run_stage_loop(toy_options(dir, false), toy_hooks(-1)); }),
              dir + "/last.pt: stage toy was interrupted at step 2; pass --resume to continue it, or delete " + dir +
                  " to start it over");
    EXPECT_EQ(fs::last_write_time(dir + "/last.pt"), written);  // untouched

    StageResult r = run_stage_loop(toy_options(dir, true), toy_hooks(-1));
    EXPECT_EQ(r.resumed_at, 2);
    EXPECT_EQ(r.steps_done, 4);
    EXPECT_TRUE(fs::exists(dir + "/done.json"));
    test::remove_tree(fs::path(dir).parent_path().string());
}

// A complete stage trained again without --resume starts over (that is a deliberate retrain).
TEST(StageRunner, CompleteStageStartsOverWithoutResume) {
    const std::string dir = test::make_temp_dir("stage_complete") + "/toy";
    run_stage_loop(toy_options(dir, false), toy_hooks(-1));
    StageResult r = run_stage_loop(toy_options(dir, false), toy_hooks(-1));
    EXPECT_EQ(r.resumed_at, -1);
    EXPECT_EQ(r.steps_done, 6);
    test::remove_tree(fs::path(dir).parent_path().string());
}

// kill -9 during a save leaves <file>.tmp.<pid> behind (40-50 MB each for the real stages).
TEST(StageRunner, RemovesTempFilesOfDeadProcessesAtStart) {
    const std::string dir = test::make_temp_dir("stage_tmp") + "/toy";
    fs::create_directories(dir);
    const std::string dead = dir + "/last.pt.tmp." + std::to_string(test::dead_pid());
    const std::string mine = dir + "/other.pt.tmp." + std::to_string(::getpid());  // not a file the loop saves
    const std::string other = dir + "/notes.tmp.abc";
    touch(dead);
    touch(mine);
    touch(other);
    testing::internal::CaptureStdout();
    run_stage_loop(toy_options(dir, false), toy_hooks(-1));
    const std::string out = testing::internal::GetCapturedStdout();
    EXPECT_FALSE(fs::exists(dead));
    EXPECT_TRUE(fs::exists(mine));   // a live process (this one) may still be writing it
    EXPECT_TRUE(fs::exists(other));  // not a pid suffix
    EXPECT_NE(out.find("[toy] removed 1 temp file left by a killed save: " + dead), std::string::npos) << out;
    test::remove_tree(fs::path(dir).parent_path().string());
}

TEST(StageRunner, ZeroStepsIsAnError) {
    const std::string dir = test::make_temp_dir("stage_zero") + "/toy";
    StageLoopOptions o = toy_options(dir, false);
    o.steps = 0;
    EXPECT_EQ(test::error_of([&] { run_stage_loop(o, toy_hooks(-1)); }),
              "toy: steps is 0; a stage needs at least one step (set steps >= 1)");
    EXPECT_FALSE(fs::exists(dir + "/done.json"));
    test::remove_tree(fs::path(dir).parent_path().string());
}

}  // namespace
}  // namespace k2k
