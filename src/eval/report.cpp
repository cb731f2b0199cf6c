// The outputs of `k2k eval`: eval.json (header, counts, the atomic write), items.csv, the contact
// sheets of the worst and best items, and the printed table.
#include "eval/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "data/selection.h"
#include "export/sheet.h"
#include "util/fs.h"

namespace k2k {

namespace fs = std::filesystem;
using nlohmann::json;

json report_header(const EvalContext& context, uint64_t eval_seed) {
    const Config& config = context.config;
    json report;
    report["schema"] = "k2k-eval";
    report["version"] = 1;
    report["config"] = config.name;
    report["run_dir"] = config.run_dir;
    report["seed"] = config.seed;
    report["eval_seed"] = eval_seed;
    report["split"] = split_name(context.split);
    report["device"] = context.device.str();
    report["samples"] = context.samples;
    report["temperature"] = config.generate.temperature;
    report["mdn_temperature"] = config.generate.mdn_temperature;
    report["mdn_mode"] = config.generate.mdn_mode ? "mean" : "sample";
    report["condition"] = config.generate.condition;
    report["condition_top"] = config.generate.condition_top;
    return report;
}

json report_counts(const EvalContext& context, size_t transfer_items, size_t transfer_unpaired, size_t reader_classes,
                   size_t knn_reference) {
    return {{"modern_items", context.modern_items().size()},
            {"old_items", context.old_items().size()},
            {"pairs", context.pairs().size()},
            {"transfer_items", transfer_items},
            {"transfer_unpaired", transfer_unpaired},
            {"reader_classes", reader_classes},
            {"baseline_classes", baseline_classes(context.data).size()},
            {"knn_reference", knn_reference}};
}

std::string write_report(const std::string& run_dir, Split split, const json& report) {
    const fs::path eval_dir = fs::path(run_dir) / "eval";
    fs::create_directories(eval_dir);
    const std::string name = split == Split::Test ? "eval.json" : "eval_" + std::string(split_name(split)) + ".json";
    const std::string path = (eval_dir / name).string();
    write_file_atomic(path, report.dump(2) + "\n");
    return path;
}

namespace {

std::string cp_text(uint32_t cp) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "U+%04X", cp);
    return buf;
}

std::string cp_or_empty(uint32_t cp) { return cp ? cp_text(cp) : std::string(); }

std::string cp_or_dash(uint32_t cp) { return cp ? cp_text(cp) : std::string("-"); }

std::string join_cps(const std::vector<uint32_t>& cps) {
    std::string out;
    for (size_t i = 0; i < cps.size(); ++i) out += (i ? ";" : "") + cp_text(cps[i]);
    return out;
}

void write_items_csv(const std::string& path, const std::vector<ItemRow>& rows, const Dataset& dataset) {
    std::ostringstream out;
    out << "old_index,name,codepoint,modern_codepoint,pixel_reads,pixel_vote,pixel_top1,pixel_target_prob,"
           "stroke_reads,stroke_vote,stroke_top1,stroke_target_prob,cnn,knn,score\n";
    for (const ItemRow& row : rows) {
        out << row.item.old_index << "," << dataset.old_name(row.item.old_index) << "," << cp_text(row.item.old_codepoint)
            << "," << cp_text(row.item.modern_codepoint) << ",";
        out << join_cps(row.pixel_reads) << "," << cp_or_empty(row.pixel_vote) << ","
            << (row.has_pixels ? fixed(row.pixels.top1) : "") << ","
            << (row.has_pixels ? fixed(row.pixels.target_prob) : "") << ",";
        out << join_cps(row.stroke_reads) << "," << cp_or_empty(row.stroke_vote) << ","
            << (row.has_strokes ? fixed(row.strokes.top1) : "") << ","
            << (row.has_strokes ? fixed(row.strokes.target_prob) : "") << ",";
        out << cp_or_empty(row.cnn) << "," << cp_or_empty(row.knn) << "," << fixed(row.score) << "\n";
    }
    write_file_atomic(path, out.str());
}

