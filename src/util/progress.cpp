// Progress reporting: terminal bar or plain lines.
#include "util/progress.h"

#include <unistd.h>

#include <cmath>
#include <sstream>

namespace k2k {

Progress::Progress(std::string label, int64_t total, int64_t first, int64_t log_every, FILE* out)
    : label_(std::move(label)), total_(total), first_(first), log_every_(log_every > 0 ? log_every : 1), out_(out) {
    tty_ = ::isatty(::fileno(out_)) != 0;
    start_ = std::chrono::steady_clock::now();
    last_draw_ = start_ - std::chrono::seconds(1);
}

std::string Progress::format_duration(double s) {
    char buf[32];
    if (!std::isfinite(s) || s < 0) return "?";
    if (s < 60) {
        std::snprintf(buf, sizeof(buf), "%.1fs", s);
    } else if (s < 3600) {
        std::snprintf(buf, sizeof(buf), "%dm%02ds", int(s) / 60, int(s) % 60);
    } else {
        std::snprintf(buf, sizeof(buf), "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
    }
    return buf;
}

std::string Progress::line(int64_t step, const std::vector<std::pair<std::string, double>>& values, bool bar) const {
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    double done = double(step - first_);
    double rate = elapsed > 0 ? done / elapsed : 0;
    double eta = rate > 0 ? double(total_ - step) / rate : NAN;
    std::ostringstream s;
    s << "[" << label_ << "] ";
    double frac = total_ > 0 ? double(step) / double(total_) : 1.0;
    if (bar) {
        const int width = 24;
        int filled = int(frac * width + 0.5);
        s << "[" << std::string(size_t(filled), '#') << std::string(size_t(width - filled), '.') << "] ";
    } else {
        s << "step ";
    }
    char buf[96];
    std::snprintf(buf, sizeof(buf), "%lld/%lld (%3.0f%%) %.2f it/s ETA %s", (long long)step, (long long)total_,
                  100.0 * frac, rate, format_duration(eta).c_str());
    s << buf;
    for (const auto& kv : values) {
        std::snprintf(buf, sizeof(buf), " %s=%.4g", kv.first.c_str(), kv.second);
        s << buf;
    }
    return s.str();
}

void Progress::update(int64_t step, const std::vector<std::pair<std::string, double>>& values) {
    auto now = std::chrono::steady_clock::now();
    if (tty_) {
        if (step < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
        last_draw_ = now;
        std::fprintf(out_, "\r%s\033[K", line(step, values, true).c_str());
        open_line_ = true;
    } else if (step % log_every_ == 0 || step == total_) {
        std::fprintf(out_, "%s\n", line(step, values, false).c_str());
    }
    std::fflush(out_);
}

void Progress::message(const std::string& text) {
    if (open_line_) std::fprintf(out_, "\r\033[K");
    std::fprintf(out_, "[%s] %s\n", label_.c_str(), text.c_str());
    open_line_ = false;
    last_draw_ = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    std::fflush(out_);
}

void Progress::finish() {
    if (open_line_) std::fprintf(out_, "\n");
    open_line_ = false;
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(out_, "[%s] done: %lld steps in %s\n", label_.c_str(), (long long)(total_ - first_),
                 format_duration(elapsed).c_str());
    std::fflush(out_);
}

}  // namespace k2k
