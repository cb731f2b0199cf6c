// Helpers shared by the tests.
#include "test_support.h"

#include <ftw.h>
#include <sys/wait.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>

#include "util/error.h"

namespace k2k::test {

std::string shared_data_dir() {
    const char* env = std::getenv("K2K_SHARED_DATA");
    std::string dir = env && *env ? env : K2K_SHARED_DATA;
    return std::filesystem::is_directory(dir) ? dir : std::string();
}

bool data_required() {
    const char* env = std::getenv("K2K_REQUIRE_DATA");
    return env && std::string(env) == "1";
}

std::string fixtures_dir() { return std::string(K2K_SOURCE_DIR) + "/tests/fixtures"; }

namespace {
int remove_entry(const char* path, const struct stat*, int, struct FTW*) { return ::remove(path); }
}  // namespace

void remove_tree(const std::string& path) {
    // FTW_DEPTH: children before their folder; FTW_PHYS: links are removed, not followed.
    if (!path.empty()) ::nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

std::vector<std::vector<std::string>> copy_data_subset(const std::string& root, const std::vector<std::string>& svgs,
                                                       const std::vector<std::string>& classes, int per_class) {
    namespace fs = std::filesystem;
    const fs::path shared(shared_data_dir());
    const fs::path kanjivg = fs::path(root) / "kanjivg", kkanji = fs::path(root) / "kkanji2";
    fs::create_directories(kanjivg);
    for (const std::string& f : svgs) fs::copy_file(shared / "kanjivg/kanji" / f, kanjivg / f);
    std::vector<std::vector<std::string>> all;
    for (const std::string& c : classes) {
        std::vector<std::string> files;
        for (const auto& e : fs::directory_iterator(shared / "kkanji2" / c)) files.push_back(e.path().string());
        std::sort(files.begin(), files.end());
        fs::create_directories(kkanji / c);
        for (int i = 0; i < per_class && i < int(files.size()); ++i)
            fs::copy_file(files[size_t(i)], kkanji / c / fs::path(files[size_t(i)]).filename());
        all.push_back(files);
    }
    return all;
}

int dead_pid() {
    pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    int status = 0;
    ::waitpid(child, &status, 0);
    return int(child);
}

std::string make_temp_dir(const std::string& tag) {
    static std::atomic<int> counter{0};
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("k2k_test_" + tag + "_" + std::to_string(::getpid()) + "_" +
                                 std::to_string(counter++));
    remove_tree(dir.string());
    std::filesystem::create_directories(dir);
    return dir.string();
}

}  // namespace k2k::test
