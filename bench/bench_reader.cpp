// Benchmark of the reader's training step: augmented renders of a batch (reader_batch) and the
// CNN's forward + backward + Adam step, over every KanjiVG base character of a dataset cache.
// Usage: bench_reader CACHE [width=32] [input_size=32] [hidden=512] [batch=128] [repeats=10]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include <torch/torch.h>

#include "data/cache.h"
#include "models/reader.h"
#include "runtime/runtime.h"
#include "data/selection.h"
#include "run/batches.h"
#include "run/loaders.h"
#include "run/options.h"
#include "run/run_dir.h"
#include "runtime/runtime.h"

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_reader CACHE [width] [input_size] [hidden] [batch] [repeats]\n");
        return 2;
    }
    k2k::init_runtime();
    const int64_t width = argc > 2 ? std::atoll(argv[2]) : 32;
    const int64_t input = argc > 3 ? std::atoll(argv[3]) : 32;
    const int64_t hidden = argc > 4 ? std::atoll(argv[4]) : 512;
    const int64_t batch = argc > 5 ? std::atoll(argv[5]) : 128;
    const int repeats = argc > 6 ? std::atoi(argv[6]) : 10;
    k2k::Dataset ds = k2k::load_dataset(argv[1]);
    std::vector<size_t> entries = k2k::reader_class_entries(ds);
    const int64_t classes = int64_t(entries.size());
    torch::manual_seed(0);
    k2k::Reader model(k2k::ReaderOptions().num_classes(classes).width(width).input_size(input).hidden(hidden));
    torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
    k2k::ReaderAugmentOptions aug;
    std::mt19937 rng(1);
    std::vector<double> render_ms, step_ms;
    for (int r = 0; r < repeats + 2; ++r) {
        std::vector<size_t> pick;
        std::vector<uint32_t> seeds;
        std::vector<int64_t> labels;
        for (int64_t b = 0; b < batch; ++b) {
            int64_t c = int64_t(rng() % uint32_t(classes));
            pick.push_back(entries[size_t(c)]);
            seeds.push_back(rng());
            labels.push_back(c);
        }
        auto t0 = std::chrono::steady_clock::now();
        torch::Tensor x = k2k::reader_batch(ds, pick, seeds, aug, torch::kCPU);
        auto t1 = std::chrono::steady_clock::now();
        torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), torch::tensor(labels));
        opt.zero_grad();
        loss.backward();
        opt.step();
        auto t2 = std::chrono::steady_clock::now();
        if (r < 2) continue;  // warm-up
        render_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        step_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    }
    std::printf("reader width %lld input %lld hidden %lld batch %lld classes %lld threads %d: render %.1f ms, "
                "step %.1f ms (median of %d)\n",
                (long long)width, (long long)input, (long long)hidden, (long long)batch, (long long)classes,
                k2k::runtime_threads(), median(render_ms), median(step_ms), repeats);
    return 0;
}
