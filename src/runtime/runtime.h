// Process start-up for every k2k binary: the fast paths users should get without knowing
// the tricks (torch threads = cores, glibc malloc thresholds raised). See docs/toolchain notes.
#pragma once

#include <torch/types.h>

#include <string>

namespace k2k {

// Raises glibc's mmap/trim thresholds (stops large tensor buffers being mapped and unmapped
// every step) and sets torch's intra-op thread count to `threads` (<= 0: the machine's cores,
// or $K2K_THREADS when set). Safe to call more than once.
void init_runtime(int threads = 0);

// The thread count init_runtime chose.
int runtime_threads();

// "cpu" | "cuda" | "auto" (cuda when available). Throws k2k::Error for cuda without a GPU build/device.
torch::Device resolve_device(const std::string& name);

}  // namespace k2k
