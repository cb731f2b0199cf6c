// Benchmark of the data layer: `k2k data prepare` work (KanjiVG parse + rasterise, Kuzushiji-Kanji
// decode, cache write) over the whole corpus, and the cache load time. Prints medians.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "data/cache.h"
#include "data/prepare.h"
#include "runtime/runtime.h"

namespace {

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_data KANJIVG_DIR KKANJI_DIR [repeats=3] [cache=/tmp/k2k_bench.cache]\n");
        return 2;
    }
    k2k::init_runtime();
    int repeats = argc > 3 ? std::atoi(argv[3]) : 3;
    std::string cache = argc > 4 ? argv[4] : "/tmp/k2k_bench.cache";
    k2k::PrepareOptions o;
    o.kanjivg_dir = argv[1];
    o.kkanji_dir = argv[2];
    o.threads = k2k::runtime_threads();
    std::vector<double> prep, kvg, kk, save, load;
    for (int r = 0; r < repeats; ++r) {
        double t0 = now_s();
        k2k::PrepareReport rep;
        k2k::Dataset ds = k2k::prepare_dataset(o, &rep);
        double t1 = now_s();
        k2k::save_dataset(cache, ds);
        double t2 = now_s();
        prep.push_back(t2 - t0);
        kvg.push_back(rep.kanjivg_seconds);
        kk.push_back(rep.kkanji_seconds);
        save.push_back(t2 - t1);
        if (r == 0)
            std::printf("dataset: %zu modern entries, %zu old images, cache %.1f MB, threads %d\n", ds.num_modern(),
                        ds.num_old(), double(std::filesystem::file_size(cache)) / 1e6, o.threads);
    }
    for (int r = 0; r < std::max(repeats, 5); ++r) {
        double t0 = now_s();
        k2k::Dataset ds = k2k::load_dataset(cache);
        load.push_back(now_s() - t0);
        if (ds.num_modern() == 0) return 1;
    }
    std::printf("prepare_total_s median=%.3f (kanjivg %.3f, kkanji %.3f, write %.3f) over %d runs\n", median(prep),
                median(kvg), median(kk), median(save), repeats);
    std::printf("cache_load_s median=%.3f over %zu runs\n", median(load), load.size());
    std::filesystem::remove(cache);
    return 0;
}
