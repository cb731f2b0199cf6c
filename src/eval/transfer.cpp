// Transfer accuracy of `k2k eval`: items of the split, the reader's class check and clean accuracy,
// and the loop MDN draws -> pixels and stroke samples -> reader -> per-item scores.
#include "eval/transfer.h"


#include <algorithm>
#include <optional>
#include <set>
#include <string>

#include <torch/torch.h>

#include "data/pairing.h"
#include "data/raster.h"
#include "data/selection.h"
#include "data/strokes.h"
#include "generate/candidates.h"
#include "generate/ranking.h"
#include "run/batches.h"
#include "run/options.h"
#include "run/run_dir.h"
#include "util/error.h"

namespace k2k {

using nlohmann::json;

std::vector<TransferItem> transfer_items(const TrainingData& td, Split split) {
    std::set<uint32_t> base;
    for (size_t i = 0; i < td.ds.num_modern(); ++i)
        if (td.ds.modern_variant(i).empty()) base.insert(td.ds.modern_codepoint(i));
    std::vector<TransferItem> items;
    for (size_t old_index : td.old[int(split)]) {
        const uint32_t old_codepoint = td.ds.old_codepoint(old_index);
        const uint32_t modern_codepoint = paired_codepoint(old_codepoint, base);
        if (modern_codepoint) items.push_back({old_index, old_codepoint, modern_codepoint});
    }
    return items;
}

std::vector<TransferItem> spread_items(const std::vector<TransferItem>& items, int64_t limit) {
    if (limit <= 0 || int64_t(items.size()) <= limit) return items;
    std::vector<TransferItem> kept;
    for (int64_t i = 0; i < limit; ++i) kept.push_back(items[size_t(i * int64_t(items.size()) / limit)]);
    return kept;
}

std::vector<ItemRow> item_rows(const std::vector<TransferItem>& items) {
    std::vector<ItemRow> rows(items.size());
    for (size_t i = 0; i < items.size(); ++i) rows[i].item = items[i];
    return rows;
}

ReaderJudge load_reader_judge(const EvalContext& context) {
    ReaderJudge reader;
    if (!context.complete("reader")) {
        context.say("reader is not trained (k2k train --stage reader): transfer accuracy is skipped");
        return reader;
    }
    reader.trained = load_trained_reader(context.config, context.device);
    for (size_t i = 0; i < reader.trained.classes.size(); ++i) reader.class_index[reader.trained.classes[i]] = int64_t(i);
    reader.entries = reader_class_entries(context.data.ds);
    std::vector<uint32_t> cache_classes;
    for (size_t entry : reader.entries) cache_classes.push_back(context.data.ds.modern_codepoint(entry));
    if (cache_classes != reader.trained.classes)
        throw Error(stage_dir(context.config, "reader") + "/best.pt: its class list does not match the KanjiVG characters of " +
                    context.config.data.cache + "; retrain it (k2k train --stage reader)");
    return reader;
}

json reader_metrics(const EvalContext& context, ReaderJudge& reader) {
    if (!reader.trained.model) return nullptr;
    const ReaderAugmentOptions augment = reader_augment_options(context.config.reader);
    const ReaderAccuracy clean =
        reader_clean_accuracy(reader.trained.model, context.data.ds, reader.entries, augment, context.device);
    context.say("reader: clean held-out renders top-1 " + fixed(clean.top1) + ", top-5 " + fixed(clean.top5));
    // Renders it never saw: augmented like its training renders but from seeds of another stream
    // (training draws its seeds from the reader stage's rng), and the KanjiVG variant glyphs
    // (-Kaisho, -Jinmei, ...), which it never trained on: other glyphs of its characters.
    std::vector<int64_t> targets(reader.entries.size());
    std::vector<uint32_t> seeds(reader.entries.size());
    for (size_t k = 0; k < reader.entries.size(); ++k) {
        targets[k] = int64_t(k);
        seeds[k] = uint32_t(0x9E3779B9u * uint32_t(k + 1)) ^ 0x6b326b21u;  // fixed, not from the training stream
    }
    const ReaderAccuracy augmented =
        reader_accuracy(reader.trained.model, context.data.ds, reader.entries, targets, seeds, augment, context.device);
    std::vector<size_t> variants;
    std::vector<int64_t> variant_targets;
    for (size_t i = 0; i < context.data.ds.num_modern(); ++i) {
        if (context.data.ds.modern_variant(i).empty()) continue;
        auto found = reader.class_index.find(context.data.ds.modern_codepoint(i));
        if (found == reader.class_index.end()) continue;
        variants.push_back(i);
        variant_targets.push_back(found->second);
    }
    const ReaderAccuracy variant = reader_accuracy(reader.trained.model, context.data.ds, variants, variant_targets, {},
                                                   augment, context.device);
    context.say("reader: augmented held-out renders top-1 " + fixed(augmented.top1) + ", KanjiVG variant glyphs top-1 " +
                fixed(variant.top1) + " (" + std::to_string(variant.items) + ")");
    auto acc = [](const ReaderAccuracy& a) { return json{{"top1", a.top1}, {"top5", a.top5}, {"items", a.items}}; };
    json clean_json = acc(clean);
    clean_json["line_width"] = augment.heldout_line_width;
    return {{"classes", reader.trained.classes.size()},
            {"clean", clean_json},
            {"augmented", acc(augmented)},
            {"variants", acc(variant)}};
}

namespace {

// What the reader made of one chunk of B items with N draws each; row i*N + k is item i, draw k.
struct ChunkReads {
    torch::Tensor pixels;          // (B*N,1,64,64) vae_new.decode(z~)
    torch::Tensor pixel_probs;     // (B*N,C) reader's class probabilities, on the CPU
    torch::Tensor stroke_probs;    // (B*N,C) the same for the stroke samples; undefined without them
    std::vector<Image> renders;    // B*N rendered stroke samples (empty without them)
    std::vector<int64_t> first;    // B: each item's first-ranked stroke sample (sample_agreement with its mean pixels)
};

// Items [start, end): the N MDN draws of every item (N draws of the whole chunk, one after the
// other), then one Sketch-RNN sample per z~ (with_strokes), all from `gen` in that order.
ChunkReads read_chunk(const EvalContext& context, StageModels& models, ReaderJudge& reader,
                      const std::vector<TransferItem>& items, size_t start, size_t end,
                      const SketchSampleOptions& sample_options, bool with_strokes, const CandidateSet* candidates,
                      at::Generator& gen) {
    const int64_t samples = context.samples, batch = int64_t(end - start);
    std::vector<size_t> old_indices;
    for (size_t k = start; k < end; ++k) old_indices.push_back(items[k].old_index);
    torch::Tensor x = old_images(context.data.ds, old_indices, nullptr, 64, 64, context.device);  // (B,1,64,64)
    MdnOutput mixture = models.mdn.forward(x);
    // Rows i*N + k: item i, draw k. z is decoded into the pixels, z_sketch and ink condition the strokes.
    torch::Tensor z, z_sketch, ink;
    ChunkReads reads;
    if (candidates) {  // generate.condition "candidates" (generate/predict.h)
        const torch::Tensor picks = candidate_picks(candidate_log_likelihood(mixture, candidates->latents), samples,
                                                    context.config.generate.condition_top);
        CandidateConditioning c = candidate_conditioning(*candidates, picks, &models.sketch.encoder, context.device);
        z = c.z_pixels;
        z_sketch = c.z_sketch;
        reads.pixels = models.vae_new->decode(z);
        ink = c.ink;
    } else {
        std::vector<torch::Tensor> draws;  // N of (B,z)
        for (int64_t k = 0; k < samples; ++k)
            draws.push_back(
                mdn_sample(mixture, context.config.generate.mdn_temperature, gen, context.config.generate.mdn_mode));
        z = z_sketch = torch::stack(draws, 1).reshape({batch * samples, -1});  // (B*N,z)
        reads.pixels = ink = models.vae_new->decode(z);
    }
    reads.pixel_probs = torch::softmax(reader.trained.model->forward(reads.pixels), 1).to(torch::kCPU);
    if (with_strokes) {
        const SketchSampleOptions traced = models.sketch.sample_options(sample_options.temperature, sample_options.max_len, ink);
        // Ranked against the mean ink they trace: the mean predicted pixels, or the candidate's raster.
        const torch::Tensor target = ink.view({batch, samples, 1, 64, 64}).mean(1);
        SketchReads sketch_reads = read_sketches(context, models.sketch, reader, z_sketch, traced, gen, target);
        reads.renders = std::move(sketch_reads.renders);
        reads.stroke_probs = sketch_reads.probs;
        reads.first = first_ranked(sketch_reads.rendered, target, samples);
    }
    return reads;
}

}  // namespace

std::vector<int64_t> first_ranked(const torch::Tensor& renders, const torch::Tensor& pixels, int64_t samples) {
    std::vector<int64_t> first;
    for (int64_t i = 0; i * samples < renders.size(0); ++i) {
        torch::Tensor own = renders.slice(0, i * samples, (i + 1) * samples);
        torch::Tensor target = pixels.size(0) == renders.size(0) ? pixels.slice(0, i * samples, (i + 1) * samples)
                                                                : pixels.slice(0, i, i + 1);
        first.push_back(agreement_order(sample_agreement(own, target))[0]);
    }
    return first;
}

SketchReads read_sketches(const EvalContext& context, TrainedSketch& sketch, ReaderJudge& reader,
                          const torch::Tensor& z, const SketchSampleOptions& options, at::Generator& gen,
                          const torch::Tensor& targets) {
    SketchReads reads;
    const int64_t pool = targets.defined() ? context.config.generate.stroke_pool : 1;
    SketchSampleOptions pooled = options;
    if (pool > 1 && options.ink.defined()) pooled.ink = options.ink.repeat_interleave(pool, 0);
    std::vector<Stroke3> sketches = sketch.model->sample(pool > 1 ? z.repeat_interleave(pool, 0) : z, pooled, gen);
    for (Stroke3& s : sketches) {
        scale_stroke3(s, 1.0f / sketch.scale);  // back to KanjiVG units
        reads.renders.push_back(render_strokes(stroke3_to_strokes(s), context.data.ds.meta.raster));
    }
    reads.rendered = images_to_tensor(reads.renders, context.device);  // (B*P,1,S,S)
    if (pool > 1) {  // keep each item's N best of its N*P draws
        const int64_t samples = context.samples;
        const std::vector<int64_t> rows = best_rows(reads.rendered, targets, samples * pool, samples);
        std::vector<Image> kept;
        for (int64_t r : rows) kept.push_back(std::move(reads.renders[size_t(r)]));
        reads.renders = std::move(kept);
        reads.rendered = reads.rendered.index_select(0, torch::tensor(rows, torch::kInt64).to(reads.rendered.device()));
    }
    reads.probs = torch::softmax(reader.trained.model->forward(reads.rendered), 1).to(torch::kCPU);
    return reads;
}

namespace {

// Item `item` of a chunk: its N rows of probs (B*N,C) scored against `target` (-1: a class the
// reader does not know); reads gets the reader's top-1 code point of each sample, vote the voted one.
void score_item(const torch::Tensor& probs, int64_t item, int64_t samples, int64_t target,
                const std::vector<uint32_t>& classes, SampleScores& scores, std::vector<uint32_t>& reads,
                uint32_t& vote, int64_t first = -1) {
    torch::Tensor item_probs = probs.slice(0, item * samples, (item + 1) * samples);  // (N,C)
    scores = score_samples(item_probs, target, first);
    torch::Tensor top = item_probs.argmax(1);  // (N,)
    for (int64_t k = 0; k < samples; ++k) reads.push_back(classes[size_t(top[k].item<int64_t>())]);
    vote = classes[size_t(scores.vote)];
}

}  // namespace

json transfer_accuracy(const EvalContext& context, StageModels& models, ReaderJudge& reader,
                       const std::vector<TransferItem>& items, uint64_t seed, bool keep_images,
                       std::vector<ItemRow>& rows) {
    const bool with_pixels = reader.trained.model && models.mdn && models.vae_new && models.vae_old && !items.empty();
    if (!with_pixels) return nullptr;
    const bool with_strokes = static_cast<bool>(models.sketch.model);
    ScoreTally pixel_tally, stroke_tally;
    // Like for like with the baselines: the reader's probabilities kept on the run's characters
    // only (the KanjiVG counterparts of the run's Kuzushiji classes), the others zeroed.
    ScoreTally pixel_run_tally, stroke_run_tally;
    torch::Tensor run_mask = torch::zeros({int64_t(reader.trained.classes.size())}, torch::kFloat32);
    for (const auto& kv : context.data.old_to_modern) {
        auto found = reader.class_index.find(context.data.ds.modern_codepoint(kv.second));
        if (found != reader.class_index.end()) run_mask[found->second] = 1.0f;
    }
    const int64_t run_classes = run_mask.sum().item<int64_t>();
    torch::NoGradGuard no_grad;
    at::Generator gen = at::detail::createCPUGenerator(seed);
    SketchSampleOptions sample_options;
    sample_options.temperature = context.config.generate.temperature;
    sample_options.max_len = context.config.generate.max_len;
    const int64_t samples = context.samples;
    const size_t chunk = size_t(std::max<int64_t>(1, 128 / samples));  // about 128 predictions per forward pass
    std::optional<CandidateSet> candidates;
    if (context.config.generate.condition == "candidates")
        candidates = make_candidate_set(models.vae_new, context.data.ds, context.device);
    for (size_t start = 0; start < items.size(); start += chunk) {
        const size_t end = std::min(items.size(), start + chunk);
        const int64_t batch = int64_t(end - start);
        ChunkReads reads = read_chunk(context, models, reader, items, start, end, sample_options, with_strokes,
                                      candidates ? &*candidates : nullptr, gen);
        std::vector<Image> means;  // B mean decoded images
        if (keep_images) means = tensor_to_images(reads.pixels.view({batch, samples, 1, 64, 64}).mean(1));
        for (int64_t i = 0; i < batch; ++i) {
            ItemRow& row = rows[start + size_t(i)];
            auto found = reader.class_index.find(row.item.modern_codepoint);
            const int64_t target = found == reader.class_index.end() ? -1 : found->second;
            score_item(reads.pixel_probs, i, samples, target, reader.trained.classes, row.pixels, row.pixel_reads,
                       row.pixel_vote);
            row.has_pixels = true;
            pixel_tally.add(row.pixels);
            const torch::Tensor rows_i = torch::arange(i * samples, (i + 1) * samples);
            pixel_run_tally.add(score_samples(reads.pixel_probs.index_select(0, rows_i) * run_mask, target));
            row.score = row.pixels.target_prob;
            if (with_strokes) {
                score_item(reads.stroke_probs, i, samples, target, reader.trained.classes, row.strokes,
                           row.stroke_reads, row.stroke_vote, reads.first[size_t(i)]);
                row.has_strokes = true;
                stroke_tally.add(row.strokes);
                stroke_run_tally.add(
                    score_samples(reads.stroke_probs.index_select(0, rows_i) * run_mask, target, reads.first[size_t(i)]));
                row.score = 0.5 * (row.pixels.target_prob + row.strokes.target_prob);
            }
            if (keep_images) {
                row.input = context.data.ds.old_image_copy(row.item.old_index);
                row.modern = means[size_t(i)];
                for (int64_t k = 0; k < samples && with_strokes; ++k) row.samples.push_back(reads.renders[size_t(i * samples + k)]);
            }
        }
        if (end == items.size() || (start / chunk) % 10 == 9)
            context.say("transfer: " + std::to_string(end) + "/" + std::to_string(items.size()) + " items read");
    }
    json transfer = {{"items", items.size()}, {"pixels", pixel_tally.to_json()}};
    transfer["strokes"] = with_strokes ? stroke_tally.to_json() : json(nullptr);
    transfer["run_classes"] = {{"classes", run_classes},
                               {"pixels", pixel_run_tally.to_json()},
                               {"strokes", with_strokes ? stroke_run_tally.to_json() : json(nullptr)}};
    return transfer;
}

json candidate_accuracy(const EvalContext& context, StageModels& models, const std::vector<TransferItem>& items) {
    if (!(models.mdn && models.vae_new && models.vae_old) || items.empty()) return nullptr;
    torch::NoGradGuard no_grad;
    const CandidateSet set = make_candidate_set(models.vae_new, context.data.ds, context.device);
    std::map<uint32_t, int64_t> index;
    for (size_t c = 0; c < set.codepoints.size(); ++c) index[set.codepoints[c]] = int64_t(c);
    const std::vector<double> grid = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};
    const double temperature = context.config.generate.candidate_temperature;
    std::vector<double> grid_nll(grid.size(), 0.0);
    double top1 = 0, top5 = 0, nll = 0;
    int64_t counted = 0;
    const size_t chunk = 64;
    for (size_t start = 0; start < items.size(); start += chunk) {
        const size_t end = std::min(items.size(), start + chunk);
        std::vector<size_t> old_indices;
        std::vector<int64_t> targets;
        for (size_t k = start; k < end; ++k) {
            auto found = index.find(items[k].modern_codepoint);
            if (found == index.end()) continue;  // a character the cache does not hold: never right
            old_indices.push_back(items[k].old_index);
            targets.push_back(found->second);
        }
        if (old_indices.empty()) continue;
        torch::Tensor x = old_images(context.data.ds, old_indices, nullptr, 64, 64, context.device);  // (B,1,64,64)
        torch::Tensor ll = candidate_log_likelihood(models.mdn.forward(x), set.latents)
                               .to(torch::kCPU, torch::kFloat64);  // (B,C)
        torch::Tensor target = torch::tensor(targets, torch::kInt64);
        top1 += topk_hits(ll, target, 1).sum().item<double>();
        top5 += topk_hits(ll, target, 5).sum().item<double>();
        auto true_nll = [&](double t) {
            return -torch::log_softmax(ll / t, 1).gather(1, target.unsqueeze(1)).sum().item<double>();
        };
        nll += true_nll(temperature);
        for (size_t g = 0; g < grid.size(); ++g) grid_nll[g] += true_nll(grid[g]);
        counted += int64_t(targets.size());
    }
    const double n = double(std::max<int64_t>(1, int64_t(items.size())));
    size_t best = 0;
    for (size_t g = 1; g < grid.size(); ++g)
        if (grid_nll[g] < grid_nll[best]) best = g;
    const double per = double(std::max<int64_t>(1, counted));
    context.say("candidates: top-1 " + fixed(top1 / n) + ", top-5 " + fixed(top5 / n) + " over " +
                std::to_string(items.size()) + " items and " + std::to_string(set.codepoints.size()) + " characters");
    return {{"items", items.size()},        {"classes", set.codepoints.size()},
            {"top1", top1 / n},             {"top5", top5 / n},
            {"temperature", temperature},   {"nll", nll / per},
            {"best_temperature", grid[best]}, {"best_nll", grid_nll[best] / per}};
}

}  // namespace k2k
