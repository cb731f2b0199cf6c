// Evaluation stages: the reader (every KanjiVG base character, freshly augmented renders each step,
// validated on fixed renders) and the seed paper's direct CNN baseline on Kuzushiji-Kanji images.
#include "train/stage_reader.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <torch/torch.h>

#include "data/split.h"
#include "train/checkpoint.h"
#include "train/stage_internal.h"
#include "train/stage_runner.h"
#include "train/stages.h"
#include "train/training_data.h"
#include "util/error.h"

namespace k2k {

namespace {

std::string join_codepoints(const std::vector<uint32_t>& cps) {
    std::ostringstream s;
    for (size_t i = 0; i < cps.size(); ++i) s << (i ? "," : "") << std::hex << cps[i];
    return s.str();
}

std::vector<uint32_t> split_codepoints(const std::string& text, const std::string& path) {
    std::vector<uint32_t> out;
    std::stringstream s(text);
    std::string item;
    while (std::getline(s, item, ',')) {
        try {
            out.push_back(uint32_t(std::stoul(item, nullptr, 16)));
        } catch (const std::exception&) {
            throw Error(path + ": malformed class list in the checkpoint ('" + item + "')");
        }
    }
    if (out.empty()) throw Error(path + ": empty class list in the checkpoint");
    return out;
}

std::string best_path(const Config& c, const std::string& stage) {
    std::string path = (std::filesystem::path(stage_dir(c, stage)) / "best.pt").string();
    if (!std::filesystem::exists(path))
        throw Error(path + ": checkpoint not found; train the stage first (k2k train --config <config> --stage " + stage + ")");
    return path;
}

// Mean cross-entropy and top-1 accuracy of `logits` (B,C) against `y` (B,).
std::pair<double, double> loss_and_accuracy(const torch::Tensor& logits, const torch::Tensor& y) {
    double loss = torch::nn::functional::cross_entropy(logits, y).item<double>();
    double acc = logits.argmax(1).eq(y).to(torch::kFloat64).mean().item<double>();
    return {loss, acc};
}

}  // namespace

const std::vector<std::string>& eval_stage_names() {
    static const std::vector<std::string> names = {"reader", "baseline"};
    return names;
}

ReaderOptions reader_options(const ReaderConfig& c, int64_t num_classes) {
    return ReaderOptions()
        .num_classes(num_classes)
        .input_size(c.input_size)
        .width(c.width)
        .hidden(c.hidden)
        .scale(c.scale);
}

SimpleCnnOptions baseline_options(const BaselineConfig& c, int64_t num_classes) {
    return SimpleCnnOptions().num_classes(num_classes).input_size(c.input_size).hidden(c.hidden);
}

ReaderAugmentOptions reader_augment_options(const ReaderConfig& c) {
    ReaderAugmentOptions o;
    o.affine = float(c.affine);
    o.translate = float(c.translate);
    o.line_width_min = float(c.line_width_min);
    o.line_width_max = float(c.line_width_max);
    o.heldout_line_width = float(c.heldout_line_width);
    o.rdp_max = float(c.rdp_max);
    o.wobble = float(c.wobble);
    o.drop_stroke = float(c.drop_stroke);
    o.blur_max = float(c.blur_max);
    o.ink_min = float(c.ink_min);
    return o;
}

std::vector<size_t> reader_class_entries(const Dataset& ds) {
    std::map<uint32_t, size_t> base;
    for (size_t i = 0; i < ds.num_modern(); ++i)
        if (ds.modern_variant(i).empty()) base.emplace(ds.modern_codepoint(i), i);
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

torch::Tensor reader_batch(const Dataset& ds, const std::vector<size_t>& entries, const std::vector<uint32_t>& seeds,
                           const ReaderAugmentOptions& augment, torch::Device device) {
    TORCH_CHECK(seeds.empty() || seeds.size() == entries.size(), "reader_batch needs one seed per entry (or none).");
    const int s = ds.meta.raster.size;
    const size_t bytes = ds.image_bytes();
    torch::Tensor out = torch::empty({int64_t(entries.size()), 1, s, s}, torch::kUInt8);
    uint8_t* dst = out.data_ptr<uint8_t>();
    at::parallel_for(0, int64_t(entries.size()), 4, [&](int64_t begin, int64_t end) {
        for (int64_t k = begin; k < end; ++k) {
            Strokes strokes = ds.modern_strokes(entries[size_t(k)]);
            Image img;
            if (seeds.empty()) {
                img = render_reader_clean(strokes, augment, ds.meta.raster);
            } else {
                std::mt19937 rng{seeds[size_t(k)]};
                img = augment_for_reader(strokes, augment, ds.meta.raster, rng);
            }
            std::copy(img.pixels.begin(), img.pixels.end(), dst + size_t(k) * bytes);
        }
    });
    return out.to(device).to(torch::kFloat32).div_(255.0);
}

double cosine_lr(int64_t step, int64_t steps, double lr) {
    if (steps <= 0) return lr;
    return 0.5 * lr * (1.0 + std::cos(3.14159265358979323846 * double(std::min(step, steps)) / double(steps)));
}

void train_reader(const Config& cfg, TrainingData& td, torch::Device device, bool resume) {
    const ReaderConfig& rc = cfg.reader;
    const Dataset& ds = td.ds;
    const std::vector<size_t> entries = reader_class_entries(ds);
    if (entries.empty()) throw Error("reader: the dataset cache holds no KanjiVG base character");
    std::vector<uint32_t> classes;
    for (size_t e : entries) classes.push_back(ds.modern_codepoint(e));
    const int64_t num_classes = int64_t(classes.size());
    const ReaderAugmentOptions aug = reader_augment_options(rc);

    const uint64_t seed = stage_seed(cfg, "reader");
    torch::manual_seed(seed);
    Reader model(reader_options(rc, num_classes));
    model->to(device);
    torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(rc.lr));
    std::mt19937 rng{uint32_t(seed)};

    // Fixed validation renders: eval_classes classes spread over the list, each augmented with its
    // own fixed seed (a stream the training draws never use: they come from `rng`).
    const int64_t num_val = std::min<int64_t>(rc.eval_classes, num_classes);
    std::vector<size_t> val_entries;
    std::vector<uint32_t> val_seeds;
    std::vector<int64_t> val_labels;
    for (int64_t i = 0; i < num_val; ++i) {
        int64_t c = i * num_classes / num_val;
        val_entries.push_back(entries[size_t(c)]);
        val_seeds.push_back(uint32_t(split_hash("reader-val-" + std::to_string(seed) + "-" + std::to_string(i))));
        val_labels.push_back(c);
    }
    const torch::Tensor val_x = reader_batch(ds, val_entries, val_seeds, aug, device);  // (V,1,64,64)
    const torch::Tensor val_y = torch::tensor(val_labels, torch::kInt64).to(device);
    std::printf("[reader] %lld classes (every KanjiVG base character in %s), %lld validation renders\n",
                (long long)num_classes, cfg.data.cache.c_str(), (long long)num_val);

    const auto ce_options = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(rc.label_smoothing);

    StageLoopOptions lo = stage_loop_options(cfg, "reader", rc.steps, rc.eval_every, resume);
    lo.terms = {"loss", "acc"};
    lo.extras = {"lr", "grad_norm"};

    StageHooks hooks;
    hooks.train_step = [&](int64_t step) {
        model->train();
        const double lr = cosine_lr(step, rc.steps, rc.lr);
        for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
        std::vector<size_t> pick = draw_indices(size_t(num_classes), size_t(rc.batch_size), rng);
        std::vector<size_t> picked;
        std::vector<uint32_t> seeds;
        std::vector<int64_t> labels;
        for (size_t c : pick) {
            picked.push_back(entries[c]);
            seeds.push_back(rng());
            labels.push_back(int64_t(c));
        }
        torch::Tensor x = reader_batch(ds, picked, seeds, aug, device);  // (B,1,64,64)
        torch::Tensor y = torch::tensor(labels, torch::kInt64).to(device);
        torch::Tensor logits = model->forward(x);
        torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y, ce_options);
        opt.zero_grad();
        loss.backward();
        double norm = clip_and_step(model->parameters(), opt, 0.0);
        double acc = logits.argmax(1).eq(y).to(torch::kFloat64).mean().item<double>();
        return std::vector<double>{loss.item<double>(), acc, lr, norm};
    };
    hooks.evaluate = [&]() {
        model->eval();
        torch::NoGradGuard no_grad;
        double loss = 0, acc = 0;
        const int64_t chunk = 512;
        for (int64_t s = 0; s < num_val; s += chunk) {
            int64_t e = std::min(num_val, s + chunk);
            auto [l, a] = loss_and_accuracy(model->forward(val_x.slice(0, s, e)), val_y.slice(0, s, e));
            loss += l * double(e - s);
            acc += a * double(e - s);
        }
        return std::vector<double>{loss / double(num_val), acc / double(num_val)};
    };
    hooks.save = [&](torch::serialize::OutputArchive& a) {
        archive_write_string(a, "classes", join_codepoints(classes));
        archive_write_module(a, "model", *model);
        archive_write_optimizer(a, "optimizer", opt);
        archive_write_rng(a, "rng", rng);
    };
    hooks.load = [&](torch::serialize::InputArchive& a) {
        archive_read_module(a, "model", *model);
        archive_read_optimizer(a, "optimizer", opt);
        archive_read_rng(a, "rng", rng);
    };
    run_stage_loop(lo, hooks);

