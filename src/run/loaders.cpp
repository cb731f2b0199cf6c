// Trained models read back from a run folder (see loaders.h).
#include "run/loaders.h"

#include <sstream>

#include <torch/torch.h>

#include "run/batches.h"
#include "run/checkpoint.h"
#include "run/options.h"
#include "run/run_dir.h"
#include "util/error.h"

namespace k2k {

ConvVae load_trained_vae(const Config& c, const std::string& stage, torch::Device device) {
    ConvVae vae(vae_options(stage == "vae_new" ? c.vae_new : c.vae_old));
    load_archive(best_checkpoint(c, stage), [&](torch::serialize::InputArchive& a) { archive_read_module(a, "model", *vae); });
    vae->to(device);
    vae->eval();
    return vae;
}

torch::Tensor TrainedMdn::z_old(const torch::Tensor& x) { return encoder->encode(x).first; }

MdnOutput TrainedMdn::forward(const torch::Tensor& x) { return mdn->forward(z_old(x)); }

TrainedMdn load_trained_mdn(const Config& c, torch::Device device) {
    TrainedMdn t;
    t.mdn = Mdn(mdn_options(c));
    if (c.mdn.encoder == "finetune") {
        t.encoder = ConvVae(vae_options(c.vae_old));
        MdnWithEncoder both(t.mdn, t.encoder);
        load_archive(best_checkpoint(c, "mdn"), [&](torch::serialize::InputArchive& a) { archive_read_module(a, "model", both); });
    } else {
        load_archive(best_checkpoint(c, "mdn"), [&](torch::serialize::InputArchive& a) { archive_read_module(a, "model", *t.mdn); });
        t.encoder = load_trained_vae(c, "vae_old", device);
    }
    t.mdn->to(device);
    t.mdn->eval();
    t.encoder->to(device);
    t.encoder->eval();
    return t;
}

MdnWithEncoder::MdnWithEncoder(Mdn mdn, ConvVae encoder) {
    register_module("mdn", std::move(mdn));
    register_module("encoder", std::move(encoder));
}

TrainedSketch load_trained_sketch(const Config& c, torch::Device device) {
    TrainedSketch t;
    t.model = SketchRnn(sketch_options(c));
    t.encoder = ConvVae(vae_options(c.vae_new));
    load_archive(best_checkpoint(c, "sketch"), [&](torch::serialize::InputArchive& a) {
        archive_read_module(a, "model", *t.model);
        archive_read_module(a, "encoder", *t.encoder);
        t.scale = float(archive_read_double(a, "scale"));
        if (c.sketch.canvas_hidden > 0) {
            t.raster.size = int(archive_read_double(a, "raster_size"));
            t.raster.margin = float(archive_read_double(a, "raster_margin"));
            t.raster.canvas = float(archive_read_double(a, "raster_canvas"));
            t.raster.line_width = float(archive_read_double(a, "raster_line_width"));
        }
    });
    t.model->to(device);
    t.model->eval();
    t.encoder->to(device);
    t.encoder->eval();
    return t;
}

SketchSampleOptions TrainedSketch::sample_options(double temperature, int64_t max_len, const torch::Tensor& ink) const {
    SketchSampleOptions o;
    o.temperature = temperature;
    o.max_len = max_len;
    if (model && model->options.canvas_hidden() > 0) {
        o.ink = ink;
        o.raster = raster;
        o.unit_scale = scale;
    }
    return o;
}

TrainedReader load_trained_reader(const Config& c, torch::Device device) {
    TrainedReader t;
    const std::string path = best_checkpoint(c, "reader");
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
    const std::string path = best_checkpoint(c, "baseline");
    load_archive(path, [&](torch::serialize::InputArchive& a) {
        t.classes = split_codepoints(archive_read_string(a, "classes"), path);
        t.model = SimpleCnn(baseline_options(c.baseline, int64_t(t.classes.size())));
        archive_read_module(a, "model", *t.model);
    });
    t.model->to(device);
    t.model->eval();
    return t;
}

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

ReaderAccuracy reader_clean_accuracy(Reader& model, const Dataset& ds, const std::vector<size_t>& entries,
                                     const ReaderAugmentOptions& augment, torch::Device device) {
    std::vector<int64_t> targets(entries.size());
    for (size_t k = 0; k < entries.size(); ++k) targets[k] = int64_t(k);
    return reader_accuracy(model, ds, entries, targets, {}, augment, device);
}

ReaderAccuracy reader_accuracy(Reader& model, const Dataset& ds, const std::vector<size_t>& entries,
                               const std::vector<int64_t>& targets, const std::vector<uint32_t>& seeds,
                               const ReaderAugmentOptions& augment, torch::Device device) {
    TORCH_CHECK(targets.size() == entries.size() && (seeds.empty() || seeds.size() == entries.size()),
                "reader_accuracy: one target (and seed, if any) per entry");
    model->eval();
    torch::NoGradGuard no_grad;
    ReaderAccuracy r;
    const size_t chunk = 512;
    for (size_t s = 0; s < entries.size(); s += chunk) {
        const size_t e = std::min(entries.size(), s + chunk);
        std::vector<size_t> part(entries.begin() + long(s), entries.begin() + long(e));
        std::vector<uint32_t> part_seeds = seeds.empty() ? std::vector<uint32_t>()
                                                         : std::vector<uint32_t>(seeds.begin() + long(s), seeds.begin() + long(e));
        torch::Tensor logits = model->forward(reader_batch(ds, part, part_seeds, augment, device));
        torch::Tensor y = torch::tensor(std::vector<int64_t>(targets.begin() + long(s), targets.begin() + long(e)),
                                        torch::kInt64).to(device);
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

}  // namespace k2k
