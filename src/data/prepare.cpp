// Dataset preparation: parse + rasterise KanjiVG on all cores, read Kuzushiji-Kanji, assign splits.
#include "data/prepare.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "data/kanjivg.h"
#include "data/kuzushiji.h"
#include "util/error.h"

namespace k2k {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int resolve_threads(int threads) {
    if (threads > 0) return threads;
    unsigned n = std::thread::hardware_concurrency();
    return n > 0 ? int(n) : 1;
}

struct ModernItem {
    KanjiVgChar ch;
    Image raster;
    std::string error;  // non-empty when the file failed
};

// The policy for unreadable files, the same for both sources: skipping a few is fine (they are
// listed), but a source with nothing usable, or with more failures than `max_fraction` of its
// files, means a wrong folder or a damaged download, and the cache would silently lack it.
void check_source(const std::string& dir, const char* what, size_t files, const std::vector<std::string>& failed,
                  size_t blank, size_t usable, double max_fraction) {
    const std::string first = failed.empty() ? std::string() : "; first: " + failed.front();
    if (usable == 0)
        throw Error(dir + ": no usable " + what + " among " + std::to_string(files) + " (" +
                    std::to_string(failed.size()) + " could not be read" +
                    (blank ? ", " + std::to_string(blank) + " all black" : std::string()) + ")" + first);
    if (double(failed.size()) > max_fraction * double(files)) {
        char pct[32];
        std::snprintf(pct, sizeof(pct), "%g%%", max_fraction * 100.0);
        throw Error(dir + ": " + std::to_string(failed.size()) + " of " + std::to_string(files) + " " + what +
                    " could not be read (more than the " + pct + " allowed)" + first);
    }
}

}  // namespace

void print_skipped_files(const PrepareReport& report) {
    for (const std::string& f : report.modern_failed) std::fprintf(stderr, "warning: skipped %s\n", f.c_str());
    for (const std::string& f : report.old_failed) std::fprintf(stderr, "warning: skipped %s\n", f.c_str());
}

std::string modern_split_key(uint32_t codepoint) { return codepoint_label(codepoint); }

Dataset prepare_dataset(const PrepareOptions& o, PrepareReport* report) {
    PrepareReport local;
    PrepareReport& rep = report ? *report : local;
    check_split_ratios(o.split);
    Dataset ds;
    ds.meta.raster = o.raster;
    ds.meta.curve_tolerance = o.curve_tolerance;
    ds.meta.val_ratio = o.split.val;
    ds.meta.test_ratio = o.split.test;
    const int threads = resolve_threads(o.threads);

    if (!o.kanjivg_dir.empty()) {
        auto t0 = std::chrono::steady_clock::now();
        ds.meta.modern_source = std::filesystem::absolute(o.kanjivg_dir).lexically_normal().string();
        std::vector<std::string> files = list_kanjivg_files(o.kanjivg_dir);
        if (files.empty()) throw Error(o.kanjivg_dir + ": no *.svg files (expected the KanjiVG kanji/ folder)");
        rep.modern_files = files.size();
        std::vector<ModernItem> items(files.size());
        std::atomic<size_t> next{0};
        SvgPathOptions svg;
        svg.tolerance = o.curve_tolerance;
        auto work = [&]() {
            for (size_t i = next++; i < files.size(); i = next++) {
                try {
                    items[i].ch = read_kanjivg_file(files[i], svg);
                    items[i].raster = render_strokes(items[i].ch.strokes, o.raster);
                } catch (const std::exception& e) {
                    items[i].error = e.what();
                }
            }
        };
        std::vector<std::thread> pool;
        for (int t = 1; t < threads; ++t) pool.emplace_back(work);
        work();
        for (std::thread& t : pool) t.join();
        for (ModernItem& it : items)
            if (!it.error.empty()) rep.modern_failed.push_back(it.error);
        check_source(o.kanjivg_dir, "KanjiVG files", files.size(), rep.modern_failed, 0,
                     files.size() - rep.modern_failed.size(), o.max_failed_fraction);
        for (ModernItem& it : items) {
            if (!it.error.empty()) continue;
            Split split = assign_split(modern_split_key(it.ch.codepoint), o.split);
            ds.add_modern(it.ch.codepoint, it.ch.variant, it.ch.element, split, it.ch.strokes, it.raster);
        }
        ds.meta.modern_skipped = rep.modern_failed.size();
        rep.kanjivg_seconds = seconds_since(t0);
    }

    if (!o.kkanji_dir.empty()) {
        auto t0 = std::chrono::steady_clock::now();
        ds.meta.old_source = std::filesystem::absolute(o.kkanji_dir).lexically_normal().string();
        KuzushijiSet set = read_kkanji_dir(o.kkanji_dir, threads);
        rep.old_files = set.num_files;
        rep.old_blank = set.skipped_blank;
        rep.old_failed = set.failed;
        check_source(o.kkanji_dir, "Kuzushiji-Kanji images", set.num_files, set.failed, set.skipped_blank,
                     set.images.size(), o.max_failed_fraction);
        for (const KuzushijiImage& im : set.images) {
            if (im.image.width != o.raster.size || im.image.height != o.raster.size)
                throw Error(o.kkanji_dir + "/" + im.name + ": image is " + std::to_string(im.image.width) + "x" +
                            std::to_string(im.image.height) + ", expected " + std::to_string(o.raster.size) + "x" +
                            std::to_string(o.raster.size));
            ds.add_old(im.codepoint, im.name, assign_split(im.name, o.split), im.image);
        }
        ds.meta.old_skipped = set.skipped_blank + set.failed.size();
        rep.kkanji_seconds = seconds_since(t0);
    }
    return ds;
}

}  // namespace k2k