    TrainedReader best = load_trained_reader(cfg, device);
    ReaderAccuracy clean = reader_clean_accuracy(best.model, ds, entries, aug, device);
    std::printf("[reader] clean held-out renders (line width %.2f px, never used in training): top-1 %.4f, top-5 %.4f over %lld classes\n",
                double(aug.heldout_line_width), clean.top1, clean.top5, (long long)clean.items);
}

ReaderAccuracy reader_clean_accuracy(Reader& model, const Dataset& ds, const std::vector<size_t>& entries,
                                     const ReaderAugmentOptions& augment, torch::Device device) {
    model->eval();
    torch::NoGradGuard no_grad;
    ReaderAccuracy r;
    const size_t chunk = 512;
    for (size_t s = 0; s < entries.size(); s += chunk) {
        std::vector<size_t> part(entries.begin() + long(s), entries.begin() + long(std::min(entries.size(), s + chunk)));
        torch::Tensor logits = model->forward(reader_batch(ds, part, {}, augment, device));
        torch::Tensor y = torch::arange(int64_t(s), int64_t(s + part.size()), torch::kInt64).to(device);
        torch::Tensor top = std::get<1>(logits.topk(std::min<int64_t>(5, logits.size(1)), 1));  // (B,k)
        torch::Tensor hit = top.eq(y.unsqueeze(1));
        r.top1 += hit.select(1, 0).sum().item<double>();
        r.top5 += hit.any(1).sum().item<double>();
        r.items += int64_t(part.size());
    }
    if (r.items > 0) {
        r.top1 /= double(r.items);
        r.top5 /= double(r.items);
    }
    return r;
}