// One row per item: input | mean decoded image | stroke samples (at most 6) | caption; black ink
// on white.
void write_sheet(const std::string& path, const std::string& title, const std::vector<const ItemRow*>& rows) {
    const int tile = 64, gap = 6, margin = 10, caption_w = 330, header = 30;
    size_t samples = 0;
    for (const ItemRow* row : rows) samples = std::max(samples, std::min<size_t>(row->samples.size(), 6));
    const int cols = 2 + int(samples);
    const int width = 2 * margin + cols * (tile + gap) + caption_w;
    const int height = 2 * margin + header + int(std::max<size_t>(rows.size(), 1)) * (tile + gap);
    Sheet sheet(width, height);
    sheet.text(title, margin, margin + 14, 14);
    for (size_t i = 0; i < rows.size(); ++i) {
        const ItemRow& row = *rows[i];
        const int y = margin + header + int(i) * (tile + gap);
        int x = margin;
        auto paste = [&](const Image& image) {
            if (image.width > 0) sheet.paste_gray(image, x, y, 1, true);
            sheet.frame(x - 1, y - 1, tile + 2, tile + 2);
            x += tile + gap;
        };
        paste(row.input);
        paste(row.modern);
        for (size_t s = 0; s < samples; ++s) paste(s < row.samples.size() ? row.samples[s] : Image());
        const std::string line1 =
            cp_text(row.item.old_codepoint) + " -> " + cp_text(row.item.modern_codepoint) + "   p=" + fixed(row.score, 3);
        const std::string line2 = "pixels " + cp_or_dash(row.pixel_vote) + ", strokes " + cp_or_dash(row.stroke_vote);
        const std::string line3 = "cnn " + cp_or_dash(row.cnn) + ", knn " + cp_or_dash(row.knn);
        sheet.text(line1, x + 4, y + 16, 12);
        sheet.text(line2, x + 4, y + 34, 11, 60, 60, 60);
        sheet.text(line3, x + 4, y + 52, 11, 60, 60, 60);
    }
    sheet.save_png(path);
}

// The number at a path of keys, NaN when any part is missing or null.
double opt_num(const json& j, const std::vector<std::string>& path) {
    const json* p = &j;
    for (const std::string& key : path) {
        if (!p->is_object() || !p->contains(key) || (*p)[key].is_null()) return std::nan("");
        p = &(*p)[key];
    }
    return p->is_number() ? p->get<double>() : std::nan("");
}

}  // namespace

void write_item_outputs(const std::string& out_dir, const std::vector<ItemRow>& rows, const Dataset& dataset,
                        int64_t sheet_rows) {
    fs::create_directories(out_dir);
    write_items_csv((fs::path(out_dir) / "items.csv").string(), rows, dataset);
    std::vector<const ItemRow*> order;  // by score, ascending; ties in item order
    for (const ItemRow& row : rows) order.push_back(&row);
    std::stable_sort(order.begin(), order.end(), [](const ItemRow* a, const ItemRow* b) { return a->score < b->score; });
    const size_t shown = std::min(order.size(), size_t(std::max<int64_t>(1, sheet_rows)));
    std::vector<const ItemRow*> worst(order.begin(), order.begin() + long(shown));
    std::vector<const ItemRow*> best(order.rbegin(), order.rbegin() + long(shown));
    const std::string cols = "input | mean predicted pixels | stroke samples";
    write_sheet((fs::path(out_dir) / "worst.png").string(), "worst " + std::to_string(shown) + " (" + cols + ")", worst);
    write_sheet((fs::path(out_dir) / "best.png").string(), "best " + std::to_string(shown) + " (" + cols + ")", best);
}

