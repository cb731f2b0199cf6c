// Helpers shared by the tests.
#include "test_support.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>

namespace k2k::test {

std::string shared_data_dir() {
    const char* env = std::getenv("K2K_SHARED_DATA");
    std::string dir = env && *env ? env : K2K_SHARED_DATA;
    return std::filesystem::is_directory(dir) ? dir : std::string();
}

std::string fixtures_dir() { return std::string(K2K_SOURCE_DIR) + "/tests/fixtures"; }

std::string make_temp_dir(const std::string& tag) {
    static std::atomic<int> counter{0};
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("k2k_test_" + tag + "_" + std::to_string(::getpid()) + "_" +
                                 std::to_string(counter++));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir.string();
}

}  // namespace k2k::test
