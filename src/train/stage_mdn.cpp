// Stage 2: the MDN P(z_new | z_old) on characters present in both sets (paper Algorithm 1, step 2):
// each Kuzushiji training image is encoded by vae_old, its character's KanjiVG raster by vae_new.
#include <cstdio>
#include <map>
#include <optional>

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
#include "util/error.h"

namespace k2k {

namespace {

// Encodes images in batches with a frozen VAE; returns {mu, logvar}, each (N, z).
std::pair<torch::Tensor, torch::Tensor> encode_all(ConvVae& vae, const Dataset& ds, const std::vector<size_t>& idx,
                                                   bool modern, torch::Device device) {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> mus, logvars;
    const size_t chunk = 256;
    for (size_t s = 0; s < idx.size(); s += chunk) {
        std::vector<size_t> part(idx.begin() + long(s), idx.begin() + long(std::min(idx.size(), s + chunk)));
        torch::Tensor x = modern ? modern_images(ds, part, nullptr, 64, 64, device) : old_images(ds, part, nullptr, 64, 64, device);
        auto [mu, logvar] = vae->encode(x);
        mus.push_back(mu);
        logvars.push_back(logvar);
    }
    return {torch::cat(mus), torch::cat(logvars)};
}

// The latent pairs of one split: z_old of every old image, z_new of its character's raster.
struct LatentPairs {
    torch::Tensor old_mu, old_logvar, new_mu, new_logvar;  // each (N, z); old_* undefined without with_old
    int64_t size() const { return new_mu.defined() ? new_mu.size(0) : 0; }
};

// with_old false: only z_new (the stage encodes the Kuzushiji images itself every step).
LatentPairs encode_pairs(ConvVae& vae_old, ConvVae& vae_new, const TrainingData& td,
                         const std::vector<std::pair<size_t, size_t>>& pairs, bool with_old, torch::Device device) {
    LatentPairs lp;
    if (pairs.empty()) return lp;
    std::vector<size_t> olds, news;
    for (const auto& p : pairs) {
        olds.push_back(p.first);
        news.push_back(p.second);
    }
    if (with_old) std::tie(lp.old_mu, lp.old_logvar) = encode_all(vae_old, td.ds, olds, false, device);
    std::tie(lp.new_mu, lp.new_logvar) = encode_all(vae_new, td.ds, news, true, device);
    return lp;
}

}  // namespace

void train_mdn(const Config& cfg, TrainingData& td, torch::Device device, bool resume, DataParallel& dp) {
    const MdnConfig& mc = cfg.mdn;
    if (td.pairs[0].empty())
        throw Error("mdn: no Kuzushiji-Kanji training image has a KanjiVG counterpart in the selected data "
                    "(check data.max_old_classes / data.max_modern_chars)");
    const bool finetune = mc.encoder == "finetune";
    const bool from_images = finetune || mc.augment;  // z_old encoded every step from (augmented) images
    ConvVae vae_old = load_trained_vae(cfg, "vae_old", device);
    ConvVae vae_new = load_trained_vae(cfg, "vae_new", device);
    const std::vector<std::pair<size_t, size_t>>& train_pairs = td.pairs[0];
    const std::vector<std::pair<size_t, size_t>>& val_pairs = td.pairs[1].empty() ? td.pairs[0] : td.pairs[1];
    // Fixed z_old only where they are read: training from fixed latents, validation of a frozen encoder.
    LatentPairs train = encode_pairs(vae_old, vae_new, td, train_pairs, !from_images || (!finetune && td.pairs[1].empty()), device);
    LatentPairs val = td.pairs[1].empty() ? train : encode_pairs(vae_old, vae_new, td, val_pairs, !finetune, device);
    if (td.pairs[1].empty()) std::printf("[mdn] warning: no validation pairs; validating on the training pairs\n");
    // The contrastive term's candidates: every KanjiVG base character's vae_new mean (as the
    // candidate list of generate/candidates.h), and each training pair's row among them.
    torch::Tensor candidates;
    std::vector<int64_t> pair_candidate;
    if (mc.contrastive > 0) {
        const std::vector<size_t> entries = reader_class_entries(td.ds);
        std::map<size_t, int64_t> row_of;
        for (size_t k = 0; k < entries.size(); ++k) row_of[entries[k]] = int64_t(k);
        candidates = encode_all(vae_new, td.ds, entries, true, device).first;  // (C,z)
        for (const auto& p : train_pairs) pair_candidate.push_back(row_of.at(p.second));
    }
    std::printf("[mdn] %lld training pairs, %lld validation pairs; z_old from %s%s\n", (long long)train.size(),
                (long long)val.size(), finetune ? "vae_old's encoder trained with the MDN" : "the frozen vae_old",
                mc.augment ? " on augmented images" : "");

    const uint64_t seed = stage_seed(cfg, "mdn");
    torch::manual_seed(seed);
    Mdn model(mdn_options(cfg));
    model->to(device);
    // finetune: the checkpoint's "model" holds both modules (MdnWithEncoder, read by load_trained_mdn).
    MdnWithEncoder both(model, vae_old);
    torch::nn::Module& saved = finetune ? static_cast<torch::nn::Module&>(both) : static_cast<torch::nn::Module&>(*model);
    std::vector<torch::Tensor> params = finetune ? both.parameters() : model->parameters();
    for (torch::Tensor& p : vae_old->parameters()) p.set_requires_grad(finetune);
    torch::optim::Adam opt(params, torch::optim::AdamOptions(mc.lr));
    std::mt19937 rng{uint32_t(seed)};
    at::Generator gen = at::detail::createCPUGenerator(seed);

    StepStreams streams;  // this step's augmentation and noise (the stage's own with one worker)
    auto noisy = [&](const torch::Tensor& mu, const torch::Tensor& logvar, bool sample) {
        if (!sample) return mu;
        torch::Tensor eps = torch::randn(mu.sizes(), streams.noise, torch::kFloat32).to(mu.device());
        return mu + torch::exp(0.5 * logvar) * eps;
    };
    // z_old of the Kuzushiji images of `pairs` [picked], augmented when `aug` is given.
    auto encode_images = [&](const std::vector<std::pair<size_t, size_t>>& pairs, const std::vector<size_t>& picked,
                             std::mt19937* aug) {
        std::vector<size_t> olds;
        for (size_t p : picked) olds.push_back(pairs[p].first);
        torch::Tensor x = old_images(td.ds, olds, aug, int(cfg.vae_old.augment_min_size),
                                     int(cfg.vae_old.augment_max_size), device);
        return vae_old->encode(x);
    };

    StageLoopOptions lo = stage_loop_options(cfg, "mdn", mc.steps, mc.eval_every, resume, dp);
    lo.terms = {"nll"};
    lo.extras = {"lr", "grad_norm", "ce"};  // ce: the contrastive term (0 when off)

    StageHooks hooks;
    hooks.train_step = [&](int64_t step) {
        model->train();
        std::vector<size_t> pick = dp.shard(draw_indices(size_t(train.size()), size_t(mc.batch_size), rng), "mdn");
        streams = dp.step_streams(seed, step, rng, &gen);
        std::vector<int64_t> pick64(pick.begin(), pick.end());
        torch::Tensor idx = torch::tensor(pick64, torch::kInt64).to(device);
        torch::Tensor z_old;
        if (from_images) {
            if (finetune) vae_old->train();
            std::optional<torch::NoGradGuard> frozen;
            if (!finetune) frozen.emplace();
            auto [mu, logvar] = encode_images(train_pairs, pick, mc.augment ? streams.augment : nullptr);
            z_old = noisy(mu, logvar, mc.sample_z_old);
        } else {
            z_old = noisy(train.old_mu.index_select(0, idx), train.old_logvar.index_select(0, idx), mc.sample_z_old);
        }
        torch::Tensor z_new = noisy(train.new_mu.index_select(0, idx), train.new_logvar.index_select(0, idx), mc.sample_z_new);
        const MdnOutput mixture = model->forward(z_old);
        torch::Tensor nll = mdn_nll(mixture, z_new);
        torch::Tensor loss = nll;
        double ce_value = 0;
        if (mc.contrastive > 0) {
            // Column 0: the right character; then `negatives` others drawn at random (a draw of
            // the right one is masked out).
            const int64_t c = candidates.size(0), b = int64_t(pick.size());
            std::vector<int64_t> negatives, own;
            for (int64_t k = 0; k < mc.negatives; ++k) negatives.push_back(int64_t(rng() % uint64_t(c)));
            for (size_t p : pick) own.push_back(pair_candidate[p]);
            torch::Tensor neg = torch::tensor(negatives, torch::kInt64).to(device);
            torch::Tensor own_t = torch::tensor(own, torch::kInt64).to(device);
            torch::Tensor ll_own = mdn_log_prob(mixture, candidates.index_select(0, own_t)).unsqueeze(1);  // (B,1)
            torch::Tensor ll_neg = mdn_log_prob_matrix(mixture, candidates.index_select(0, neg));          // (B,N)
            ll_neg = ll_neg.masked_fill(own_t.unsqueeze(1).eq(neg.unsqueeze(0)), -1e9);
            torch::Tensor logits = torch::cat({ll_own, ll_neg}, 1);
            torch::Tensor ce = torch::nn::functional::cross_entropy(
                logits, torch::zeros({b}, torch::TensorOptions().dtype(torch::kInt64).device(device)));
            loss = nll + mc.contrastive * ce;
            ce_value = ce.item<double>();
        }
        opt.zero_grad();
        loss.backward();
        double norm = clip_and_step(dp, params, opt, mc.grad_clip);
        return std::vector<double>{nll.item<double>(), mc.lr, norm, ce_value};
    };
    hooks.evaluate = [&]() {
        model->eval();
        vae_old->eval();
        torch::NoGradGuard no_grad;
        if (!finetune) return std::vector<double>{mdn_nll(model->forward(val.old_mu), val.new_mu).item<double>()};
        double sum = 0;
        const size_t chunk = 256;
        for (size_t s = 0; s < val_pairs.size(); s += chunk) {
            std::vector<size_t> part;
            for (size_t k = s; k < std::min(val_pairs.size(), s + chunk); ++k) part.push_back(k);
            torch::Tensor z_old = encode_images(val_pairs, part, nullptr).first;
            torch::Tensor z_new = val.new_mu.narrow(0, int64_t(s), int64_t(part.size()));
            sum += mdn_nll(model->forward(z_old), z_new).item<double>() * double(part.size());
        }
        return std::vector<double>{sum / double(val_pairs.size())};
    };
    set_checkpoint_hooks(hooks, saved, opt, rng, gen);
    run_stage_loop(lo, hooks);
}

}  // namespace k2k
