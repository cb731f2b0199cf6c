// The shared context of the `k2k eval` steps: progress lines, stage completion, number formatting.
// Kept apart so that each step's file reads the same run, split and device.
#include "eval/context.h"

#include <cstdio>

#include "run/run_dir.h"

namespace k2k {

void EvalContext::say(const std::string& line) const {
    if (verbose) std::printf("[eval] %s\n", line.c_str());
}

bool EvalContext::complete(const std::string& stage) const { return stage_complete(stage_dir(config, stage)); }

std::string fixed(double v, int digits) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
    return buf;
}

}  // namespace k2k
