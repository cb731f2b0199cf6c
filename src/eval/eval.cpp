// `k2k eval`: stage metrics on the test split, transfer accuracy read by the reader, baselines,
// eval.json, the printed table, per-item CSV and worst/best contact sheets.
#include "eval/eval.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <torch/torch.h>

#include "data/pairing.h"
#include "data/raster.h"
#include "data/strokes.h"
#include "export/sheet.h"
#include "run/batches.h"
#include "run/loaders.h"
#include "run/options.h"
#include "run/run_dir.h"
#include "runtime/runtime.h"
#include "data/selection.h"
#include "util/error.h"
#include "util/fs.h"

namespace k2k {

namespace fs = std::filesystem;
using nlohmann::json;

// ---- scoring ----------------------------------------------------------------------------------

torch::Tensor ink_iou(const torch::Tensor& a, const torch::Tensor& b, double threshold) {
    TORCH_CHECK(a.dim() == 4 && a.sizes() == b.sizes(), "ink_iou needs two (B,C,H,W) tensors of the same shape, got ",
                a.sizes(), " and ", b.sizes());
    torch::Tensor ia = a.gt(threshold).flatten(1), ib = b.gt(threshold).flatten(1);
    torch::Tensor inter = ia.logical_and(ib).sum(1).to(torch::kFloat32);
    torch::Tensor uni = ia.logical_or(ib).sum(1).to(torch::kFloat32);
    return torch::where(uni.gt(0), inter / uni.clamp_min(1), torch::ones_like(uni));
}

torch::Tensor topk_hits(const torch::Tensor& scores, const torch::Tensor& target, int64_t k) {
    TORCH_CHECK(scores.dim() == 2 && target.dim() == 1 && target.size(0) == scores.size(0),
                "topk_hits needs scores (B,C) and target (B,), got ", scores.sizes(), " and ", target.sizes());
    TORCH_CHECK(k >= 1, "topk_hits needs k >= 1");
    torch::Tensor top = std::get<1>(scores.topk(std::min(k, scores.size(1)), 1));  // (B,k)
    return top.eq(target.to(top.device()).unsqueeze(1)).any(1);
}

std::vector<int64_t> vote_ranking(const torch::Tensor& probs, int64_t k) {
    TORCH_CHECK(probs.dim() == 2 && probs.size(0) >= 1, "vote_ranking needs probs (N,C) with N >= 1, got ", probs.sizes());
    torch::Tensor p = probs.to(torch::kCPU, torch::kFloat64).contiguous();
    const int64_t n = p.size(0), c = p.size(1);
    torch::Tensor sum = p.sum(0);
    torch::Tensor votes = torch::zeros({c}, torch::kFloat64).index_add_(0, p.argmax(1), torch::ones({n}, torch::kFloat64));
    // Votes dominate: a sum of N probabilities is at most N, so votes * (N + 1) + sum orders by
    // votes first, then by summed probability.
    torch::Tensor key = votes * double(n + 1) + sum;
    torch::Tensor order = std::get<1>(key.topk(std::min(k, c)));
    return std::vector<int64_t>(order.data_ptr<int64_t>(), order.data_ptr<int64_t>() + order.numel());
}

SampleScores score_samples(const torch::Tensor& probs, int64_t target) {
    TORCH_CHECK(probs.dim() == 2 && probs.size(0) >= 1, "score_samples needs probs (N,C) with N >= 1, got ", probs.sizes());
    SampleScores s;
    std::vector<int64_t> ranking = vote_ranking(probs, 5);
    s.vote = ranking[0];
    if (target < 0 || target >= probs.size(1)) return s;  // a class the reader does not know: all misses
    torch::Tensor p = probs.to(torch::kCPU, torch::kFloat64);
    torch::Tensor t = torch::full({p.size(0)}, target, torch::kInt64);
    torch::Tensor hit1 = topk_hits(p, t, 1), hit5 = topk_hits(p, t, 5);
    s.top1 = hit1.to(torch::kFloat64).mean().item<double>();
    s.top5 = hit5.to(torch::kFloat64).mean().item<double>();
    s.best1 = hit1.any().item<bool>();
    s.best5 = hit5.any().item<bool>();
    s.vote1 = ranking[0] == target;
    s.vote5 = std::find(ranking.begin(), ranking.end(), target) != ranking.end();
    s.target_prob = p.select(1, target).mean().item<double>();
    return s;
}

torch::Tensor nearest_neighbours(const torch::Tensor& reference, const torch::Tensor& queries, int64_t k) {
    TORCH_CHECK(reference.dim() == 2 && queries.dim() == 2 && reference.size(1) == queries.size(1),
                "nearest_neighbours needs reference (R,D) and queries (Q,D), got ", reference.sizes(), " and ",
                queries.sizes());
    TORCH_CHECK(k >= 1 && reference.size(0) >= 1, "nearest_neighbours needs k >= 1 and a non-empty reference");
    const int64_t r = reference.size(0), kk = std::min(k, r);
    torch::Tensor q = queries.to(torch::kFloat32);
    torch::Tensor qn = q.pow(2).sum(1, true);  // (Q,1)
    torch::Tensor best_d, best_i;               // (Q,kk) running nearest
    const int64_t chunk = 4096;
    for (int64_t s = 0; s < r; s += chunk) {
        torch::Tensor ref = reference.slice(0, s, std::min(r, s + chunk)).to(q.device(), torch::kFloat32);
        // |q - r|^2 = |q|^2 - 2 q.r + |r|^2, clamped at 0 against rounding.
        torch::Tensor d = (qn - 2.0 * q.matmul(ref.t()) + ref.pow(2).sum(1).unsqueeze(0)).clamp_min(0);
        auto part = d.topk(std::min(kk, ref.size(0)), 1, /*largest=*/false);
        torch::Tensor pd = std::get<0>(part), pi = std::get<1>(part) + s;
        if (!best_d.defined()) {
            best_d = pd;
            best_i = pi;
        } else {
            torch::Tensor cd = torch::cat({best_d, pd}, 1), ci = torch::cat({best_i, pi}, 1);
            auto merged = cd.topk(kk, 1, /*largest=*/false);
            best_d = std::get<0>(merged);
            best_i = ci.gather(1, std::get<1>(merged));
        }
    }
    // topk(largest=false) returns ascending distances, so column 0 is the nearest.
    return best_i;
}

std::vector<int64_t> knn_ranking(const std::vector<int64_t>& labels) {
    std::vector<int64_t> classes;
    std::vector<int> counts;
    for (int64_t l : labels) {  // in neighbour order: first appearance = rank of its nearest neighbour
        auto it = std::find(classes.begin(), classes.end(), l);
        if (it == classes.end()) {
            classes.push_back(l);
            counts.push_back(1);
        } else {
            counts[size_t(it - classes.begin())]++;
        }
    }
    std::vector<size_t> order(classes.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return counts[a] > counts[b]; });
    std::vector<int64_t> out;
    for (size_t i : order) out.push_back(classes[i]);
    return out;
}

