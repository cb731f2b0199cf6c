// How long a trimmed Sketch-RNN training batch is (sketch.trim_padding): the recurrent steps T' of
// a batch of B random training sketches (the stage's own build_sketches), as trim_sketch_batch cuts
// the stage's sketch_batch, averaged over many draws. The "T57" rows of bench_sketch_rnn / ref_sketch_rnn.py time
// the stage's step at the length measured for configs/full.yaml (docs/BENCHMARKS.md).
//
// usage: bench_trim_length --config C [--batches 20000] [--seed 1]
// (augmentation is left out: its point drops only shorten sketches, so T' is an upper bound)
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "config/config.h"
#include "data/selection.h"
#include "data/sketch_set.h"
#include "run/batches.h"
#include "util/error.h"

int main(int argc, char** argv) {
    std::string config_path;
    long batches = 20000;
    unsigned seed = 1;
    for (int i = 1; i < argc; i++) {
        if (std::strcmp(argv[i], "--config") == 0 && i + 1 < argc) config_path = argv[++i];
        else if (std::strcmp(argv[i], "--batches") == 0 && i + 1 < argc) batches = std::atol(argv[++i]);
        else if (std::strcmp(argv[i], "--seed") == 0 && i + 1 < argc) seed = unsigned(std::atol(argv[++i]));
    }
    if (config_path.empty() || batches <= 0) {
        std::fprintf(stderr, "usage: bench_trim_length --config C [--batches N] [--seed S]\n");
        return 2;
    }
    try {
        const k2k::Config c = k2k::load_config(config_path);
        const k2k::SketchConfig& sc = c.sketch;
        const k2k::TrainingData td = k2k::select_training_data(k2k::load_or_prepare_dataset(c.data, false), c.data);
        size_t skipped = 0;
        const k2k::SketchSet set = k2k::build_sketches(td.ds, td.modern[0], sc, &skipped);
        if (set.sketches.empty()) throw k2k::Error(config_path + ": no training sketch fits sketch.max_seq_len");
        const k2k::StartToken start = k2k::sketch_start_token(sc);
        std::mt19937 rng(seed);
        std::uniform_int_distribution<size_t> pick(0, set.sketches.size() - 1);
        std::vector<long> kept(static_cast<size_t>(batches));
        std::vector<const k2k::Stroke3*> order(static_cast<size_t>(sc.batch_size));
        for (long b = 0; b < batches; ++b) {
            for (auto& s : order) s = &set.sketches[pick(rng)];
            const k2k::SketchBatch batch = k2k::trim_sketch_batch(k2k::sketch_batch(
                order, 1.0f, int(sc.max_seq_len), start, nullptr, nullptr, nullptr, torch::kCPU));
            kept[size_t(b)] = long(batch.strokes.size(1)) - 1;
        }
        double mean = 0;
        for (long t : kept) mean += double(t);
        mean /= double(batches);
        std::sort(kept.begin(), kept.end());
        std::printf("%zu training sketches, batch %lld, max_seq_len %lld: trimmed steps per batch mean %.2f, "
                    "median %ld, p10 %ld, p90 %ld (%ld batches): %.1f %% of max_seq_len\n",
                    set.sketches.size(), (long long)sc.batch_size, (long long)sc.max_seq_len, mean,
                    kept[kept.size() / 2], kept[kept.size() / 10], kept[kept.size() * 9 / 10], batches,
                    100.0 * mean / double(sc.max_seq_len));
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_trim_length: %s\n", e.what());
        return 1;
    }
}
