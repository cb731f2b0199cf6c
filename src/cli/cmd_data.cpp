// k2k data prepare|stats|show: build the dataset cache, summarise it, draw one character.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "cli/commands.h"
#include "data/cache.h"
#include "data/kanjivg.h"
#include "data/kuzushiji.h"
#include "data/pairing.h"
#include "data/prepare.h"
#include "data/raster.h"
#include "data/strokes.h"
#include "export/sheet.h"
#include "config/config.h"
#include "data/png_io.h"
#include "runtime/runtime.h"
#include "data/selection.h"
#include "util/error.h"

namespace k2k::cli {

namespace {

struct PrepareArgs {
    std::string kanjivg;
    std::string kkanji;
    std::string out = "data/k2k.cache";
    double val_ratio = 0.05;
    double test_ratio = 0.10;
    float line_width = 2.0f;
    float margin = 4.0f;
    float tolerance = 0.2f;
};

void run_prepare(const PrepareArgs& a) {
    if (a.kanjivg.empty() && a.kkanji.empty()) throw Error("data prepare: give --kanjivg DIR and/or --kkanji DIR");
    PrepareOptions o;
    o.kanjivg_dir = a.kanjivg;
    o.kkanji_dir = a.kkanji;
    o.split.val = a.val_ratio;
    o.split.test = a.test_ratio;
    o.raster.line_width = a.line_width;
    o.raster.margin = a.margin;
    o.curve_tolerance = a.tolerance;
    o.threads = runtime_threads();
    PrepareReport rep;
    Dataset ds = prepare_dataset(o, &rep);
    if (!a.kanjivg.empty())
        std::printf("KanjiVG: %zu files -> %zu characters (%zu failed) in %.2f s\n", rep.modern_files, ds.num_modern(),
                    rep.modern_failed.size(), rep.kanjivg_seconds);
    if (!a.kkanji.empty())
        std::printf("Kuzushiji-Kanji: %zu files -> %zu images (%zu all-black skipped, %zu failed) in %.2f s\n",
                    rep.old_files, ds.num_old(), rep.old_blank, rep.old_failed.size(), rep.kkanji_seconds);
    print_skipped_files(rep);
    save_dataset(a.out, ds);
    std::printf("wrote %s\n", a.out.c_str());
}

std::string percentiles(std::vector<size_t> v) {
    if (v.empty()) return "n/a";
    std::sort(v.begin(), v.end());
    auto q = [&](double p) { return v[size_t(p * double(v.size() - 1))]; };
    double mean = 0;
    for (size_t x : v) mean += double(x);
    mean /= double(v.size());
    char buf[160];
    std::snprintf(buf, sizeof(buf), "min %zu, p10 %zu, median %zu, mean %.1f, p90 %zu, max %zu", v.front(), q(0.1), q(0.5),
                  mean, q(0.9), v.back());
    return buf;
}

void run_stats(const std::string& cache, double rdp_epsilon, bool list_unpaired) {
    Dataset ds = load_dataset(cache);
    std::printf("cache %s\n", cache.c_str());
    size_t split_counts[2][3] = {{0, 0, 0}, {0, 0, 0}};
    std::set<uint32_t> base;
    size_t variants = 0;
    for (size_t i = 0; i < ds.num_modern(); ++i) {
        split_counts[0][int(ds.modern_split(i))]++;
        if (ds.modern_variant(i).empty())
            base.insert(ds.modern_codepoint(i));
        else
            ++variants;
    }
    std::set<uint32_t> old_classes;
    for (size_t i = 0; i < ds.num_old(); ++i) {
        split_counts[1][int(ds.old_split(i))]++;
        old_classes.insert(ds.old_codepoint(i));
    }
    std::printf("modern (KanjiVG, %s): %zu entries = %zu base characters + %zu variants; split train/val/test %zu/%zu/%zu\n",
                ds.meta.modern_source.c_str(), ds.num_modern(), base.size(), variants, split_counts[0][0],
                split_counts[0][1], split_counts[0][2]);
    std::printf("old (Kuzushiji-Kanji, %s): %zu images in %zu classes (%llu skipped: all black or unreadable); split train/val/test %zu/%zu/%zu\n",
                ds.meta.old_source.c_str(), ds.num_old(), old_classes.size(), (unsigned long long)ds.meta.old_skipped,
                split_counts[1][0], split_counts[1][1], split_counts[1][2]);

    if (ds.num_modern() > 0) {
        std::vector<size_t> strokes, points, s3len;
        for (size_t i = 0; i < ds.num_modern(); ++i) {
            if (!ds.modern_variant(i).empty()) continue;
            Strokes s = ds.modern_strokes(i);
            strokes.push_back(s.size());
            points.push_back(ds.modern_num_points(i));
            s3len.push_back(strokes_to_stroke3(rdp_simplify(s, float(rdp_epsilon))).size());
        }
        std::printf("strokes per character: %s\n", percentiles(strokes).c_str());
        std::printf("points per character (flattened curves): %s\n", percentiles(points).c_str());
        std::printf("stroke-3 length after RDP (epsilon %.2f): %s\n", rdp_epsilon, percentiles(s3len).c_str());
    }
    if (ds.num_old() > 0 && ds.num_modern() > 0) {
        std::vector<uint32_t> classes(old_classes.begin(), old_classes.end());
        PairingReport rep = pair_classes(classes, base);
        size_t images_paired = 0;
        for (size_t i = 0; i < ds.num_old(); ++i) images_paired += paired_codepoint(ds.old_codepoint(i), base) != 0;
        std::printf("overlap: %zu of %zu Kuzushiji classes have a KanjiVG base file (%zu directly, %zu through NFC); "
                    "%zu of %zu images\n",
                    rep.paired_direct + rep.paired_nfc, rep.classes, rep.paired_direct, rep.paired_nfc, images_paired,
                    ds.num_old());
        for (const auto& p : rep.nfc_pairs)
            std::printf("  NFC pair: %s %s -> %s %s\n", codepoint_label(p.first).c_str(), codepoint_to_utf8(p.first).c_str(),
                        codepoint_label(p.second).c_str(), codepoint_to_utf8(p.second).c_str());
        std::printf("unpaired Kuzushiji classes (%zu)%s:\n", rep.unpaired.size(),
                    list_unpaired ? "" : ", --unpaired gives one per line with image counts");
        std::map<uint32_t, size_t> counts;
        for (size_t i = 0; i < ds.num_old(); ++i) counts[ds.old_codepoint(i)]++;
        for (size_t k = 0; k < rep.unpaired.size(); ++k) {
            uint32_t cp = rep.unpaired[k];
            if (list_unpaired) {
                std::printf("  %s %s (%zu images)\n", codepoint_label(cp).c_str(), codepoint_to_utf8(cp).c_str(), counts[cp]);
            } else {
                std::printf("  %s %s", codepoint_label(cp).c_str(), codepoint_to_utf8(cp).c_str());
                if (k % 8 == 7 || k + 1 == rep.unpaired.size()) std::printf("\n");
            }
        }
    }
}

struct ShowArgs {
    std::string character;
    std::string cache = "data/k2k.cache";
    std::string out;
    std::string variant;
};


void run_show(const ShowArgs& a) {
    uint32_t cp = parse_character_arg(a.character, "data show");
    Dataset ds = load_dataset(a.cache);
    const size_t found = ds.require_modern(cp, a.variant, a.cache);
    std::vector<size_t> olds;
    for (size_t i = 0; i < ds.num_old() && olds.size() < 4; ++i)
        if (paired_codepoint(ds.old_codepoint(i), {cp}) == cp) olds.push_back(i);

    const int tile = 256, pad = 16, caption = 28;
    int width = pad + 2 * (tile + pad) + int(olds.size()) * (tile / 2 + pad);
    Sheet sheet(width, caption + tile + 2 * pad);
    Image raster = ds.modern_raster_image(found);
    sheet.paste_gray(raster, pad, caption + pad, tile / raster.width);
    sheet.text("raster " + std::to_string(raster.width) + "x" + std::to_string(raster.height), pad, 20, 14);
    Strokes strokes = ds.modern_strokes(found);
    sheet.paste_rgb(render_strokes_rgb_numbered(strokes, tile), tile, tile, 2 * pad + tile, caption + pad);
    sheet.frame(2 * pad + tile, caption + pad, tile, tile);
    sheet.text(codepoint_label(cp) + ": " + std::to_string(strokes.size()) + " strokes, in order", 2 * pad + tile, 20, 14);
    int x = 3 * pad + 2 * tile;
    if (!olds.empty()) sheet.text("Kuzushiji-Kanji", x, 20, 14);
    for (size_t k = 0; k < olds.size(); ++k, x += tile / 2 + pad) {
        Image im = ds.old_image_copy(olds[k]);
        sheet.paste_gray(im, x, caption + pad, (tile / 2) / im.width);
    }
    std::string out = a.out.empty() ? codepoint_label(cp) + ".png" : a.out;
    sheet.save_png(out);
    std::printf("%s %s: %zu strokes, %zu Kuzushiji samples shown -> %s\n", codepoint_label(cp).c_str(),
                codepoint_to_utf8(cp).c_str(), strokes.size(), olds.size(), out.c_str());
}

struct SamplesArgs {
    std::string config;
    std::string split = "test";
    int count = 8;
    std::string out;
};

// Writes Kuzushiji images of the config's selected classes (one per class first, round robin) as
// PNGs named <U+XXXX>_<hash>.png, ready for `k2k generate --input DIR`.
void run_samples(const SamplesArgs& a) {
    Config cfg = load_config(a.config);
    TrainingData td = select_training_data(load_or_prepare_dataset(cfg.data, true), cfg.data);
    const std::vector<size_t>& pool = td.old[int(parse_split(a.split))];
    std::map<uint32_t, std::vector<size_t>> by_class;
    for (size_t i : pool)
        if (td.old_to_modern.count(td.ds.old_codepoint(i))) by_class[td.ds.old_codepoint(i)].push_back(i);
    if (by_class.empty()) throw Error(a.config + ": no " + a.split + " images of paired classes in the selected data");
    std::vector<size_t> chosen;
    for (size_t round = 0; chosen.size() < size_t(a.count); ++round) {
        bool any = false;
        for (auto& kv : by_class) {
            if (round < kv.second.size() && chosen.size() < size_t(a.count)) {
                chosen.push_back(kv.second[round]);
                any = true;
            }
        }
        if (!any) break;
    }
    for (size_t i : chosen) {
        std::string name(td.ds.old_name(i));
        std::string file = name.substr(0, name.find('/')) + "_" + name.substr(name.find('/') + 1);
        write_png_gray(a.out + "/" + file, td.ds.old_image_copy(i));
    }
    std::printf("wrote %zu %s images of %zu classes to %s\n", chosen.size(), a.split.c_str(),
                std::min(by_class.size(), chosen.size()), a.out.c_str());
}

}  // namespace

void setup_data(CLI::App& app) {
    CLI::App* data = app.add_subcommand("data", "Prepare and inspect the dataset cache");
    data->require_subcommand(1);

    auto pa = std::make_shared<PrepareArgs>();
    CLI::App* prep = data->add_subcommand("prepare", "Read KanjiVG and Kuzushiji-Kanji once and write the dataset cache");
    prep->add_option("--kanjivg", pa->kanjivg, "KanjiVG kanji/ folder of SVG files (e.g. data/kanjivg/kanji)");
    prep->add_option("--kkanji", pa->kkanji, "Kuzushiji-Kanji kkanji2/ folder (e.g. data/kkanji2)");
    prep->add_option("--out", pa->out, "cache file to write")->capture_default_str();
    prep->add_option("--val-ratio", pa->val_ratio, "fraction in the validation split")->capture_default_str()->check(CLI::Range(0.0, 0.5));
    prep->add_option("--test-ratio", pa->test_ratio, "fraction in the test split")->capture_default_str()->check(CLI::Range(0.0, 0.5));
    prep->add_option("--line-width", pa->line_width, "raster line width in pixels")->capture_default_str()->check(CLI::PositiveNumber);
    prep->add_option("--margin", pa->margin, "raster margin in pixels")->capture_default_str()->check(CLI::NonNegativeNumber);
    prep->add_option("--tolerance", pa->tolerance, "curve flattening tolerance, KanjiVG units")->capture_default_str()->check(CLI::PositiveNumber);
    prep->callback([pa]() { run_prepare(*pa); });

    auto cache = std::make_shared<std::string>("data/k2k.cache");
    auto eps = std::make_shared<double>(2.0);
    auto unpaired = std::make_shared<bool>(false);
    CLI::App* stats = data->add_subcommand("stats", "Counts per source, overlap, stroke-length distribution");
    stats->add_option("--cache", *cache, "cache written by `k2k data prepare`")->capture_default_str();
    stats->add_option("--rdp", *eps, "RDP epsilon for the stroke-3 length figures")->capture_default_str();
    stats->add_flag("--unpaired", *unpaired, "list every Kuzushiji class without a KanjiVG base file");
    stats->callback([cache, eps, unpaired]() { run_stats(*cache, *eps, *unpaired); });

    auto sa = std::make_shared<ShowArgs>();
    CLI::App* show = data->add_subcommand("show", "Draw one character: raster and numbered strokes side by side (+ Kuzushiji samples)");
    show->add_option("character", sa->character, "U+XXXX or the character itself")->required();
    show->add_option("--cache", sa->cache, "cache written by `k2k data prepare`")->capture_default_str();
    show->add_option("--variant", sa->variant, "KanjiVG variant (e.g. Kaisho); default: the base file");
    show->add_option("--out", sa->out, "PNG to write (default: U+XXXX.png)");
    show->callback([sa]() { run_show(*sa); });

    auto sm = std::make_shared<SamplesArgs>();
    CLI::App* samples = data->add_subcommand("samples", "Write Kuzushiji images of a config's classes (default: test split) as PNGs for `k2k generate`");
    samples->add_option("--config,-c", sm->config, "experiment YAML whose data selection to use")->required()->check(CLI::ExistingFile);
    samples->add_option("--split", sm->split, "train, val or test")->capture_default_str()->check(CLI::IsMember({"train", "val", "test"}));
    samples->add_option("--count,-n", sm->count, "how many images")->capture_default_str()->check(CLI::PositiveNumber);
    samples->add_option("--out", sm->out, "folder to write the PNGs into")->required();
    samples->callback([sm]() { run_samples(*sm); });
}

}  // namespace k2k::cli