std::string eval_table(const nlohmann::json& report) {
    auto num = [&](const std::vector<std::string>& path, int digits = 4) {
        double v = opt_num(report, path);
        return std::isnan(v) ? std::string("-") : fixed(v, digits);
    };
    auto count = [&](const std::vector<std::string>& path) {
        double v = opt_num(report, path);
        return std::isnan(v) ? std::string("-") : std::to_string(int64_t(v));
    };
    std::ostringstream out;
    out << "k2k eval: run " << report.value("run_dir", "") << " (config " << report.value("config", "") << "), split "
        << report.value("split", "") << ", " << count({"samples"}) << " samples per item, "
        << count({"counts", "transfer_items"}) << " items\n";
    for (const char* vae : {"vae_new", "vae_old"})
        out << "  " << vae << "   BCE " << num({"stages", vae, "bce"}, 2) << "  KL " << num({"stages", vae, "kl"}, 2)
            << "  IoU " << num({"stages", vae, "iou"}) << "\n";
    out << "  mdn       NLL " << num({"stages", "mdn", "nll"}, 3) << "\n";
    out << "  sketch    Ls " << num({"stages", "sketch", "ls"}) << "  Lp " << num({"stages", "sketch", "lp"}) << "  Lr "
        << num({"stages", "sketch", "lr"}) << "\n";
    out << "  reader    clean held-out renders: top-1 " << num({"reader", "clean", "top1"}) << "  top-5 "
        << num({"reader", "clean", "top5"}) << "  (" << count({"reader", "classes"}) << " classes)\n";
    out << "  reader    augmented held-out renders: top-1 " << num({"reader", "augmented", "top1"}) << "  top-5 "
        << num({"reader", "augmented", "top5"}) << "; KanjiVG variant glyphs: top-1 " << num({"reader", "variants", "top1"})
        << "  top-5 " << num({"reader", "variants", "top5"}) << " (" << count({"reader", "variants", "items"}) << ")\n";
    char line[200];
    std::snprintf(line, sizeof(line), "  %-40s %8s %8s\n", "", "top-1", "top-5");
    out << line;
    const char* modes[] = {"per_sample", "best_of_n", "vote", "first_ranked"};
    const char* mode_names[] = {"per sample", "best of N", "majority vote", "first-ranked"};
    for (const char* part : {"pixels", "strokes"})
        for (int m = 0; m < (part == std::string("strokes") ? 4 : 3); ++m) {
            char label[80];
            std::snprintf(label, sizeof(label), "%-18s%s", m == 0 ? (std::string("transfer ") + part).c_str() : "",
                          mode_names[m]);
            std::snprintf(line, sizeof(line), "  %-40s %8s %8s\n", label, num({"transfer", part, modes[m], "top1"}).c_str(),
                          num({"transfer", part, modes[m], "top5"}).c_str());
            out << line;
        }
    for (const char* part : {"pixels", "strokes"}) {
        const std::string label = std::string("reader on the run's ") + count({"transfer", "run_classes", "classes"}) +
                                  " chars, " + part;
        std::snprintf(line, sizeof(line), "  %-40s %8s %8s\n", label.c_str(),
                      num({"transfer", "run_classes", part, "per_sample", "top1"}).c_str(),
                      num({"transfer", "run_classes", part, "per_sample", "top5"}).c_str());
        out << line;
    }
    const std::string candidates = "MDN candidates (" + count({"candidates", "classes"}) + " characters)";
    std::snprintf(line, sizeof(line), "  %-40s %8s %8s\n", candidates.c_str(), num({"candidates", "top1"}).c_str(),
                  num({"candidates", "top5"}).c_str());
    out << line;
    const char* groups[] = {"split_chars", "train_chars"};
    const char* group_names[] = {"split's chars", "training chars"};
    for (int g = 0; g < 2; ++g)
        for (const char* link : {"vae_new", "sketch_true_z"}) {
            const std::string label = std::string(link == std::string("vae_new") ? "link vae_new recon, " : "link sketch(true z), ") +
                                      group_names[g] + " (" + count({"links", groups[g], "items"}) + ")";
            std::snprintf(line, sizeof(line), "  %-40s %8s %8s  best of N %s, first-ranked %s\n", label.c_str(),
                          num({"links", groups[g], link, "per_sample", "top1"}).c_str(),
                          num({"links", groups[g], link, "per_sample", "top5"}).c_str(),
                          num({"links", groups[g], link, "best_of_n", "top1"}).c_str(),
                          num({"links", groups[g], link, "first_ranked", "top1"}).c_str());
            out << line;
        }
    const std::string cnn = "baseline direct CNN (" + count({"baselines", "cnn", "classes"}) + " classes)";
    std::snprintf(line, sizeof(line), "  %-40s %8s %8s\n", cnn.c_str(), num({"baselines", "cnn", "top1"}).c_str(),
                  num({"baselines", "cnn", "top5"}).c_str());
    out << line;
    const std::string knn = "baseline " + count({"baselines", "knn", "k"}) + "-NN raw pixels (" +
                            count({"baselines", "knn", "reference"}) + " refs)";
    std::snprintf(line, sizeof(line), "  %-40s %8s %8s\n", knn.c_str(), num({"baselines", "knn", "top1"}).c_str(),
                  num({"baselines", "knn", "top5"}).c_str());
    out << line;
    return out.str();
}

}  // namespace k2k
