// Tests for util/fs.h: atomic writes leave no temp file behind, and the temp files of writers
// killed mid-save (<file>.tmp.<pid> of a pid that no longer runs) are found and removed.
#include "util/fs.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "test_support.h"
#include "util/error.h"

namespace k2k {
namespace {

namespace fs = std::filesystem;

void touch(const std::string& path) { std::ofstream(path) << "partial"; }

TEST(Fs, AtomicWriteReplacesAndLeavesNoTempFile) {
    const std::string dir = test::make_temp_dir("fs_atomic");
    write_file_atomic(dir + "/a/b.txt", std::string("one"));
    write_file_atomic(dir + "/a/b.txt", std::string("two"));
    EXPECT_EQ(read_file_text(dir + "/a/b.txt"), "two");
    size_t entries = 0;
    for (const auto& e : fs::directory_iterator(dir + "/a")) entries += e.is_regular_file();
    EXPECT_EQ(entries, 1u);
    test::remove_tree(dir);
}

TEST(Fs, FailedAtomicWriteKeepsTheOldFile) {
    const std::string dir = test::make_temp_dir("fs_atomic_fail");
    write_file_atomic(dir + "/b.txt", std::string("old"));
    EXPECT_THROW(write_file_atomic(dir + "/b.txt", [](std::ostream& out) {
                     out << "half";
                     throw std::runtime_error("writer failed");
                 }),
                 std::runtime_error);
    EXPECT_EQ(read_file_text(dir + "/b.txt"), "old");
    EXPECT_FALSE(fs::exists(dir + "/b.txt.tmp." + std::to_string(::getpid())));
    test::remove_tree(dir);
}

TEST(Fs, RemovesOnlyTempFilesOfDeadProcesses) {
    const std::string dir = test::make_temp_dir("fs_stale");
    const std::string dead = dir + "/last.pt.tmp." + std::to_string(test::dead_pid());
    const std::string mine = dir + "/best.pt.tmp." + std::to_string(::getpid());
    const std::string parent = dir + "/best.pt.tmp." + std::to_string(::getppid());  // alive too
    for (const std::string& p : {dead, mine, parent, dir + "/best.pt", dir + "/x.tmp.12a", dir + "/x.tmp.", dir + "/tmp.5"})
        touch(p);
    fs::create_directories(dir + "/sub");
    touch(dir + "/sub/y.tmp." + std::to_string(test::dead_pid()));  // not recursive
    EXPECT_EQ(remove_stale_temp_files(dir), std::vector<std::string>{dead});
    EXPECT_FALSE(fs::exists(dead));
    for (const std::string& p : {mine, parent, dir + "/best.pt", dir + "/x.tmp.12a", dir + "/x.tmp.", dir + "/tmp.5"})
        EXPECT_TRUE(fs::exists(p)) << p;
    EXPECT_EQ(remove_stale_temp_files(dir), std::vector<std::string>{});
    EXPECT_EQ(remove_stale_temp_files(dir + "/absent"), std::vector<std::string>{});
    test::remove_tree(dir);
}

TEST(Fs, RequireWritableFolderCreatesItOrNamesTheCause) {
    const std::string dir = test::make_temp_dir("fs_writable");
    EXPECT_NO_THROW(require_writable_folder(dir + "/a/b"));
    EXPECT_TRUE(fs::is_directory(dir + "/a/b"));
    EXPECT_TRUE(fs::is_empty(dir + "/a/b"));  // the probe file is gone
    touch(dir + "/plain");
    const std::string error = test::error_of([&] { require_writable_folder(dir + "/plain/out"); });
    EXPECT_EQ(error.rfind(dir + "/plain/out: cannot write output here (", 0), 0u) << error;
    test::remove_tree(dir);
}

}  // namespace
}  // namespace k2k
