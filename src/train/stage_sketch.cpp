// Stage 3: the conditional Sketch-RNN on KanjiVG strokes (paper Algorithm 1, step 3). Each sketch is
// conditioned on z_new from the modern VAE's encoder (fine-tuned through the stroke loss, with the
// free-bits KL term) or, for characters also in Kuzushiji-Kanji, on z~_new sampled from the MDN
// given z_old of one of that character's Kuzushiji images.
#include <cstdio>
#include <map>

#include <torch/torch.h>

#include "run/checkpoint.h"
#include "train/stage_common.h"
#include "train/data_parallel.h"
#include "train/stage_runner.h"
#include "run/batches.h"
#include "run/loaders.h"
#include "run/options.h"
#include "run/run_dir.h"
#include "runtime/runtime.h"
#include "data/selection.h"
#include "data/sketch_set.h"
#include "data/stroke_norm.h"
#include "util/error.h"

namespace k2k {

void train_sketch(const Config& cfg, TrainingData& td, torch::Device device, bool resume, DataParallel& dp) {
    const SketchConfig& sc = cfg.sketch;
    size_t skipped = 0;
    SketchSet train = build_sketches(td.ds, td.modern[0], sc, &skipped);
    SketchSet val_own = build_sketches(td.ds, td.modern[1], sc, &skipped);
    if (train.sketches.empty()) throw Error("sketch: no KanjiVG training sketch fits sketch.max_seq_len = " + std::to_string(sc.max_seq_len));
    if (val_own.sketches.empty()) std::printf("[sketch] warning: no validation sketches; validating on the training sketches\n");
    const SketchSet& val = val_own.sketches.empty() ? train : val_own;
    const float scale = model_stroke_scale(sc.normalization, stroke3_delta_std(train.sketches));
    std::printf("[sketch] %zu training / %zu validation sketches (%zu longer than %lld rows skipped); %s scale %.4f\n",
                train.sketches.size(), val.sketches.size(), skipped, (long long)sc.max_seq_len,
                sc.normalization == "unit_bbox" ? "unit-bbox" : "delta std", scale);

    const int max_len = int(sc.max_seq_len);
    const StartToken start = sketch_start_token(sc);
    StrokeAugmentOptions aug;
    aug.scale = float(sc.augment_scale);
    aug.drop_prob = float(sc.augment_drop);
    // Canvas decoders trace a render of each (augmented) training sketch with the dataset's rasters.
    const RasterOptions* canvas = sc.canvas_hidden > 0 ? &td.ds.meta.raster : nullptr;

    // Frozen models for z~_new: the MDN's z_old of every paired Kuzushiji training image (vae_old's
    // mean, or the MDN's own encoder), grouped by the modern entry of its character.
    TrainedMdn mdn = load_trained_mdn(cfg, device);
    std::map<size_t, std::vector<int64_t>> old_rows;  // modern entry -> rows of z_old_mu
    torch::Tensor z_old_mu;
    {
        torch::NoGradGuard no_grad;
        std::vector<size_t> olds;
        for (const auto& p : td.pairs[0]) {
            old_rows[p.second].push_back(int64_t(olds.size()));
            olds.push_back(p.first);
        }
        std::vector<torch::Tensor> parts;
        for (size_t s = 0; s < olds.size(); s += 256) {
            std::vector<size_t> part(olds.begin() + long(s), olds.begin() + long(std::min(olds.size(), s + 256)));
            parts.push_back(mdn.z_old(old_images(td.ds, part, nullptr, 64, 64, device)));
        }
        if (!parts.empty()) z_old_mu = torch::cat(parts);
    }

    const uint64_t seed = stage_seed(cfg, "sketch");
    torch::manual_seed(seed);
    ConvVae encoder = load_trained_vae(cfg, "vae_new", device);
    SketchRnn model(sketch_options(cfg));
    model->to(device);
    std::vector<torch::Tensor> params = model->parameters();
    if (sc.finetune_encoder)
        for (const torch::Tensor& p : encoder->parameters()) params.push_back(p);
    torch::optim::Adam opt(params, torch::optim::AdamOptions(sc.lr));
    std::mt19937 rng{uint32_t(seed)};
    at::Generator gen = at::detail::createCPUGenerator(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);

    StageLoopOptions lo = stage_loop_options(cfg, "sketch", sc.steps, sc.eval_every, resume, dp);
    lo.terms = {"loss", "ls", "lp", "kl"};
    lo.extras = {"kl_weight", "lr", "grad_norm", "mdn_share"};

    StageHooks hooks;
    hooks.train_step = [&](int64_t step) {
        model->train();
        encoder->train(sc.finetune_encoder);
        const double lr = learning_rate(step, sc.lr, sc.lr_decay, sc.min_lr);
        for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
        const double w = kl_weight(step, sc.kl_weight_start, sc.kl_weight, sc.kl_decay);

        // Encoder-conditioned sketches first, MDN-conditioned ones after, so z is one cat.
        // Every worker draws the whole batch and its conditioning (row -1: the encoder), then
        // keeps its shard, so the shared stream stays in step.
        std::vector<size_t> pick = draw_indices(train.sketches.size(), size_t(sc.batch_size), rng);
        std::vector<int64_t> conditioning;
        for (size_t k : pick) {
            auto it = old_rows.find(train.modern[k]);
            const bool mdn_draw = it != old_rows.end() && sc.mdn_fraction > 0 && unit(rng) < sc.mdn_fraction;
            conditioning.push_back(mdn_draw ? it->second[rng() % it->second.size()] : -1);
        }
        pick = dp.shard(pick, "sketch");
        conditioning = dp.shard(conditioning, "sketch");
        StepStreams streams = dp.step_streams(seed, step, rng, &gen);
        std::vector<size_t> enc, via_mdn;
        std::vector<int64_t> mdn_rows;
        for (size_t i = 0; i < pick.size(); ++i) {
            if (conditioning[i] >= 0) {
                via_mdn.push_back(pick[i]);
                mdn_rows.push_back(conditioning[i]);
            } else {
                enc.push_back(pick[i]);
            }
        }
        std::vector<const Stroke3*> order;
        for (size_t k : enc) order.push_back(&train.sketches[k]);
        for (size_t k : via_mdn) order.push_back(&train.sketches[k]);
        std::vector<Stroke3> shifted;  // unit_bbox's random first-point shift, drawn from the step's augment stream
        if (sc.normalization == "unit_bbox" && sc.first_point_shift > 0) {
            shifted.reserve(order.size());
            for (const Stroke3* s3 : order) {
                shifted.push_back(*s3);
                shift_first_point(shifted.back(), float(sc.first_point_shift) * scale, *streams.augment);
            }
            for (size_t k = 0; k < order.size(); ++k) order[k] = &shifted[k];
        }
        SketchBatch batch = sketch_batch(order, scale, max_len, start, &aug, streams.augment, canvas, device);
        if (sc.trim_padding) batch = trim_sketch_batch(batch);
        const torch::Tensor& strokes = batch.strokes;  // (B, T+1, 5), T <= max_len

        std::vector<torch::Tensor> zs;
        torch::Tensor kl = torch::zeros({}, torch::TensorOptions().device(device));
        if (!enc.empty()) {
            std::vector<size_t> modern;
            for (size_t k : enc) modern.push_back(train.modern[k]);
            torch::Tensor x = modern_images(td.ds, modern, nullptr, 64, 64, device);
            torch::Tensor mu, logvar;
            if (sc.finetune_encoder) {
                std::tie(mu, logvar) = encoder->encode(x);
            } else {
                torch::NoGradGuard no_grad;
                std::tie(mu, logvar) = encoder->encode(x);
            }
            zs.push_back(encoder->sample_z(mu, logvar, streams.noise));
            if (sc.finetune_encoder) kl = kl_term(mu, logvar, sc.kl_tolerance);
        }
        if (!via_mdn.empty()) {
            torch::NoGradGuard no_grad;
            torch::Tensor rows = torch::tensor(mdn_rows, torch::kInt64).to(device);
            zs.push_back(mdn_sample(mdn.mdn->forward(z_old_mu.index_select(0, rows)), sc.mdn_temperature, streams.noise, true));
        }
        torch::Tensor z = torch::cat(zs);
        ReconstructionLoss rec = model->reconstruction(strokes, z, batch.canvas);
        if (sc.trim_padding) rec = rescale_trimmed(rec, strokes.size(1) - 1, max_len);
        torch::Tensor loss = rec.lr + w * kl;
        opt.zero_grad();
        loss.backward();
        double norm = clip_and_step(dp, params, opt, sc.grad_clip, sc.grad_clip_mode == "value");
        return std::vector<double>{loss.item<double>(), rec.ls.item<double>(), rec.lp.item<double>(), kl.item<double>(),
                                   w, lr, norm, double(via_mdn.size()) / double(pick.size())};
    };
    hooks.evaluate = [&]() {
        model->eval();
        encoder->eval();
        torch::NoGradGuard no_grad;
        std::vector<size_t> all(val.sketches.size());
        for (size_t i = 0; i < all.size(); ++i) all[i] = i;
        std::vector<double> sum(4, 0.0);
        double n = 0;
        for (const std::vector<size_t>& idx : eval_batches(all, size_t(sc.batch_size), size_t(sc.eval_batches))) {
            std::vector<const Stroke3*> order;
            std::vector<size_t> modern;
            for (size_t k : idx) {
                order.push_back(&val.sketches[k]);
                modern.push_back(val.modern[k]);
            }
            const SketchBatch batch = sketch_batch(order, scale, max_len, start, nullptr, nullptr, canvas, device);
            auto [mu, logvar] = encoder->encode(modern_images(td.ds, modern, nullptr, 64, 64, device));
            ReconstructionLoss rec = model->reconstruction(batch.strokes, mu, batch.canvas);
            double kl = kl_term(mu, logvar, sc.kl_tolerance).item<double>();
            double b = double(idx.size());
            sum[0] += b * rec.lr.item<double>();  // validation loss: Lr of the deterministic z = mu
            sum[1] += b * rec.ls.item<double>();
            sum[2] += b * rec.lp.item<double>();
            sum[3] += b * kl;
            n += b;
        }
        for (double& s : sum) s /= n;
        return sum;
    };
    hooks.save = [&](torch::serialize::OutputArchive& a) {
        archive_write_module(a, "model", *model);
        archive_write_module(a, "encoder", *encoder);
        archive_write_optimizer(a, "optimizer", opt);
        archive_write_double(a, "scale", scale);
        if (canvas) {
            archive_write_double(a, "raster_size", canvas->size);
            archive_write_double(a, "raster_margin", canvas->margin);
            archive_write_double(a, "raster_canvas", canvas->canvas);
            archive_write_double(a, "raster_line_width", canvas->line_width);
        }
        archive_write_rng(a, "rng", rng);
        archive_write_generator(a, "gen", gen);
        at::Generator global = at::detail::getDefaultCPUGenerator();  // recurrent dropout masks
        archive_write_generator(a, "global_gen", global);
    };
    hooks.load = [&](torch::serialize::InputArchive& a) {
        archive_read_module(a, "model", *model);
        archive_read_module(a, "encoder", *encoder);
        archive_read_optimizer(a, "optimizer", opt);
        archive_read_rng(a, "rng", rng);
        archive_read_generator(a, "gen", gen);
        at::Generator global = at::detail::getDefaultCPUGenerator();
        archive_read_generator(a, "global_gen", global);
    };
    hooks.tensors = [&]() { return module_tensors({model.get(), encoder.get()}); };
    run_stage_loop(lo, hooks);
}

}  // namespace k2k
