// Stage 2: the MDN P(z_new | z_old) on characters present in both sets (paper Algorithm 1, step 2):
// each Kuzushiji training image is encoded by vae_old, its character's KanjiVG raster by vae_new.
#include <cstdio>

#include <torch/torch.h>

#include "run/checkpoint.h"
#include "train/stage_common.h"
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
    torch::Tensor old_mu, old_logvar, new_mu, new_logvar;  // each (N, z)
    int64_t size() const { return old_mu.defined() ? old_mu.size(0) : 0; }
};

LatentPairs encode_pairs(ConvVae& vae_old, ConvVae& vae_new, const TrainingData& td,
                         const std::vector<std::pair<size_t, size_t>>& pairs, torch::Device device) {
    LatentPairs lp;
    if (pairs.empty()) return lp;
    std::vector<size_t> olds, news;
    for (const auto& p : pairs) {
        olds.push_back(p.first);
        news.push_back(p.second);
    }
    std::tie(lp.old_mu, lp.old_logvar) = encode_all(vae_old, td.ds, olds, false, device);
    std::tie(lp.new_mu, lp.new_logvar) = encode_all(vae_new, td.ds, news, true, device);
    return lp;
}

}  // namespace

void train_mdn(const Config& cfg, TrainingData& td, torch::Device device, bool resume) {
    const MdnConfig& mc = cfg.mdn;
    if (td.pairs[0].empty())
        throw Error("mdn: no Kuzushiji-Kanji training image has a KanjiVG counterpart in the selected data "
                    "(check data.max_old_classes / data.max_modern_chars)");
    ConvVae vae_old = load_trained_vae(cfg, "vae_old", device);
    ConvVae vae_new = load_trained_vae(cfg, "vae_new", device);
    LatentPairs train = encode_pairs(vae_old, vae_new, td, td.pairs[0], device);
    LatentPairs val = td.pairs[1].empty() ? train : encode_pairs(vae_old, vae_new, td, td.pairs[1], device);
    if (td.pairs[1].empty()) std::printf("[mdn] warning: no validation pairs; validating on the training pairs\n");
    std::printf("[mdn] %lld training pairs, %lld validation pairs\n", (long long)train.size(), (long long)val.size());

    const uint64_t seed = stage_seed(cfg, "mdn");
    torch::manual_seed(seed);
    Mdn model(mdn_options(cfg));
    model->to(device);
    torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(mc.lr));
    std::mt19937 rng{uint32_t(seed)};
    at::Generator gen = at::detail::createCPUGenerator(seed);

    auto noisy = [&](const torch::Tensor& mu, const torch::Tensor& logvar, bool sample) {
        if (!sample) return mu;
        torch::Tensor eps = torch::randn(mu.sizes(), gen, torch::kFloat32).to(mu.device());
        return mu + torch::exp(0.5 * logvar) * eps;
    };

    StageLoopOptions lo = stage_loop_options(cfg, "mdn", mc.steps, mc.eval_every, resume);
    lo.terms = {"nll"};
    lo.extras = {"lr", "grad_norm"};

    StageHooks hooks;
    hooks.train_step = [&](int64_t) {
        model->train();
        std::vector<size_t> pick = draw_indices(size_t(train.size()), size_t(mc.batch_size), rng);
        std::vector<int64_t> pick64(pick.begin(), pick.end());
        torch::Tensor idx = torch::tensor(pick64, torch::kInt64).to(device);
        torch::Tensor z_old = noisy(train.old_mu.index_select(0, idx), train.old_logvar.index_select(0, idx), mc.sample_z_old);
        torch::Tensor z_new = noisy(train.new_mu.index_select(0, idx), train.new_logvar.index_select(0, idx), mc.sample_z_new);
        torch::Tensor nll = mdn_nll(model->forward(z_old), z_new);
        opt.zero_grad();
        nll.backward();
        double norm = clip_and_step(model->parameters(), opt, mc.grad_clip);
        return std::vector<double>{nll.item<double>(), mc.lr, norm};
    };
    hooks.evaluate = [&]() {
        model->eval();
        torch::NoGradGuard no_grad;
        return std::vector<double>{mdn_nll(model->forward(val.old_mu), val.new_mu).item<double>()};
    };
    set_checkpoint_hooks(hooks, *model, opt, rng, gen);
    run_stage_loop(lo, hooks);
}

}  // namespace k2k
