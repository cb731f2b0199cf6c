// Helpers shared by the tests: where the real data is, and skipping when it is absent.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace k2k::test {

// ../shared/data (or $K2K_SHARED_DATA); empty string when the folder does not exist.
std::string shared_data_dir();
// True when $K2K_REQUIRE_DATA is 1 (CI sets it where ../shared/data exists): then a test that
// would skip for missing data fails instead, so a wrong path cannot turn real-data tests off.
bool data_required();
// Folder of small fixtures we wrote ourselves (tests/fixtures).
std::string fixtures_dir();
// Deletes a file or a folder with everything in it; a missing path is not an error. (Not
// std::filesystem::remove_all: the PyTorch 2.x wheel's libtorch.so exports a copy of that symbol
// which crashes when a test linked against it calls it.)
void remove_tree(const std::string& path);
// The message of the k2k::Error that f throws, or "(no error)".
std::string error_of(const std::function<void()>& f);
// Copies a small subset of the shared data into root: root/kanjivg/<f> for each KanjiVG file name
// in svgs, and the first per_class images (by file name) of each Kuzushiji class folder into
// root/kkanji2/<class>/. Returns, per class, the paths of all of that class's shared images, sorted.
std::vector<std::vector<std::string>> copy_data_subset(const std::string& root, const std::vector<std::string>& svgs,
                                                       const std::vector<std::string>& classes, int per_class);
// A fresh empty temporary folder for one test.
std::string make_temp_dir(const std::string& tag);

// A pid that no process has: a child that has exited and been reaped.
int dead_pid();

}  // namespace k2k::test

// Skips the current test with a message when ../shared/data/<sub> is absent (fails it instead when
// K2K_REQUIRE_DATA=1). A torch test binary whose tests all skip exits 77 (tests/skip_main.cpp),
// which ctest reports as "Skipped".
#define K2K_REQUIRE_SHARED_DATA(sub)                                                            \
    do {                                                                                        \
        if (k2k::test::shared_data_dir().empty() ||                                             \
            !std::filesystem::exists(k2k::test::shared_data_dir() + "/" + (sub))) {             \
            if (k2k::test::data_required())                                                     \
                GTEST_FAIL() << "real data " << (sub) << " not found under ../shared/data, "    \
                             << "and K2K_REQUIRE_DATA=1 says it must be there";                 \
            GTEST_SKIP() << "real data " << (sub) << " not found under ../shared/data "         \
                         << "(set K2K_SHARED_DATA to run this test)";                           \
        }                                                                                       \
    } while (0)
