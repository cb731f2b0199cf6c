// Mixture density network P(z_new | z_old): an MLP maps a Kuzushiji latent to a Gaussian mixture
// over the modern-kanji latent (Bishop 1994; World Models; kanji2kanji). Loss/sampling are pure.
#pragma once

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <ATen/core/Generator.h>

#include <cstdint>
#include <string>
#include <vector>

namespace k2k {

// Two mixture layouts (MdnOptions::mode):
//   "per_dim": each of the D output dimensions has its own independent 1-D mixture of K Gaussians
//              (kanji2kanji: K = 100 per latent dimension).
//              Shapes: logit_pi, mu, log_sigma (B,D,K).
//   "diag":    K diagonal Gaussians over the whole D-vector, one shared π (World Models style over
//              a vector). Shapes: logit_pi (B,K); mu, log_sigma (B,K,D).
// The pure functions below tell the two apart by logit_pi.dim() (3 = per_dim, 2 = diag).
struct MdnOutput {
    torch::Tensor logit_pi;   // unnormalised mixture logits; log π = log_softmax over K
    torch::Tensor mu;         // component means
    torch::Tensor log_sigma;  // log standard deviations, inside [log_sigma_min, log_sigma_max]
};

struct MdnOptions {
    /// Size of the conditioning latent z_old.
    TORCH_ARG(int64_t, in_size) = 64;
    /// Size of the predicted latent z_new (D).
    TORCH_ARG(int64_t, out_size) = 64;
    /// Widths of the hidden dense layers (paper: 2 layers; kanji2kanji reference: 3 x 1024).
    TORCH_ARG(std::vector<int64_t>, hidden) = std::vector<int64_t>{512, 512};
    /// Negative slope of the leaky-ReLU after every hidden layer.
    TORCH_ARG(double, leaky_slope) = 0.01;
    /// Mixture components K (per dimension in "per_dim"; kanji2kanji reference: 100).
    TORCH_ARG(int64_t, num_mixtures) = 5;
    /// Mixture layout: "per_dim" (independent 1-D mixtures per dimension) or "diag".
    TORCH_ARG(std::string, mode) = "per_dim";
    /// Lower bound of log σ (smooth tanh bound, see MdnImpl::forward); keeps 1/σ finite.
    TORCH_ARG(double, log_sigma_min) = -7.0;
    /// Upper bound of log σ.
    TORCH_ARG(double, log_sigma_max) = 7.0;
};

class MdnImpl : public torch::nn::Module {
public:
    explicit MdnImpl(MdnOptions options = {});

    // Rebuilds and re-initialises every layer from `options`.
    void reset();

    // x is (B, in_size); returns the mixture (shapes above). log σ is bounded smoothly,
    //   log σ = c + h·tanh((raw − c)/h),  c = (max+min)/2, h = (max−min)/2,
    // which is the identity near c and never leaves (min, max), so no input gives σ = 0 or inf
    // and, unlike a clamp, gradients still flow near the bounds.
    MdnOutput forward(const torch::Tensor& x);

    MdnOptions options;
    std::vector<torch::nn::Linear> hidden_layers;  // registered as fc0, fc1, ...
    torch::nn::Linear head{nullptr};               // outputs 3·D·K (per_dim) or K + 2·K·D (diag)
};
TORCH_MODULE(Mdn);

// Log density of `target` under the mixture, per example, computed entirely in log space
// (Bishop 1994 "Mixture Density Networks": E = −ln Σ_i α_i φ_i(t|x); World Models MDN-RNN loss):
//   log N(y; μ, σ) = −½((y − μ)/σ)² − log σ − ½ log 2π
//   per_dim: log p(y) = Σ_d logsumexp_k [log π_dk + log N(y_d; μ_dk, σ_dk)]
//   diag:    log p(y) = logsumexp_k [log π_k + Σ_d log N(y_d; μ_kd, σ_kd)]
// with log π = log_softmax(logit_pi). target is (B,D); returns (B,), in nats.
torch::Tensor mdn_log_prob(const MdnOutput& out, const torch::Tensor& target);

// log p(latent_c) of every row of latents (C,D) under every mixture of `out` (B rows): (B,C), the
// same values as mdn_log_prob of each pair. A per_dim mixture in float32 on the CPU (latents without
// gradient) takes one fused pass that stores no (B,C,D,K) terms (models/mdn_fused.h); otherwise it
// broadcasts (memory B·C·D·K floats; chunk C).
torch::Tensor mdn_log_prob_matrix(const MdnOutput& out, const torch::Tensor& latents);

// The same matrix by broadcasting on any device and dtype: what mdn_log_prob_matrix computes where
// the fused pass does not apply, and the formula that pass is benchmarked against (bench_mdn).
torch::Tensor mdn_log_prob_matrix_broadcast(const MdnOutput& out, const torch::Tensor& latents);

// Training loss: −mean_B log p(target), in nats per example (summed over the D dimensions).
// Can be negative: a density, not a probability. target is (B,D); returns a scalar.
torch::Tensor mdn_nll(const MdnOutput& out, const torch::Tensor& target);

// Draws one z_new per row, (B,D). The component is drawn from softmax(logit_pi / τ) (Gumbel-max,
// so per_dim draws one component per dimension, diag one per row); then
//   component_mean = false: μ_k + σ_k·√τ·ε   (World Models sampling),
//   component_mean = true:  μ_k exactly       (kanji2kanji usage: τ = 0.25, mean of the component).
// τ must be > 0; small τ concentrates on the argmax component. All random numbers come from
// `gen` on gen's device (a CPU generator works for tensors on any device: the draws are moved),
// so the same generator state gives the same samples.
torch::Tensor mdn_sample(const MdnOutput& out, double temperature, at::Generator gen,
                         bool component_mean);

// Deterministic point estimate Σ_k π_k μ_k, (B,D).
torch::Tensor mdn_expected_value(const MdnOutput& out);

}  // namespace k2k