std::vector<TransferItem> transfer_items(const TrainingData& td, Split split) {
    std::set<uint32_t> base;
    for (size_t i = 0; i < td.ds.num_modern(); ++i)
        if (td.ds.modern_variant(i).empty()) base.insert(td.ds.modern_codepoint(i));
    std::vector<TransferItem> out;
    for (size_t i : td.old[int(split)]) {
        uint32_t cp = td.ds.old_codepoint(i);
        uint32_t m = paired_codepoint(cp, base);
        if (m) out.push_back({i, cp, m});
    }
    return out;
}

// ---- k2k eval ---------------------------------------------------------------------------------

namespace {

std::string cp_text(uint32_t cp) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "U+%04X", cp);
    return buf;
}

std::string fmt(double v, int digits = 4) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
    return buf;
}

// Sums of SampleScores over items.
struct Tally {
    double s1 = 0, s5 = 0, b1 = 0, b5 = 0, v1 = 0, v5 = 0;
    int64_t n = 0;
    void add(const SampleScores& s) {
        s1 += s.top1;
        s5 += s.top5;
        b1 += s.best1;
        b5 += s.best5;
        v1 += s.vote1;
        v5 += s.vote5;
        ++n;
    }
    json to_json() const {
        double d = n > 0 ? double(n) : 1.0;
        return {{"per_sample", {{"top1", s1 / d}, {"top5", s5 / d}}},
                {"best_of_n", {{"top1", b1 / d}, {"top5", b5 / d}}},
                {"vote", {{"top1", v1 / d}, {"top5", v5 / d}}}};
    }
};

