// Per-stage test metrics of `k2k eval`: each pipeline stage loaded from the run folder (when trained)
// and measured on the evaluated split with its deterministic encoding z = mu.
#include "eval/stage_metrics.h"

#include <algorithm>

#include <torch/torch.h>

#include "data/sketch_set.h"
#include "data/strokes.h"
#include "eval/scoring.h"
#include "run/batches.h"

namespace k2k {

using nlohmann::json;

json vae_metrics(ConvVae& vae, const Dataset& dataset, const std::vector<size_t>& items, bool modern,
                 torch::Device device) {
    torch::NoGradGuard no_grad;
    double bce = 0, kl = 0, iou = 0;
    for (const std::vector<size_t>& batch : eval_batches(items, 256, items.size())) {
        torch::Tensor x = modern ? modern_images(dataset, batch, nullptr, 64, 64, device)
                                 : old_images(dataset, batch, nullptr, 64, 64, device);  // (B,1,64,64)
        auto [mu, logvar] = vae->encode(x);                                              // (B,z) each
        torch::Tensor logits = vae->decode_logits(mu);                                   // (B,1,64,64)
        // The terms of conv_vae_loss (BCE from the logits summed over the pixels, KL unfloored), but
        // summed over the batch in one reduction: its recon and kl_raw are float32 batch means, and
        // mean * B differs from the sum in the last bits (tiny run: BCE 2469.7028125 became
        // 2469.702880859375), which would change eval.json.
        namespace F = torch::nn::functional;
        bce += F::binary_cross_entropy_with_logits(logits, x, F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone))
                   .sum()
                   .item<double>();
        kl += (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum().item<double>();
        iou += ink_iou(torch::sigmoid(logits), x).sum().item<double>();
    }
    const double count = double(items.size());
    return {{"bce", bce / count}, {"kl", kl / count}, {"iou", iou / count}, {"items", items.size()}};
}

json mdn_metrics(ConvVae& vae_new, TrainedMdn& mdn, const Dataset& dataset,
                 const std::vector<std::pair<size_t, size_t>>& pairs, torch::Device device) {
    torch::NoGradGuard no_grad;
    double nll = 0;
    for (size_t start = 0; start < pairs.size(); start += 256) {
        std::vector<size_t> olds, moderns;
        for (size_t k = start; k < std::min(pairs.size(), start + 256); ++k) {
            olds.push_back(pairs[k].first);
            moderns.push_back(pairs[k].second);
        }
        torch::Tensor x_old = old_images(dataset, olds, nullptr, 64, 64, device);                               // (B,1,64,64)
        torch::Tensor z_new = vae_new->encode(modern_images(dataset, moderns, nullptr, 64, 64, device)).first;  // (B,z)
        // mdn_nll is the batch mean; weighted by the batch size for the mean over all pairs.
        nll += mdn_nll(mdn.forward(x_old), z_new).item<double>() * double(olds.size());
    }
    return {{"nll", nll / double(pairs.size())}, {"items", pairs.size()}};
}

json sketch_metrics(const Config& config, TrainedSketch& sketch, const Dataset& dataset,
                    const std::vector<size_t>& items, torch::Device device) {
    torch::NoGradGuard no_grad;
    const SketchConfig& options = config.sketch;
    size_t skipped = 0;
    const SketchSet set = build_sketches(dataset, items, options, &skipped);
    const std::vector<Stroke3>& sketches = set.sketches;
    const std::vector<size_t>& entries = set.modern;  // modern entry of each sketch
    if (sketches.empty()) return nullptr;
    const StartToken start_token = sketch_start_token(options);
    double ls = 0, lp = 0, lr = 0;
    const size_t batch_size = size_t(options.batch_size);
    for (size_t start = 0; start < sketches.size(); start += batch_size) {
        const size_t end = std::min(sketches.size(), start + batch_size);
        std::vector<const Stroke3*> batch;
        std::vector<size_t> batch_entries;
        for (size_t k = start; k < end; ++k) {
            batch.push_back(&sketches[k]);
            batch_entries.push_back(entries[k]);
        }
        const SketchBatch sb = sketch_batch(batch, sketch.scale, int(options.max_seq_len), start_token, nullptr, nullptr,
                                            options.canvas_hidden > 0 ? &sketch.raster : nullptr, device);
        torch::Tensor mu =
            sketch.encoder->encode(modern_images(dataset, batch_entries, nullptr, 64, 64, device)).first;  // (B,z)
        ReconstructionLoss loss = sketch.model->reconstruction(sb.strokes, mu, sb.canvas);
        const double weight = double(end - start);  // the losses are batch means
        ls += weight * loss.ls.item<double>();
        lp += weight * loss.lp.item<double>();
        lr += weight * loss.lr.item<double>();
    }
    const double count = double(sketches.size());
    return {{"ls", ls / count}, {"lp", lp / count}, {"lr", lr / count}, {"items", sketches.size()}, {"skipped", skipped}};
}

json stage_metrics(const EvalContext& context, StageModels& models) {
    json stages;
    for (const char* name : {"vae_new", "vae_old"}) {
        const bool modern = std::string(name) == "vae_new";
        const std::vector<size_t>& items = modern ? context.modern_items() : context.old_items();
        if (!context.complete(name)) {
            context.say(std::string(name) + " is not trained: its metrics are skipped");
            stages[name] = nullptr;
            continue;
        }
        ConvVae vae = load_trained_vae(context.config, name, context.device);
        stages[name] = items.empty() ? json(nullptr) : vae_metrics(vae, context.data.ds, items, modern, context.device);
        (modern ? models.vae_new : models.vae_old) = vae;
    }
    if (context.complete("mdn") && models.vae_new && models.vae_old) {
        models.mdn = load_trained_mdn(context.config, context.device);
        stages["mdn"] = context.pairs().empty() ? json(nullptr)
                                                : mdn_metrics(models.vae_new, models.mdn,
                                                              context.data.ds, context.pairs(), context.device);
    } else {
        context.say("mdn is not trained: its metrics and the transfer accuracy are skipped");
        stages["mdn"] = nullptr;
    }
    if (context.complete("sketch")) {
        models.sketch = load_trained_sketch(context.config, context.device);
        stages["sketch"] = sketch_metrics(context.config, models.sketch, context.data.ds, context.modern_items(),
                                          context.device);
    } else {
        context.say("sketch is not trained: its metrics and the stroke transfer accuracy are skipped");
        stages["sketch"] = nullptr;
    }
    return stages;
}

}  // namespace k2k
