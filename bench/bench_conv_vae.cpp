// Benchmark: one conv-VAE training step (forward + loss + backward + Adam) at batch 64 on CPU,
// native ConvTranspose2d decoder vs the fast decoder. Compare with bench/ref_conv_vae.py.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "models/conv_vae.h"
#include "runtime/runtime.h"

namespace {

struct BenchOptions {
    int batch = 64;    // images per step
    int warmup = 5;    // untimed steps first
    int steps = 20;    // timed steps (the median is printed)
    int threads = 2;   // torch intra-op threads
};

// Milliseconds of CPU time used by the whole process so far (all threads). On a busy machine
// the CPU time of a 1-thread run is a steadier figure than the wall clock.
double process_cpu_ms() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) * 1e-6;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// One model with its optimiser and the times of its steps.
struct Runner {
    k2k::ConvVae model{nullptr};
    std::unique_ptr<torch::optim::Adam> adam;
    std::vector<double> wall, cpu;

    explicit Runner(const std::string& decoder_impl) {
        torch::manual_seed(0);  // the same initial weights for both decoders
        model = k2k::ConvVae(k2k::ConvVaeOptions().decoder_impl(decoder_impl));
        adam = std::make_unique<torch::optim::Adam>(model->parameters(), torch::optim::AdamOptions(1e-3));
    }

    // x is (B,1,64,64); records the step's times when `timed`.
    void step(const torch::Tensor& x, at::Generator& gen, bool timed) {
        const double c0 = process_cpu_ms();
        const auto t0 = std::chrono::steady_clock::now();
        adam->zero_grad();
        k2k::ConvVaeOutput out = model->forward(x, gen);
        k2k::ConvVaeLoss loss = model->loss(out, x);
        loss.total.backward();
        adam->step();
        const auto t1 = std::chrono::steady_clock::now();
        if (!timed) return;
        wall.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        cpu.push_back(process_cpu_ms() - c0);
    }
};

}  // namespace

int main(int argc, char** argv) {
    BenchOptions bo;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--batch")) bo.batch = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--warmup")) bo.warmup = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--steps")) bo.steps = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--threads")) bo.threads = std::atoi(argv[i + 1]);
        else {
            std::fprintf(stderr, "usage: bench_conv_vae [--batch 64] [--warmup 5] [--steps 20] [--threads 2]\n");
            return 2;
        }
    }
    if (bo.batch <= 0 || bo.steps <= 0 || bo.warmup < 0 || bo.threads <= 0) {
        std::fprintf(stderr, "bench_conv_vae: batch, steps and threads must be positive\n");
        return 2;
    }
    k2k::init_runtime(bo.threads);
    Runner native("native"), fast("fast");
    at::Generator gen = at::detail::createCPUGenerator(1);
    // Binary-ish images like the kanji rasters: x is (B,1,64,64) in {0,1}.
    torch::Tensor x = (torch::rand({bo.batch, 1, 64, 64}, gen) < 0.15).to(torch::kFloat);
    // Alternate the two so that a change in machine load hits both alike.
    for (int i = 0; i < bo.warmup + bo.steps; ++i) {
        native.step(x, gen, i >= bo.warmup);
        fast.step(x, gen, i >= bo.warmup);
    }
    const double nw = median(native.wall), fw = median(fast.wall);
    const double nc = median(native.cpu), fc = median(fast.cpu);
    std::printf("vae_step_ms native=%.2f fast=%.2f speedup=%.2fx (batch %d, %d threads, median of %d)\n",
                nw, fw, nw / fw, bo.batch, bo.threads, bo.steps);
    std::printf("vae_step_cpu_ms native=%.2f fast=%.2f speedup=%.2fx\n", nc, fc, nc / fc);
    return 0;
}
