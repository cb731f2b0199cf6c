// Tests for util/lock.h: one job per folder.
#include "util/lock.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "test_support.h"
#include "util/error.h"
#include "util/fs.h"

namespace k2k {
namespace {

TEST(FolderLock, SecondHolderIsRefusedUntilTheFirstReleases) {
    const std::string dir = test::make_temp_dir("lock") + "/run";
    auto first = std::make_unique<FolderLock>(dir, "k2k pipeline");
    EXPECT_TRUE(std::filesystem::is_directory(dir));
    const std::string error = test::error_of([&] { FolderLock second(dir, "k2k generate"); });
    EXPECT_EQ(error.rfind(dir + ": in use by another k2k process (pid ", 0), 0u) << error;
    EXPECT_NE(error.find(", k2k pipeline); wait for it to finish or use another folder"), std::string::npos) << error;
    first.reset();
    EXPECT_NO_THROW(FolderLock again(dir, "k2k generate"));
}

TEST(FolderLock, UncreatableFolderIsNamed) {
    const std::string file = test::make_temp_dir("lock") + "/plain_file";
    write_file_atomic(file, std::string("x"));
    const std::string error = test::error_of([&] { FolderLock lock(file + "/sub", "k2k generate"); });
    EXPECT_EQ(error.rfind(file + "/sub: cannot create the folder (", 0), 0u) << error;
}

}  // namespace
}  // namespace k2k
