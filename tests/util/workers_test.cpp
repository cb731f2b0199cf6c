// Tests of the local worker launcher (util/workers.h) with /bin/sh workers: the environment each
// rank gets, the --nproc stripping, and how one failing worker stops the others.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "test_support.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/workers.h"

namespace k2k {
namespace {

TEST(Workers, StripNprocRemovesTheOptionAndItsValue) {
    EXPECT_EQ(strip_nproc({"k2k", "pipeline", "--nproc", "2", "--config", "c.yaml"}),
              (std::vector<std::string>{"k2k", "pipeline", "--config", "c.yaml"}));
    EXPECT_EQ(strip_nproc({"k2k", "train", "--nproc=4", "--resume"}), (std::vector<std::string>{"k2k", "train", "--resume"}));
    EXPECT_EQ(strip_nproc({"k2k", "train"}), (std::vector<std::string>{"k2k", "train"}));
}

TEST(Workers, EachRankGetsTorchrunsVariables) {
    const std::string dir = test::make_temp_dir("workers_env");
    WorkerOptions o;
    o.nproc = 3;
    o.threads = 2;
    o.file_store = dir + "/store";
    write_file_atomic(o.file_store, "");
    run_workers("/bin/sh",
                {"sh", "-c", "echo $RANK $LOCAL_RANK $WORLD_SIZE $LOCAL_WORLD_SIZE $K2K_THREADS $K2K_DIST_STORE > " + dir +
                                 "/rank$RANK"},
                o);
    for (int r = 0; r < 3; ++r) {
        const std::string rs = std::to_string(r);
        EXPECT_EQ(read_file_text(dir + "/rank" + rs), rs + " " + rs + " 3 3 2 " + o.file_store + "\n");
    }
    EXPECT_FALSE(std::filesystem::exists(o.file_store));  // removed at the end
}

TEST(Workers, OneFailingWorkerStopsTheOthersAndIsNamed) {
    WorkerOptions o;
    o.nproc = 2;
    o.stop_grace_s = 5;
    const auto t0 = std::chrono::steady_clock::now();
    // Rank 1 fails at once; rank 0 would sleep for a minute.
    const std::string error = test::error_of([&] {
        run_workers("/bin/sh", {"sh", "-c", "if [ $RANK = 1 ]; then exit 3; fi; sleep 60"}, o);
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(error.rfind("worker 1 (pid ", 0), 0u) << error;
    EXPECT_NE(error.find(") exited with status 3; the other workers were stopped"), std::string::npos) << error;
    EXPECT_LT(seconds, 10.0);  // SIGTERM stops the sleeping rank 0 at once
}

TEST(Workers, AKilledWorkerIsReportedWithItsSignal) {
    WorkerOptions o;
    o.nproc = 2;
    const std::string error = test::error_of([&] {
        run_workers("/bin/sh", {"sh", "-c", "if [ $RANK = 0 ]; then kill -9 $$; fi; sleep 60"}, o);
    });
    EXPECT_EQ(error.rfind("worker 0 (pid ", 0), 0u) << error;
    EXPECT_NE(error.find(") was killed by signal 9 (SIGKILL); the other workers were stopped"), std::string::npos) << error;
}

TEST(Workers, RefusesANonsenseWorkerCount) {
    WorkerOptions o;
    o.nproc = 0;
    EXPECT_EQ(test::error_of([&] { run_workers("/bin/true", {"true"}, o); }), "--nproc 0: expected 1 to 256 workers");
}

}  // namespace
}  // namespace k2k
