// Benchmark of the Sketch-RNN decoder: one training step (forward + Lr + backward + clip + Adam,
// T=80, B=32) per cell, and batched sampling; bench/ref_sketch_rnn.py prints the Python figures.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "data/canvas.h"
#include "models/sketch_rnn.h"
#include "runtime/runtime.h"

namespace {

constexpr int64_t kT = 80, kB = 32, kZ = 64, kM = 20;

std::string g_only;  // run only the benchmarks whose label contains this (--only TEXT)

bool selected(const std::string& label) {
    return g_only.empty() || label.find(g_only) != std::string::npos;
}

struct Timing {
    double median_ms;  // median over the repeats
    double min_ms;     // fastest repeat (least disturbed by other processes)
};

Timing time_ms(const std::function<void()>& fn, int repeats, int warmup = 1) {
    for (int i = 0; i < warmup; i++) fn();
    std::vector<double> times;
    for (int i = 0; i < repeats; i++) {
        const auto t0 = std::chrono::steady_clock::now();
        fn();
        times.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    const size_t n = times.size();
    return {n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]), times[0]};
}

void report(const std::string& label, const Timing& t, int repeats) {
    std::printf("%-36s median %9.2f ms  min %9.2f ms  over %d\n", label.c_str(), t.median_ms, t.min_ms,
                repeats);
    std::fflush(stdout);
}

// Same layout as ref_sketch_rnn.py fake_batch: random offsets and pens, lengths 60..80 (of T = 80;
// 3/4 T .. T in general).
torch::Tensor fake_batch(int64_t batch = kB, int64_t steps = kT) {
    torch::Tensor s = torch::zeros({batch, steps + 1, 5});
    s.narrow(2, 0, 2).copy_(torch::randn({batch, steps + 1, 2}));
    torch::Tensor pen = torch::randint(0, 2, {batch, steps + 1});
    s.select(2, 2).copy_(pen.eq(0));
    s.select(2, 3).copy_(pen.eq(1));
    s[0].zero_();
    for (int64_t b = 0; b < batch; b++) {
        s[b][0].copy_(torch::tensor({0.0f, 0.0f, 1.0f, 0.0f, 0.0f}));
        const int64_t n = steps * 3 / 4 + (b * 7) % (steps / 4 + 1);
        if (n < steps) s[b].narrow(0, n + 1, steps - n).copy_(torch::tensor({0.0f, 0.0f, 0.0f, 0.0f, 1.0f}));
    }
    return s;
}

// The Sketch-RNN stage of configs/full.yaml: canvas decoder (canvas_hidden 128), LSTM 1x512 without
// dropout, batch 64, max_seq_len 100. The canvas features are random here (the stage computes them
// from the ink); their projection and the LSTM are what the step costs.
struct ShapeOptions {
    int64_t batch = kB;      // sketches per step
    int64_t steps = kT;      // T
    int64_t canvas = 0;      // canvas_hidden (0: the blind decoder)
};

// path: how the RNN runs (Auto: see RnnStack::forward; Fused forces torch::nn::LSTM).
void bench_train(const std::string& name, const std::string& cell, int64_t layers, int64_t hidden,
                 double keep, int repeats, k2k::RnnPath path = k2k::RnnPath::Auto, ShapeOptions shape = {}) {
    if (!selected("train " + name)) return;
    torch::manual_seed(0);
    k2k::SketchRnn model(k2k::SketchRnnOptions()
                             .z_size(kZ)
                             .hidden_size(hidden)
                             .num_layers(layers)
                             .cell(cell)
                             .recurrent_dropout_keep(keep)
                             .num_mixtures(kM)
                             .canvas_hidden(shape.canvas)
                             .max_steps(shape.steps));
    model->train();
    torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
    const torch::Tensor strokes = fake_batch(shape.batch, shape.steps), z = torch::randn({shape.batch, kZ});
    const torch::Tensor canvas =
        shape.canvas > 0 ? torch::rand({shape.batch, shape.steps, k2k::kCanvasFeatures}) : torch::Tensor();
    const Timing ms = time_ms(
        [&] {
            adam.zero_grad();
            const torch::Tensor raw = model->forward(strokes, z, path, canvas);
            torch::Tensor loss =
                k2k::reconstruction_loss(raw, strokes.narrow(1, 1, shape.steps), "bivariate", kM).lr;
            loss.backward();
            torch::nn::utils::clip_grad_norm_(model->parameters(), 1.0);
            adam.step();
        },
        repeats);
    report("train " + name, ms, repeats);
}