json vae_metrics(ConvVae& vae, const Dataset& ds, const std::vector<size_t>& items, bool modern, torch::Device device) {
    torch::NoGradGuard no_grad;
    double bce = 0, kl = 0, iou = 0;
    for (const std::vector<size_t>& idx : eval_batches(items, 256, items.size())) {
        torch::Tensor x = modern ? modern_images(ds, idx, nullptr, 64, 64, device) : old_images(ds, idx, nullptr, 64, 64, device);
        auto [mu, logvar] = vae->encode(x);
        torch::Tensor logits = vae->decode_logits(mu);
        namespace F = torch::nn::functional;
        bce += F::binary_cross_entropy_with_logits(logits, x, F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone))
                   .sum()
                   .item<double>();
        kl += (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum().item<double>();
        iou += ink_iou(torch::sigmoid(logits), x).sum().item<double>();
    }
    double n = double(items.size());
    return {{"bce", bce / n}, {"kl", kl / n}, {"iou", iou / n}, {"items", items.size()}};
}

json mdn_metrics(ConvVae& vae_old, ConvVae& vae_new, Mdn& mdn, const TrainingData& td,
                 const std::vector<std::pair<size_t, size_t>>& pairs, torch::Device device) {
    torch::NoGradGuard no_grad;
    double nll = 0;
    for (size_t s = 0; s < pairs.size(); s += 256) {
        std::vector<size_t> olds, news;
        for (size_t k = s; k < std::min(pairs.size(), s + 256); ++k) {
            olds.push_back(pairs[k].first);
            news.push_back(pairs[k].second);
        }
        torch::Tensor z_old = vae_old->encode(old_images(td.ds, olds, nullptr, 64, 64, device)).first;
        torch::Tensor z_new = vae_new->encode(modern_images(td.ds, news, nullptr, 64, 64, device)).first;
        nll += mdn_nll(mdn->forward(z_old), z_new).item<double>() * double(olds.size());
    }
    return {{"nll", nll / double(pairs.size())}, {"items", pairs.size()}};
}

json sketch_metrics(const Config& cfg, TrainedSketch& sk, const TrainingData& td, const std::vector<size_t>& items,
                    torch::Device device) {
    torch::NoGradGuard no_grad;
    const SketchConfig& sc = cfg.sketch;
    std::vector<Stroke3> sketches;
    std::vector<size_t> modern;
    size_t skipped = 0;
    for (size_t m : items) {
        Stroke3 s3 = modern_stroke3(td.ds, m, float(sc.rdp_epsilon));
        if (s3.empty() || int64_t(s3.size()) > sc.max_seq_len) {
            ++skipped;
            continue;
        }
        sketches.push_back(std::move(s3));
        modern.push_back(m);
    }
    if (sketches.empty()) return nullptr;
    const StartToken start = sc.start_token == "pen_up" ? StartToken::PenUp : StartToken::PenDown;
    double ls = 0, lp = 0, lr = 0;
    const size_t batch = size_t(sc.batch_size);
    for (size_t s = 0; s < sketches.size(); s += batch) {
        size_t e = std::min(sketches.size(), s + batch);
        std::vector<const Stroke3*> order;
        std::vector<size_t> idx;
        for (size_t k = s; k < e; ++k) {
            order.push_back(&sketches[k]);
            idx.push_back(modern[k]);
        }
        torch::Tensor strokes = stroke5_batch(order, sk.scale, int(sc.max_seq_len), start, nullptr, nullptr, device);
        torch::Tensor mu = sk.encoder->encode(modern_images(td.ds, idx, nullptr, 64, 64, device)).first;
        ReconstructionLoss rec = sk.model->reconstruction(strokes, mu);
        double w = double(e - s);
        ls += w * rec.ls.item<double>();
        lp += w * rec.lp.item<double>();
        lr += w * rec.lr.item<double>();
    }
    double n = double(sketches.size());
    return {{"ls", ls / n}, {"lp", lp / n}, {"lr", lr / n}, {"items", sketches.size()}, {"skipped", skipped}};
}

// Everything remembered about one transfer item for the CSV and the sheets.
struct ItemRow {
    TransferItem item;
    std::vector<uint32_t> pixel_reads, stroke_reads;  // reader's top-1 code point of each sample
    uint32_t pixel_vote = 0, stroke_vote = 0;         // majority vote (0: not run)
    SampleScores pixels, strokes;
    bool has_pixels = false, has_strokes = false;
    uint32_t cnn = 0, knn = 0;  // baselines' top-1 (0: not run)
    double score = 0;           // mean probability of the right character over what was read
    Image input, modern;        // for the sheets (kept only with out_dir): input, mean decoded image
    std::vector<Image> samples;  // rendered stroke samples
};

std::string join_cps(const std::vector<uint32_t>& cps) {
    std::string out;
    for (size_t i = 0; i < cps.size(); ++i) out += (i ? ";" : "") + cp_text(cps[i]);
    return out;
}

