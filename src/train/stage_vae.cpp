// Stage 1: a conv VAE per domain — vae_new on KanjiVG rasters, vae_old on Kuzushiji-Kanji images
// (kanji2kanji: Adam 1e-3, batch 50, random resize to 48-64 px and random placement).
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

namespace k2k {

void train_vae(const Config& cfg, const std::string& stage, TrainingData& td, torch::Device device, bool resume,
               DataParallel& dp) {
    const bool modern = stage == "vae_new";
    const VaeConfig& vc = modern ? cfg.vae_new : cfg.vae_old;
    const std::vector<size_t>& train = modern ? td.modern[0] : td.old[0];
    const std::vector<size_t>& val = pick_val(modern ? td.modern[1] : td.old[1], train, stage);
    require_items(train, stage, modern ? "KanjiVG characters" : "Kuzushiji-Kanji images");

    const uint64_t seed = stage_seed(cfg, stage);
    torch::manual_seed(seed);
    ConvVae model(vae_options(vc));
    model->to(device);
    torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(vc.lr));
    std::mt19937 rng{uint32_t(seed)};
    at::Generator gen = at::detail::createCPUGenerator(seed);

    auto batch = [&](const std::vector<size_t>& idx, std::mt19937* aug) {
        int lo = int(vc.augment_min_size), hi = int(vc.augment_max_size);
        return modern ? modern_images(td.ds, idx, aug, lo, hi, device) : old_images(td.ds, idx, aug, lo, hi, device);
    };

    StageLoopOptions lo = stage_loop_options(cfg, stage, vc.steps, vc.eval_every, resume, dp);
    lo.terms = {"loss", "recon", "kl", "kl_raw"};
    lo.extras = {"lr", "grad_norm"};

    StageHooks hooks;
    hooks.train_step = [&](int64_t step) {
        model->train();
        std::vector<size_t> pick = dp.shard(draw_indices(train.size(), size_t(vc.batch_size), rng), stage);
        for (size_t& p : pick) p = train[p];
        StepStreams streams = dp.step_streams(seed, step, rng, &gen);
        torch::Tensor x = batch(pick, vc.augment ? streams.augment : nullptr);  // (B/N,1,64,64)
        ConvVaeOutput out = model->forward(x, streams.noise);
        ConvVaeLoss loss = model->loss(out, x);
        opt.zero_grad();
        loss.total.backward();
        double norm = clip_and_step(dp, model->parameters(), opt, vc.grad_clip);
        return std::vector<double>{loss.total.item<double>(), loss.recon.item<double>(), loss.kl.item<double>(),
                                   loss.kl_raw.item<double>(), vc.lr, norm};
    };
    hooks.evaluate = [&]() {
        model->eval();
        torch::NoGradGuard no_grad;
        at::Generator eval_gen = at::detail::createCPUGenerator(seed + 1);  // same noise every pass
        std::vector<double> sum(4, 0.0);
        int64_t n = 0;
        for (const std::vector<size_t>& idx : eval_batches(val, size_t(vc.batch_size), size_t(vc.eval_batches))) {
            torch::Tensor x = batch(idx, nullptr);
            ConvVaeLoss loss = model->loss(model->forward(x, eval_gen), x);
            double w = double(idx.size());
            sum[0] += w * loss.total.item<double>();
            sum[1] += w * loss.recon.item<double>();
            sum[2] += w * loss.kl.item<double>();
            sum[3] += w * loss.kl_raw.item<double>();
            n += int64_t(idx.size());
        }
        for (double& s : sum) s /= double(n);
        return sum;
    };
    set_checkpoint_hooks(hooks, *model, opt, rng, gen);
    run_stage_loop(lo, hooks);
}

}  // namespace k2k