void bench_sample(const std::string& name, const std::string& cell, int64_t hidden, int repeats) {
    if (!selected("sample " + name)) return;
    torch::manual_seed(0);
    k2k::SketchRnn model(
        k2k::SketchRnnOptions().z_size(kZ).hidden_size(hidden).cell(cell).num_mixtures(kM).max_steps(kT));
    model->eval();
    {
        torch::NoGradGuard no_grad;
        model->head->bias[2] = -30.0;  // no end token: every run is max_len steps, as in the Python bench
    }
    const torch::Tensor z = torch::randn({1, kZ}).expand({10, kZ}).contiguous();
    k2k::SketchSampleOptions so;
    so.temperature = 0.25;
    so.max_len = kT;
    at::Generator gen = at::detail::createCPUGenerator(5);
    const Timing ms = time_ms([&] { model->sample(z, so, gen); }, repeats);
    report("sample " + name, ms, repeats);
}

}  // namespace

int main(int argc, char** argv) {
    // usage: bench_sketch_rnn [--quick] [--only TEXT] [--threads N]  (default 2, as ref_sketch_rnn.py)
    bool quick = false;
    int threads = 2;
    for (int i = 1; i < argc; i++) {
        if (std::strcmp(argv[i], "--quick") == 0) quick = true;
        if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) g_only = argv[++i];
        if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = std::atoi(argv[++i]);
    }
    k2k::init_runtime(threads);
    const int r = quick ? 2 : 5;
    std::printf("C++ LibTorch, threads %d, T=%ld B=%ld z=%ld M=%ld\n", k2k::runtime_threads(), long(kT),
                long(kB), long(kZ), long(kM));
    bench_train("lstm 1x512 dropout0.9", "lstm", 1, 512, 0.9, r);
    bench_train("layer_norm 1x512 dropout0.9", "layer_norm", 1, 512, 0.9, r);
    bench_train("hyper 1x512 dropout0.9", "hyper", 1, 512, 0.9, r);
    // Without dropout: Auto (on the CPU the hand-written BPTT) and the forced torch::nn::LSTM.
    bench_train("lstm 1x512 nodropout", "lstm", 1, 512, 1.0, r);
    bench_train("lstm 1x512 nodropout nn.LSTM", "lstm", 1, 512, 1.0, r, k2k::RnnPath::Fused);
    ShapeOptions full_config;
    full_config.batch = 64;
    full_config.steps = 100;
    full_config.canvas = 128;
    bench_train("lstm 1x512 nodropout canvas128 B64 T100", "lstm", 1, 512, 1.0, r, k2k::RnnPath::Auto, full_config);
    // The same with sketch.trim_padding (full.yaml): 57 steps, the mean trimmed batch length that
    // bench_trim_length --config configs/full.yaml measures.
    ShapeOptions full_trimmed = full_config;
    full_trimmed.steps = 57;
    bench_train("lstm 1x512 nodropout canvas128 B64 T57", "lstm", 1, 512, 1.0, r, k2k::RnnPath::Auto, full_trimmed);
    bench_train("lstm 3x1024 nodropout", "lstm", 3, 1024, 1.0, quick ? 2 : 3);
    bench_train("lstm 3x1024 nodropout nn.LSTM", "lstm", 3, 1024, 1.0, quick ? 2 : 3, k2k::RnnPath::Fused);
    for (const char* cell : {"lstm", "layer_norm", "hyper"})
        bench_sample(std::string(cell) + " 1x512 10x80", cell, 512, quick ? 5 : 20);
    return 0;
}