std::string cp_or_empty(uint32_t cp) { return cp ? cp_text(cp) : std::string(); }

void write_items_csv(const std::string& path, const std::vector<ItemRow>& rows, const Dataset& ds) {
    std::ostringstream out;
    out << "old_index,name,codepoint,modern_codepoint,pixel_reads,pixel_vote,pixel_top1,pixel_target_prob,"
           "stroke_reads,stroke_vote,stroke_top1,stroke_target_prob,cnn,knn,score\n";
    for (const ItemRow& r : rows) {
        out << r.item.old_index << "," << ds.old_name(r.item.old_index) << "," << cp_text(r.item.old_codepoint) << ","
            << cp_text(r.item.modern_codepoint) << ",";
        out << join_cps(r.pixel_reads) << "," << cp_or_empty(r.pixel_vote) << ","
            << (r.has_pixels ? fmt(r.pixels.top1) : "") << "," << (r.has_pixels ? fmt(r.pixels.target_prob) : "") << ",";
        out << join_cps(r.stroke_reads) << "," << cp_or_empty(r.stroke_vote) << ","
            << (r.has_strokes ? fmt(r.strokes.top1) : "") << "," << (r.has_strokes ? fmt(r.strokes.target_prob) : "") << ",";
        out << cp_or_empty(r.cnn) << "," << cp_or_empty(r.knn) << "," << fmt(r.score) << "\n";
    }
    write_file_atomic(path, out.str());
}

// One row per item: input | mean decoded image | stroke samples | caption; black ink on white.
void write_sheet(const std::string& path, const std::string& title, const std::vector<const ItemRow*>& rows) {
    const int tile = 64, gap = 6, margin = 10, caption_w = 330, header = 30;
    size_t samples = 0;
    for (const ItemRow* r : rows) samples = std::max(samples, std::min<size_t>(r->samples.size(), 6));
    const int cols = 2 + int(samples);
    const int width = 2 * margin + cols * (tile + gap) + caption_w;
    const int height = 2 * margin + header + int(std::max<size_t>(rows.size(), 1)) * (tile + gap);
    Sheet sheet(width, height);
    sheet.text(title, margin, margin + 14, 14);
    for (size_t i = 0; i < rows.size(); ++i) {
        const ItemRow& r = *rows[i];
        const int y = margin + header + int(i) * (tile + gap);
        int x = margin;
        auto paste = [&](const Image& im) {
            if (im.width > 0) sheet.paste_gray(im, x, y, 1, true);
            sheet.frame(x - 1, y - 1, tile + 2, tile + 2);
            x += tile + gap;
        };
        paste(r.input);
        paste(r.modern);
        for (size_t s = 0; s < samples; ++s) paste(s < r.samples.size() ? r.samples[s] : Image());
        std::string l1 = cp_text(r.item.old_codepoint) + " -> " + cp_text(r.item.modern_codepoint) + "   p=" + fmt(r.score, 3);
        std::string l2 = "pixels " + (r.pixel_vote ? cp_text(r.pixel_vote) : std::string("-")) + ", strokes " +
                         (r.stroke_vote ? cp_text(r.stroke_vote) : std::string("-"));
        std::string l3 = "cnn " + (r.cnn ? cp_text(r.cnn) : std::string("-")) + ", knn " + (r.knn ? cp_text(r.knn) : std::string("-"));
        sheet.text(l1, x + 4, y + 16, 12);
        sheet.text(l2, x + 4, y + 34, 11, 60, 60, 60);
        sheet.text(l3, x + 4, y + 52, 11, 60, 60, 60);
    }
    sheet.save_png(path);
}

// The number at a path of keys, NaN when any part is missing or null.
double opt_num(const json& j, const std::vector<std::string>& path) {
    const json* p = &j;
    for (const std::string& k : path) {
        if (!p->is_object() || !p->contains(k) || (*p)[k].is_null()) return std::nan("");
        p = &(*p)[k];
    }
    return p->is_number() ? p->get<double>() : std::nan("");
}

}  // namespace

