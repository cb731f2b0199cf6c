// Training data: cache loading/preparation and the subsets a run uses (torch-free).
#include "data/selection.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "data/pairing.h"
#include "data/prepare.h"
#include "data/raster.h"
#include "util/error.h"

namespace k2k {

Dataset load_or_prepare_dataset(const DataConfig& data, bool verbose) {
    Dataset ds;
    if (std::filesystem::exists(data.cache)) {
        ds = load_dataset(data.cache);
    } else {
        for (const std::string& dir : {data.kanjivg, data.kkanji})
            if (!std::filesystem::is_directory(dir))
                throw Error(data.cache + ": cache not found and " + dir +
                            " is not a folder; run data_tools/fetch_data.sh, then `k2k data prepare`");
        if (verbose) std::printf("[data] %s not found: preparing it from %s and %s\n", data.cache.c_str(), data.kanjivg.c_str(), data.kkanji.c_str());
        PrepareOptions o;
        o.kanjivg_dir = data.kanjivg;
        o.kkanji_dir = data.kkanji;
        o.split.val = data.val_ratio;
        o.split.test = data.test_ratio;
        PrepareReport report;
        ds = prepare_dataset(o, &report);
        print_skipped_files(report);
        save_dataset(data.cache, ds);
    }
    if (std::abs(ds.meta.val_ratio - data.val_ratio) > 1e-12 || std::abs(ds.meta.test_ratio - data.test_ratio) > 1e-12)
        throw Error(data.cache + ": made with val/test ratios " + std::to_string(ds.meta.val_ratio) + "/" +
                    std::to_string(ds.meta.test_ratio) + " but the config asks for " + std::to_string(data.val_ratio) +
                    "/" + std::to_string(data.test_ratio) + "; re-run `k2k data prepare` with matching ratios");
    if (ds.num_modern() == 0 || ds.num_old() == 0)
        throw Error(data.cache + ": needs both KanjiVG and Kuzushiji-Kanji entries (prepare with --kanjivg and --kkanji)");
    return ds;
}

TrainingData select_training_data(Dataset ds, const DataConfig& data) {
    TrainingData td;
    const std::map<uint32_t, size_t> base = ds.base_entries();
    std::set<uint32_t> base_cps;
    for (const auto& kv : base) base_cps.insert(kv.first);

    // Old classes: paired ones, most images first.
    std::map<uint32_t, size_t> class_count;
    for (size_t i = 0; i < ds.num_old(); ++i) class_count[ds.old_codepoint(i)]++;
    std::vector<std::pair<size_t, uint32_t>> ranked;  // (-count, cp)
    for (const auto& kv : class_count)
        if (paired_codepoint(kv.first, base_cps) != 0) ranked.emplace_back(kv.second, kv.first);
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    std::set<uint32_t> old_classes;
    if (data.max_old_classes > 0) {
        for (size_t k = 0; k < ranked.size() && k < size_t(data.max_old_classes); ++k) old_classes.insert(ranked[k].second);
    } else {
        for (const auto& kv : class_count) old_classes.insert(kv.first);  // all, paired or not (vae_old uses all)
    }

    // Modern characters: those of the chosen old classes first, then the rest by code point.
    std::vector<uint32_t> modern_order;
    std::set<uint32_t> chosen;
    for (uint32_t cp : old_classes) {
        uint32_t m = paired_codepoint(cp, base_cps);
        if (m && chosen.insert(m).second) modern_order.push_back(m);
    }
    if (data.max_modern_chars > 0 && modern_order.size() > size_t(data.max_modern_chars))
        modern_order.resize(size_t(data.max_modern_chars));
    for (uint32_t cp : base_cps) {
        if (data.max_modern_chars > 0 && modern_order.size() >= size_t(data.max_modern_chars)) break;
        if (chosen.insert(cp).second) modern_order.push_back(cp);
    }
    std::set<uint32_t> modern_set(modern_order.begin(), modern_order.end());
    for (size_t i = 0; i < ds.num_modern(); ++i) {
        uint32_t cp = ds.modern_codepoint(i);
        if (!modern_set.count(cp)) continue;
        if (!ds.modern_variant(i).empty() && !data.kanjivg_variants) continue;
        td.modern[int(ds.modern_split(i))].push_back(i);
    }
    for (uint32_t cp : modern_order) td.modern_base[cp] = base.at(cp);

    for (size_t i = 0; i < ds.num_old(); ++i) {
        uint32_t cp = ds.old_codepoint(i);
        if (!old_classes.count(cp)) continue;
        int split = int(ds.old_split(i));
        td.old[split].push_back(i);
        uint32_t m = paired_codepoint(cp, base_cps);
        if (m && modern_set.count(m)) {
            td.old_to_modern[cp] = base.at(m);
            td.pairs[split].emplace_back(i, base.at(m));
        }
    }
    td.ds = std::move(ds);
    return td;
}

std::vector<size_t> reader_class_entries(const Dataset& ds) {
    const std::map<uint32_t, size_t> base = ds.base_entries();
    std::vector<size_t> out;
    for (const auto& kv : base) out.push_back(kv.second);
    return out;
}

std::vector<uint32_t> baseline_classes(const TrainingData& td) {
    std::set<uint32_t> cps;
    for (const std::vector<size_t>& split : td.old)
        for (size_t i : split) cps.insert(td.ds.old_codepoint(i));
    return std::vector<uint32_t>(cps.begin(), cps.end());
}

Stroke3 modern_stroke3(const Dataset& ds, size_t modern_index, float rdp_epsilon) {
    return strokes_to_stroke3(rdp_simplify(ds.modern_strokes(modern_index), rdp_epsilon));
}

std::vector<std::vector<size_t>> eval_batches(const std::vector<size_t>& items, size_t batch, size_t count) {
    std::vector<std::vector<size_t>> out;
    for (size_t s = 0; s < items.size() && out.size() < count; s += batch)
        out.emplace_back(items.begin() + long(s), items.begin() + long(std::min(items.size(), s + batch)));
    return out;
}

std::vector<size_t> draw_indices(size_t size, size_t n, std::mt19937& rng) {
    if (size == 0) throw Error("draw_indices: cannot draw from an empty set");
    std::vector<size_t> out(n);
    for (size_t k = 0; k < n; ++k) out[k] = size_t(rng() % size);
    return out;
}

}  // namespace k2k