void train_baseline(const Config& cfg, TrainingData& td, torch::Device device, bool resume) {
    const BaselineConfig& bc = cfg.baseline;
    const std::vector<size_t>& train = td.old[0];
    require_items(train, "baseline", "Kuzushiji-Kanji images");
    const std::vector<size_t>& val = pick_val(td.old[1], train, "baseline");
    const std::vector<uint32_t> classes = baseline_classes(td);
    std::map<uint32_t, int64_t> label_of;
    for (size_t i = 0; i < classes.size(); ++i) label_of[classes[i]] = int64_t(i);
    auto labels = [&](const std::vector<size_t>& idx) {
        std::vector<int64_t> y;
        for (size_t i : idx) y.push_back(label_of.at(td.ds.old_codepoint(i)));
        return torch::tensor(y, torch::kInt64).to(device);
    };
    std::printf("[baseline] %zu Kuzushiji classes, %zu training / %zu validation images\n", classes.size(),
                train.size(), val.size());

    const uint64_t seed = stage_seed(cfg, "baseline");
    torch::manual_seed(seed);
    SimpleCnn model(baseline_options(bc, int64_t(classes.size())));
    model->to(device);
    torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(bc.lr));
    std::mt19937 rng{uint32_t(seed)};

    StageLoopOptions lo = stage_loop_options(cfg, "baseline", bc.steps, bc.eval_every, resume);
    lo.terms = {"loss", "acc"};
    lo.extras = {"lr", "grad_norm"};

    StageHooks hooks;
    hooks.train_step = [&](int64_t) {
        model->train();
        std::vector<size_t> pick = draw_indices(train.size(), size_t(bc.batch_size), rng);
        for (size_t& p : pick) p = train[p];
        torch::Tensor x = old_images(td.ds, pick, nullptr, 64, 64, device);  // (B,1,64,64)
        torch::Tensor y = labels(pick);
        torch::Tensor logits = model->forward(x);
        torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y);
        opt.zero_grad();
        loss.backward();
        double norm = clip_and_step(model->parameters(), opt, 0.0);
        double acc = logits.argmax(1).eq(y).to(torch::kFloat64).mean().item<double>();
        return std::vector<double>{loss.item<double>(), acc, bc.lr, norm};
    };
    hooks.evaluate = [&]() {
        model->eval();
        torch::NoGradGuard no_grad;
        double loss = 0, acc = 0;
        for (const std::vector<size_t>& idx : eval_batches(val, 512, val.size())) {
            auto [l, a] = loss_and_accuracy(model->forward(old_images(td.ds, idx, nullptr, 64, 64, device)), labels(idx));
            loss += l * double(idx.size());
            acc += a * double(idx.size());
        }
        return std::vector<double>{loss / double(val.size()), acc / double(val.size())};
    };
    hooks.save = [&](torch::serialize::OutputArchive& a) {
        archive_write_string(a, "classes", join_codepoints(classes));
        archive_write_module(a, "model", *model);
        archive_write_optimizer(a, "optimizer", opt);
        archive_write_rng(a, "rng", rng);
        at::Generator global = at::detail::getDefaultCPUGenerator();  // dropout masks
        archive_write_generator(a, "global_gen", global);
    };
    hooks.load = [&](torch::serialize::InputArchive& a) {
        archive_read_module(a, "model", *model);
        archive_read_optimizer(a, "optimizer", opt);
        archive_read_rng(a, "rng", rng);
        at::Generator global = at::detail::getDefaultCPUGenerator();
        archive_read_generator(a, "global_gen", global);
    };
    run_stage_loop(lo, hooks);
}

TrainedReader load_trained_reader(const Config& c, torch::Device device) {
    TrainedReader t;
    const std::string path = best_path(c, "reader");
    load_archive(path, [&](torch::serialize::InputArchive& a) {
        t.classes = split_codepoints(archive_read_string(a, "classes"), path);
        t.model = Reader(reader_options(c.reader, int64_t(t.classes.size())));
        archive_read_module(a, "model", *t.model);
    });
    t.model->to(device);
    t.model->eval();
    return t;
}

TrainedBaseline load_trained_baseline(const Config& c, torch::Device device) {
    TrainedBaseline t;
    const std::string path = best_path(c, "baseline");
    load_archive(path, [&](torch::serialize::InputArchive& a) {
        t.classes = split_codepoints(archive_read_string(a, "classes"), path);
        t.model = SimpleCnn(baseline_options(c.baseline, int64_t(t.classes.size())));
        archive_read_module(a, "model", *t.model);
    });
    t.model->to(device);
    t.model->eval();
    return t;
}

}  // namespace k2k