nlohmann::json run_eval(const EvalOptions& o) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string config_path = (fs::path(o.run_dir) / "config.yaml").string();
    if (!fs::is_directory(o.run_dir)) throw Error(o.run_dir + ": no such run folder (train one with k2k pipeline --config <config>)");
    if (!fs::exists(config_path)) throw Error(config_path + ": not found; is " + o.run_dir + " a k2k run folder?");
    Config cfg = load_config(config_path);
    cfg.run_dir = o.run_dir;  // the folder given, even when it was moved since training
    const Split split = parse_split(o.split);
    const torch::Device device = resolve_device(o.device);
    const int64_t n_samples = o.samples > 0 ? o.samples : cfg.generate.samples;
    auto say = [&](const std::string& line) {
        if (o.verbose) std::printf("[eval] %s\n", line.c_str());
    };
    auto complete = [&](const std::string& stage) { return stage_complete(stage_dir(cfg, stage)); };

    TrainingData td = select_training_data(load_or_prepare_dataset(cfg.data, o.verbose), cfg.data);
    const Dataset& ds = td.ds;
    const int si = int(split);

    json report;
    report["schema"] = "k2k-eval";
    report["version"] = 1;
    report["config"] = cfg.name;
    report["run_dir"] = o.run_dir;
    report["seed"] = cfg.seed;
    report["eval_seed"] = o.seed;
    report["split"] = split_name(split);
    report["device"] = device.str();
    report["samples"] = n_samples;
    report["temperature"] = cfg.generate.temperature;
    report["mdn_temperature"] = cfg.generate.mdn_temperature;
    report["mdn_mode"] = cfg.generate.mdn_mode ? "mean" : "sample";

    // Items: the split's images of the run's classes that have a KanjiVG character.
    std::vector<TransferItem> items = transfer_items(td, split);
    const size_t unpaired = td.old[si].size() - items.size();
    if (o.limit > 0 && int64_t(items.size()) > o.limit) {
        std::vector<TransferItem> kept;
        for (int64_t i = 0; i < o.limit; ++i) kept.push_back(items[size_t(i * int64_t(items.size()) / o.limit)]);
        items = kept;
    }

    // ---- per-stage metrics ----
    json stages;
    ConvVae vae_new{nullptr}, vae_old{nullptr};
    Mdn mdn{nullptr};
    TrainedSketch sketch;
    for (const char* name : {"vae_new", "vae_old"}) {
        const bool modern = std::string(name) == "vae_new";
        const std::vector<size_t>& idx = modern ? td.modern[si] : td.old[si];
        if (!complete(name)) {
            say(std::string(name) + " is not trained: its metrics are skipped");
            stages[name] = nullptr;
            continue;
        }
        ConvVae vae = load_trained_vae(cfg, name, device);
        stages[name] = idx.empty() ? json(nullptr) : vae_metrics(vae, ds, idx, modern, device);
        (modern ? vae_new : vae_old) = vae;
    }
    if (complete("mdn") && vae_new && vae_old) {
        mdn = load_trained_mdn(cfg, device);
        stages["mdn"] = td.pairs[si].empty() ? json(nullptr) : mdn_metrics(vae_old, vae_new, mdn, td, td.pairs[si], device);
    } else {
        say("mdn is not trained: its metrics and the transfer accuracy are skipped");
        stages["mdn"] = nullptr;
    }
    if (complete("sketch")) {
        sketch = load_trained_sketch(cfg, device);
        stages["sketch"] = sketch_metrics(cfg, sketch, td, td.modern[si], device);
    } else {
        say("sketch is not trained: its metrics and the stroke transfer accuracy are skipped");
        stages["sketch"] = nullptr;
    }
    report["stages"] = stages;

    // ---- the reader and its clean held-out accuracy ----
    TrainedReader reader;
    std::map<uint32_t, int64_t> reader_class;
    if (complete("reader")) {
        reader = load_trained_reader(cfg, device);
        for (size_t i = 0; i < reader.classes.size(); ++i) reader_class[reader.classes[i]] = int64_t(i);
        const std::vector<size_t> entries = reader_class_entries(ds);
        std::vector<uint32_t> cache_classes;
        for (size_t e : entries) cache_classes.push_back(ds.modern_codepoint(e));
        if (cache_classes != reader.classes)
            throw Error(stage_dir(cfg, "reader") + "/best.pt: its class list does not match the KanjiVG characters of " +
                        cfg.data.cache + "; retrain it (k2k train --stage reader)");
        const ReaderAugmentOptions aug = reader_augment_options(cfg.reader);
        ReaderAccuracy clean = reader_clean_accuracy(reader.model, ds, entries, aug, device);
        report["reader"] = {{"classes", reader.classes.size()},
                            {"clean", {{"top1", clean.top1}, {"top5", clean.top5}, {"items", clean.items},
                                       {"line_width", aug.heldout_line_width}}}};
        say("reader: clean held-out renders top-1 " + fmt(clean.top1) + ", top-5 " + fmt(clean.top5));
    } else {
        say("reader is not trained (k2k train --stage reader): transfer accuracy is skipped");
        report["reader"] = nullptr;
    }

    // ---- transfer accuracy ----
    std::vector<ItemRow> rows(items.size());
    for (size_t i = 0; i < items.size(); ++i) rows[i].item = items[i];
    const bool keep_images = !o.out_dir.empty();
    const bool do_pixels = reader.model && mdn && vae_new && vae_old && !items.empty();
    const bool do_strokes = do_pixels && sketch.model;
    Tally pixel_tally, stroke_tally;
    if (do_pixels) {
        torch::NoGradGuard no_grad;
        at::Generator gen = at::detail::createCPUGenerator(o.seed);
        SketchSampleOptions sample_opt;
        sample_opt.temperature = cfg.generate.temperature;
        sample_opt.max_len = cfg.generate.max_len;
        const size_t chunk = size_t(std::max<int64_t>(1, 128 / n_samples));
        const int64_t n = n_samples;
        for (size_t s = 0; s < items.size(); s += chunk) {
            const size_t e = std::min(items.size(), s + chunk);
            const int64_t b = int64_t(e - s);
            std::vector<size_t> idx;
            for (size_t k = s; k < e; ++k) idx.push_back(items[k].old_index);
            torch::Tensor x = old_images(ds, idx, nullptr, 64, 64, device);  // (b,1,64,64)
            MdnOutput mo = mdn->forward(vae_old->encode(x).first);
            std::vector<torch::Tensor> zs;
            for (int64_t k = 0; k < n; ++k)
                zs.push_back(mdn_sample(mo, cfg.generate.mdn_temperature, gen, cfg.generate.mdn_mode));
            torch::Tensor z = torch::stack(zs, 1).reshape({b * n, -1});  // row i*n + k: item i, draw k
            torch::Tensor pixels = vae_new->decode(z);                    // (b*n,1,64,64)
            torch::Tensor pixel_probs = torch::softmax(reader.model->forward(pixels), 1).to(torch::kCPU);
            torch::Tensor stroke_probs;
            std::vector<Image> renders;
            if (do_strokes) {
                std::vector<Stroke3> samples = sketch.model->sample(z, sample_opt, gen);
                for (Stroke3& s3 : samples) {
                    scale_stroke3(s3, 1.0f / sketch.scale);  // back to KanjiVG units
                    renders.push_back(render_strokes(stroke3_to_strokes(s3), ds.meta.raster));
                }
                stroke_probs = torch::softmax(reader.model->forward(images_to_tensor(renders, device)), 1).to(torch::kCPU);
            }
            std::vector<Image> means;
            if (keep_images) means = tensor_to_images(pixels.view({b, n, 1, 64, 64}).mean(1));
            for (int64_t i = 0; i < b; ++i) {
                ItemRow& r = rows[s + size_t(i)];
                auto it = reader_class.find(r.item.modern_codepoint);
                const int64_t target = it == reader_class.end() ? -1 : it->second;
                auto read = [&](const torch::Tensor& probs, SampleScores& scores, std::vector<uint32_t>& reads, uint32_t& vote) {
                    torch::Tensor p = probs.slice(0, i * n, (i + 1) * n);
                    scores = score_samples(p, target);
                    torch::Tensor top = p.argmax(1);
                    for (int64_t k = 0; k < n; ++k) reads.push_back(reader.classes[size_t(top[k].item<int64_t>())]);
                    vote = reader.classes[size_t(scores.vote)];
                };
                read(pixel_probs, r.pixels, r.pixel_reads, r.pixel_vote);
                r.has_pixels = true;
                pixel_tally.add(r.pixels);
                r.score = r.pixels.target_prob;
                if (do_strokes) {
                    read(stroke_probs, r.strokes, r.stroke_reads, r.stroke_vote);
                    r.has_strokes = true;
                    stroke_tally.add(r.strokes);
                    r.score = 0.5 * (r.pixels.target_prob + r.strokes.target_prob);
                }
                if (keep_images) {
                    r.input = ds.old_image_copy(r.item.old_index);
                    r.modern = means[size_t(i)];
                    for (int64_t k = 0; k < n && do_strokes; ++k) r.samples.push_back(renders[size_t(i * n + k)]);
                }
            }
            if (o.verbose && (e == items.size() || (s / chunk) % 10 == 9))
                say("transfer: " + std::to_string(e) + "/" + std::to_string(items.size()) + " items read");
        }
    }
    if (do_pixels) {
        json t = {{"items", items.size()}, {"pixels", pixel_tally.to_json()}};
        t["strokes"] = do_strokes ? stroke_tally.to_json() : json(nullptr);
        report["transfer"] = t;
    } else {
        report["transfer"] = nullptr;
    }

    // ---- baselines on the same items ----
    json baselines;
    std::vector<size_t> query_idx;
    for (const TransferItem& it : items) query_idx.push_back(it.old_index);
    if (complete("baseline") && !items.empty()) {
        torch::NoGradGuard no_grad;
        TrainedBaseline cnn = load_trained_baseline(cfg, device);
        std::map<uint32_t, int64_t> cls;
        for (size_t i = 0; i < cnn.classes.size(); ++i) cls[cnn.classes[i]] = int64_t(i);
        double top1 = 0, top5 = 0;
        for (size_t s = 0; s < items.size(); s += 256) {
            const size_t e = std::min(items.size(), s + 256);
            std::vector<size_t> idx(query_idx.begin() + long(s), query_idx.begin() + long(e));
            std::vector<int64_t> target;
            for (size_t k = s; k < e; ++k) {
                auto it = cls.find(items[k].old_codepoint);
                target.push_back(it == cls.end() ? -1 : it->second);
            }
            torch::Tensor logits = cnn.model->forward(old_images(ds, idx, nullptr, 64, 64, device)).to(torch::kCPU);
            torch::Tensor t = torch::tensor(target, torch::kInt64);
            top1 += topk_hits(logits, t, 1).sum().item<double>();
            top5 += topk_hits(logits, t, 5).sum().item<double>();
            torch::Tensor pred = logits.argmax(1);
            for (size_t k = s; k < e; ++k) rows[k].cnn = cnn.classes[size_t(pred[int64_t(k - s)].item<int64_t>())];
        }
        const double n = double(items.size());
        baselines["cnn"] = {{"top1", top1 / n}, {"top5", top5 / n}, {"classes", cnn.classes.size()}, {"items", items.size()}};
    } else {
        if (!complete("baseline")) say("baseline is not trained (k2k train --stage baseline): the CNN baseline is skipped");
        baselines["cnn"] = nullptr;
    }
    const std::vector<size_t>& reference = td.old[0];
    if (!reference.empty() && !items.empty()) {
        torch::NoGradGuard no_grad;
        const int64_t k = cfg.baseline.knn_k;
        // Raw 8-bit pixels as the reference (converted chunk by chunk), the queries on the same scale.
        torch::Tensor ref = old_images(ds, reference, nullptr, 64, 64, torch::kCPU).mul_(255.0).to(torch::kUInt8).flatten(1);
        torch::Tensor queries = old_images(ds, query_idx, nullptr, 64, 64, torch::kCPU).mul_(255.0).flatten(1);
        torch::Tensor nn_idx = nearest_neighbours(ref.to(device), queries.to(device), k).to(torch::kCPU);
        double top1 = 0, top5 = 0;
        for (size_t q = 0; q < items.size(); ++q) {
            std::vector<int64_t> labels;
            for (int64_t j = 0; j < nn_idx.size(1); ++j)
                labels.push_back(int64_t(ds.old_codepoint(reference[size_t(nn_idx[int64_t(q)][j].item<int64_t>())])));
            std::vector<int64_t> ranking = knn_ranking(labels);
            const int64_t target = int64_t(items[q].old_codepoint);
            top1 += ranking[0] == target;
            top5 += std::find(ranking.begin(), ranking.begin() + long(std::min<size_t>(5, ranking.size())), target) !=
                    ranking.begin() + long(std::min<size_t>(5, ranking.size()));
            rows[q].knn = uint32_t(ranking[0]);
        }
        const double n = double(items.size());
        baselines["knn"] = {{"k", k}, {"top1", top1 / n}, {"top5", top5 / n}, {"reference", reference.size()}, {"items", items.size()}};
    } else {
        baselines["knn"] = nullptr;
    }
    report["baselines"] = baselines;

    report["counts"] = {{"modern_items", td.modern[si].size()},
                        {"old_items", td.old[si].size()},
                        {"pairs", td.pairs[si].size()},
                        {"transfer_items", items.size()},
                        {"transfer_unpaired", unpaired},
                        {"reader_classes", reader.classes.size()},
                        {"baseline_classes", baseline_classes(td).size()},
                        {"knn_reference", reference.size()}};
    report["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    const std::string eval_dir = (fs::path(o.run_dir) / "eval").string();
    fs::create_directories(eval_dir);
    const std::string json_name = split == Split::Test ? "eval.json" : "eval_" + std::string(split_name(split)) + ".json";
    write_file_atomic((fs::path(eval_dir) / json_name).string(), report.dump(2) + "\n");
    say("wrote " + (fs::path(eval_dir) / json_name).string());

    if (!o.out_dir.empty()) {
        fs::create_directories(o.out_dir);
        write_items_csv((fs::path(o.out_dir) / "items.csv").string(), rows, ds);
        std::vector<const ItemRow*> order;
        for (const ItemRow& r : rows) order.push_back(&r);
        std::stable_sort(order.begin(), order.end(), [](const ItemRow* a, const ItemRow* b) { return a->score < b->score; });
        const size_t m = std::min(order.size(), size_t(std::max<int64_t>(1, o.sheet_rows)));
        std::vector<const ItemRow*> worst(order.begin(), order.begin() + long(m));
        std::vector<const ItemRow*> best(order.rbegin(), order.rbegin() + long(m));
        const std::string cols = "input | mean predicted pixels | stroke samples";
        write_sheet((fs::path(o.out_dir) / "worst.png").string(), "worst " + std::to_string(m) + " (" + cols + ")", worst);
        write_sheet((fs::path(o.out_dir) / "best.png").string(), "best " + std::to_string(m) + " (" + cols + ")", best);
        say("wrote items.csv, worst.png and best.png in " + o.out_dir);
    }
    return report;
}

