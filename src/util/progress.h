// Progress reporting for long loops: a live bar with rate, ETA and current losses on a terminal,
// plain periodic lines otherwise (logs, CI). Debian has no C++ progress-bar library.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace k2k {

class Progress {
public:
    // `total` steps; `first` is where the loop starts (resumed runs); `log_every` is the step
    // interval of plain lines when `out` is not a terminal.
    Progress(std::string label, int64_t total, int64_t first = 0, int64_t log_every = 50, FILE* out = stdout);
    // Reports that `step` (1-based count of steps done) is finished, with named values to show.
    void update(int64_t step, const std::vector<std::pair<std::string, double>>& values);
    // Prints a message on its own line without breaking the bar.
    void message(const std::string& text);
    // Ends the bar (newline on a terminal) and prints the total time.
    void finish();

    static std::string format_duration(double seconds);  // "1h02m", "3m05s", "12.3s"

private:
    std::string line(int64_t step, const std::vector<std::pair<std::string, double>>& values, bool bar) const;

    std::string label_;
    int64_t total_;
    int64_t first_;
    int64_t log_every_;
    FILE* out_;
    bool tty_;
    bool open_line_ = false;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace k2k
