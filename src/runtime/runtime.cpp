// Process start-up: malloc thresholds and torch threads.
#include "runtime/runtime.h"

#include <malloc.h>

#include <cstdlib>
#include <thread>

#include <torch/torch.h>

#include "util/error.h"

namespace k2k {

namespace {
int g_threads = 1;
}

void init_runtime(int threads) {
    // Without this glibc maps/unmaps each large buffer per step (measured: LSTM step 1.5 s -> 0.95 s).
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    if (threads <= 0) {
        const char* env = std::getenv("K2K_THREADS");
        if (env && std::atoi(env) > 0) threads = std::atoi(env);
    }
    if (threads <= 0) threads = int(std::thread::hardware_concurrency());
    if (threads <= 0) threads = 1;
    torch::set_num_threads(threads);
    g_threads = threads;
}

int runtime_threads() { return g_threads; }

torch::Device resolve_device(const std::string& name) {
    if (name == "cpu") return torch::kCPU;
    if (name == "cuda" || name == "auto") {
        if (torch::cuda::is_available()) return torch::Device(torch::kCUDA, 0);
        if (name == "cuda")
            throw Error("device cuda: no CUDA device available (this k2k is built against a CPU LibTorch, or no GPU is visible); use --device cpu");
        return torch::kCPU;
    }
    throw Error("unknown device '" + name + "' (expected cpu, cuda or auto)");
}

}  // namespace k2k
