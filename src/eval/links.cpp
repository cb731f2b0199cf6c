// Per-link accuracy of `k2k eval` (see links.h).
#include "eval/links.h"

#include <algorithm>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "run/batches.h"

namespace k2k {

using nlohmann::json;

namespace {

// The base (non-variant) KanjiVG entries of `entries` that the reader knows, at most `limit`
// (0 = all), spread evenly.
std::vector<size_t> base_entries_of(const EvalContext& context, const ReaderJudge& reader,
                                    const std::vector<size_t>& entries, size_t limit) {
    std::vector<size_t> base;
    for (size_t e : entries)
        if (context.data.ds.modern_variant(e).empty() && reader.class_index.count(context.data.ds.modern_codepoint(e)))
            base.push_back(e);
    if (limit == 0 || base.size() <= limit) return base;
    std::vector<size_t> kept;
    for (size_t i = 0; i < limit; ++i) kept.push_back(base[i * base.size() / limit]);
    return kept;
}

json links_of(const EvalContext& context, StageModels& models, ReaderJudge& reader, const std::vector<size_t>& entries,
              at::Generator& gen) {
    const int64_t samples = context.samples;
    const bool with_sketch = static_cast<bool>(models.sketch.model);
    SketchSampleOptions sample_options;
    sample_options.temperature = context.config.generate.temperature;
    sample_options.max_len = context.config.generate.max_len;
    ScoreTally recon_tally, sketch_tally;
    const size_t chunk = size_t(std::max<int64_t>(1, 128 / samples));
    for (size_t start = 0; start < entries.size(); start += chunk) {
        std::vector<size_t> part(entries.begin() + long(start), entries.begin() + long(std::min(entries.size(), start + chunk)));
        torch::Tensor x = modern_images(context.data.ds, part, nullptr, 64, 64, context.device);  // (B,1,64,64)
        torch::Tensor recon = models.vae_new->decode(models.vae_new->encode(x).first);
        torch::Tensor recon_probs = torch::softmax(reader.trained.model->forward(recon), 1).to(torch::kCPU);
        torch::Tensor sketch_probs;
        std::vector<int64_t> first;
        if (with_sketch) {
            torch::Tensor z = models.sketch.encoder->encode(x).first.repeat_interleave(samples, 0);  // (B*N,z)
            const SketchSampleOptions traced = models.sketch.sample_options(
                sample_options.temperature, sample_options.max_len, x.repeat_interleave(samples, 0));  // the true raster
            SketchReads reads = read_sketches(context, models.sketch, reader, z, traced, gen, x);
            sketch_probs = reads.probs;
            first = first_ranked(reads.rendered, x, samples);  // against the true raster
        }
        for (size_t i = 0; i < part.size(); ++i) {
            const int64_t target = reader.class_index.at(context.data.ds.modern_codepoint(part[i]));
            recon_tally.add(score_samples(recon_probs.slice(0, int64_t(i), int64_t(i) + 1), target));
            if (with_sketch)
                sketch_tally.add(score_samples(
                    sketch_probs.slice(0, int64_t(i) * samples, (int64_t(i) + 1) * samples), target, first[i]));
        }
    }
    return {{"items", entries.size()},
            {"vae_new", recon_tally.to_json()},
            {"sketch_true_z", with_sketch ? sketch_tally.to_json() : json(nullptr)}};
}

}  // namespace

json link_accuracy(const EvalContext& context, StageModels& models, ReaderJudge& reader, uint64_t seed) {
    if (!reader.trained.model || !models.vae_new) return nullptr;
    torch::NoGradGuard no_grad;
    at::Generator gen = at::detail::createCPUGenerator(seed);
    const std::vector<size_t> split_chars = base_entries_of(context, reader, context.modern_items(), 0);
    const std::vector<size_t> train_chars = base_entries_of(context, reader, context.data.modern[0], split_chars.size());
    json out;
    out["split_chars"] = links_of(context, models, reader, split_chars, gen);
    out["train_chars"] = links_of(context, models, reader, train_chars, gen);
    auto fig = [&](const char* group, const char* link) {
        const json& t = out[group][link];
        return t.is_null() ? std::string("-") : fixed(t["per_sample"]["top1"].get<double>());
    };
    context.say("links: vae_new reconstructions top-1 " + fig("split_chars", "vae_new") + " (split chars), " +
                fig("train_chars", "vae_new") + " (training chars); Sketch-RNN fed the true z top-1 per sample " +
                fig("split_chars", "sketch_true_z") + " / " + fig("train_chars", "sketch_true_z"));
    return out;
}

}  // namespace k2k