std::string eval_table(const nlohmann::json& r) {
    auto num = [&](const std::vector<std::string>& path, int digits = 4) {
        double v = opt_num(r, path);
        return std::isnan(v) ? std::string("-") : fmt(v, digits);
    };
    auto count = [&](const std::vector<std::string>& path) {
        double v = opt_num(r, path);
        return std::isnan(v) ? std::string("-") : std::to_string(int64_t(v));
    };
    std::ostringstream out;
    out << "k2k eval: run " << r.value("run_dir", "") << " (config " << r.value("config", "") << "), split "
        << r.value("split", "") << ", " << count({"samples"}) << " samples per item, " << count({"counts", "transfer_items"})
        << " items\n";
    for (const char* vae : {"vae_new", "vae_old"})
        out << "  " << vae << "   BCE " << num({"stages", vae, "bce"}, 2) << "  KL " << num({"stages", vae, "kl"}, 2)
            << "  IoU " << num({"stages", vae, "iou"}) << "\n";
    out << "  mdn       NLL " << num({"stages", "mdn", "nll"}, 3) << "\n";
    out << "  sketch    Ls " << num({"stages", "sketch", "ls"}) << "  Lp " << num({"stages", "sketch", "lp"}) << "  Lr "
        << num({"stages", "sketch", "lr"}) << "\n";
    out << "  reader    clean held-out renders: top-1 " << num({"reader", "clean", "top1"}) << "  top-5 "
        << num({"reader", "clean", "top5"}) << "  (" << count({"reader", "classes"}) << " classes)\n";
    char line[200];
    std::snprintf(line, sizeof(line), "  %-40s %8s %8s\n", "", "top-1", "top-5");
    out << line;
    const char* modes[] = {"per_sample", "best_of_n", "vote"};
    const char* mode_names[] = {"per sample", "best of N", "majority vote"};
    for (const char* part : {"pixels", "strokes"})
        for (int m = 0; m < 3; ++m) {
            char label[80];
            std::snprintf(label, sizeof(label), "%-18s%s", m == 0 ? (std::string("transfer ") + part).c_str() : "", mode_names[m]);
            std::snprintf(line, sizeof(line), "  %-40s %8s %8s\n", label, num({"transfer", part, modes[m], "top1"}).c_str(),
                          num({"transfer", part, modes[m], "top5"}).c_str());
            out << line;
        }
    std::string cnn = "baseline direct CNN (" + count({"baselines", "cnn", "classes"}) + " classes)";
    std::snprintf(line, sizeof(line), "  %-40s %8s %8s\n", cnn.c_str(), num({"baselines", "cnn", "top1"}).c_str(),
                  num({"baselines", "cnn", "top5"}).c_str());
    out << line;
    std::string knn = "baseline " + count({"baselines", "knn", "k"}) + "-NN raw pixels (" +
                      count({"baselines", "knn", "reference"}) + " refs)";
    std::snprintf(line, sizeof(line), "  %-40s %8s %8s\n", knn.c_str(), num({"baselines", "knn", "top1"}).c_str(),
                  num({"baselines", "knn", "top5"}).c_str());
    out << line;
    return out.str();
}

}  // namespace k2k
