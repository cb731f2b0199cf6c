// Benchmark: one MDN training step (forward + NLL + backward + Adam) at the kanji2kanji reference
// sizes, and drawing 10 samples for one input. Compare with bench/ref_mdn.py (same figures).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <torch/torch.h>

#include "models/conv_vae.h"
#include "models/mdn.h"
#include "runtime/runtime.h"

namespace {

struct BenchOptions {
    int batch = 256;      // pairs per training step
    int mixtures = 100;   // K per latent dimension (kanji2kanji reference: 100)
    int warmup = 3;       // untimed steps first
    int steps = 20;       // timed training steps (the median is printed)
    int samples = 200;    // timed sampling calls (the median is printed)
    int threads = 2;      // torch intra-op threads
    bool stage = false;   // time configs/full.yaml's MDN stage step instead (see stage_step_ms)
    bool fused = true;    // stage step: k2k's mdn_log_prob_matrix (fused on the CPU) or broadcasting
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// One training step of configs/full.yaml's MDN stage (train/stage_mdn.cpp) on a ready batch:
// vae_old's encoder fine-tuned on 64 Kuzushiji images (z_old sampled from q(z|x)), the MDN
// (2 x 256, 5 mixtures per dimension), its NLL of z_new, the contrastive term over the true
// character and 256 random ones of the 6,703 candidate latents, backward, Adam on both modules.
// The data pipeline (image augmentation) is not timed.
std::vector<double> stage_step_ms(const BenchOptions& bo) {
    const int64_t b = 64, negatives = 256, candidates = 6703;
    torch::manual_seed(0);
    k2k::ConvVae vae(k2k::ConvVaeOptions{});
    k2k::Mdn mdn(k2k::MdnOptions().hidden({256, 256}).num_mixtures(5));
    std::vector<torch::Tensor> params = vae->parameters();
    for (const torch::Tensor& p : mdn->parameters()) params.push_back(p);
    torch::optim::Adam adam(params, torch::optim::AdamOptions(1e-3));
    torch::Tensor x = (torch::rand({b, 1, 64, 64}) < 0.15).to(torch::kFloat32);
    torch::Tensor z_new = torch::randn({b, 64});
    torch::Tensor cand = torch::randn({candidates, 64});
    torch::Tensor own = torch::randint(candidates, {b}, torch::kInt64);
    std::vector<double> ms;
    for (int i = 0; i < bo.warmup + bo.steps; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        auto [mu, logvar] = vae->encode(x);
        torch::Tensor z_old = mu + torch::exp(0.5 * logvar) * torch::randn(mu.sizes());
        const k2k::MdnOutput mixture = mdn->forward(z_old);
        torch::Tensor nll = k2k::mdn_nll(mixture, z_new);
        torch::Tensor neg = torch::randint(candidates, {negatives}, torch::kInt64);
        torch::Tensor ll_own = k2k::mdn_log_prob(mixture, cand.index_select(0, own)).unsqueeze(1);
        torch::Tensor ll_neg = bo.fused ? k2k::mdn_log_prob_matrix(mixture, cand.index_select(0, neg))
                                        : k2k::mdn_log_prob_matrix_broadcast(mixture, cand.index_select(0, neg));
        ll_neg = ll_neg.masked_fill(own.unsqueeze(1).eq(neg.unsqueeze(0)), -1e9);
        torch::Tensor ce = torch::nn::functional::cross_entropy(torch::cat({ll_own, ll_neg}, 1),
                                                                torch::zeros({b}, torch::kInt64));
        adam.zero_grad();
        (nll + ce).backward();
        adam.step();
        if (i >= bo.warmup) ms.push_back(ms_since(t0));
    }
    return ms;
}

}  // namespace

int main(int argc, char** argv) {
    BenchOptions bo;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--batch")) bo.batch = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--mixtures")) bo.mixtures = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--warmup")) bo.warmup = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--steps")) bo.steps = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--samples")) bo.samples = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--threads")) bo.threads = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--stage")) bo.stage = std::atoi(argv[i + 1]) != 0;
        else if (!std::strcmp(argv[i], "--fused")) bo.fused = std::atoi(argv[i + 1]) != 0;
        else {
            std::fprintf(stderr,
                         "usage: bench_mdn [--batch 256] [--mixtures 100] [--warmup 3] "
                         "[--steps 20] [--samples 200] [--threads 2] [--stage 0|1] [--fused 1|0]\n");
            return 2;
        }
    }
    if (bo.batch <= 0 || bo.mixtures <= 0 || bo.steps <= 0 || bo.samples <= 0 || bo.warmup < 0 ||
        bo.threads <= 0) {
        std::fprintf(stderr, "bench_mdn: sizes, counts and threads must be positive\n");
        return 2;
    }
    k2k::init_runtime(bo.threads);
    if (bo.stage) {
        std::printf("mdn_stage_step_ms cpp=%.2f (full.yaml's MDN stage: encoder fine-tuned, B 64, 2x256, "
                    "K=5 per_dim, contrastive over 256 of 6703, %s, %d threads, median of %d)\n",
                    median(stage_step_ms(bo)), bo.fused ? "fused" : "broadcasting", bo.threads, bo.steps);
        return 0;
    }
    torch::manual_seed(0);
    k2k::Mdn mdn(k2k::MdnOptions().hidden({1024, 1024, 1024}).num_mixtures(bo.mixtures));
    torch::optim::Adam adam(mdn->parameters(), torch::optim::AdamOptions(1e-3));
    torch::Tensor x = torch::randn({bo.batch, 64});  // z_old is (B,64)
    torch::Tensor y = torch::randn({bo.batch, 64});  // z_new is (B,64)

    std::vector<double> step_ms;
    for (int i = 0; i < bo.warmup + bo.steps; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        adam.zero_grad();
        torch::Tensor loss = k2k::mdn_nll(mdn->forward(x), y);
        loss.backward();
        adam.step();
        if (i >= bo.warmup) step_ms.push_back(ms_since(t0));
    }

    // Sampling as the pipeline uses it: one z_old, 10 candidate z_new (the mixture is computed
    // once and broadcast to 10 rows).
    torch::NoGradGuard no_grad;
    at::Generator gen = at::detail::createCPUGenerator(1);
    torch::Tensor one = torch::randn({1, 64});
    std::vector<double> mean_ms, noise_ms;
    for (int i = 0; i < bo.warmup + bo.samples; ++i) {
        for (bool component_mean : {true, false}) {
            auto t0 = std::chrono::steady_clock::now();
            k2k::MdnOutput out = mdn->forward(one);
            k2k::MdnOutput ten{out.logit_pi.expand({10, 64, bo.mixtures}),
                               out.mu.expand({10, 64, bo.mixtures}),
                               out.log_sigma.expand({10, 64, bo.mixtures})};
            torch::Tensor z = k2k::mdn_sample(ten, 0.25, gen, component_mean);  // (10,64)
            if (i >= bo.warmup) (component_mean ? mean_ms : noise_ms).push_back(ms_since(t0));
        }
    }
    std::printf("mdn_step_ms cpp=%.2f (batch %d, hidden 3x1024, K=%d per_dim, %d threads, "
                "median of %d)\n",
                median(step_ms), bo.batch, bo.mixtures, bo.threads, bo.steps);
    std::printf("mdn_sample10_ms cpp mean=%.3f noise=%.3f (1 input, 10 samples, tau 0.25, "
                "median of %d)\n",
                median(mean_ms), median(noise_ms), bo.samples);
    return 0;
}
