// Sketch-RNN losses and schedules as pure functions: the stroke mixture NLL (bivariate or per-axis),
// the pen cross-entropy, the KL term with its annealed weight, and the learning-rate decay.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

namespace k2k {

// Decoder output layouts, per step (both 3 + 6M values; M = num_mixtures):
//   "bivariate" (magenta get_mixture_coef): M bivariate Gaussians over (Δx, Δy)
//       [pen logits (3) | π logits (M) | μx (M) | μy (M) | raw log σx (M) | raw log σy (M) | raw ρ (M)]
//   "per_axis" (kanji2kanji): independent 1-D mixtures for Δx and for Δy
//       [pen logits (3) | x: π logits (M), μ (M), raw log σ (M) | y: π logits (M), μ (M), raw log σ (M)]
// Pen logits are (p_down, p_up, p_end) as in stroke-5.
//
// Numerical safety (the NaN traps of public Sketch-RNN ports):
//   log π = log_softmax(π logits)                       exact for any logits
//   log σ = L·tanh(raw / L), L = kSketchLogSigmaLimit    a smooth clamp: σ never 0 or inf, and the
//                                                        gradient still flows near the bounds
//   ρ     = tanh(raw)·kSketchRhoScale                   so 1 − ρ² ≥ 2e-5
// and every density is kept as a log density until the final logsumexp.
constexpr double kSketchLogSigmaLimit = 7.0;    // |log σ| < 7
constexpr double kSketchRhoScale = 1.0 - 1e-5;  // |ρ| < 1 − 1e-5
constexpr double kSketchLossEps = 1e-6;         // magenta's ε inside −log(Σ π N + ε) (bivariate)

// Width of the decoder output per step for `output` ("bivariate" or "per_axis"). Throws
// c10::Error (TORCH_CHECK) for another name or num_mixtures < 1.
int64_t sketch_output_size(const std::string& output, int64_t num_mixtures);

struct BivariateMixture {
    torch::Tensor pen_logits;   // (...,3)
    torch::Tensor log_pi;       // (...,M) normalised log mixture weights
    torch::Tensor mu_x;         // (...,M)
    torch::Tensor mu_y;         // (...,M)
    torch::Tensor log_sigma_x;  // (...,M) bounded as above
    torch::Tensor log_sigma_y;  // (...,M)
    torch::Tensor rho;          // (...,M) correlation
};
// raw is (..., 3+6M) in the "bivariate" layout.
BivariateMixture split_bivariate(const torch::Tensor& raw, int64_t num_mixtures);

struct PerAxisMixture {
    torch::Tensor pen_logits;  // (...,3)
    torch::Tensor log_pi;      // (...,2,M) axis 0 = Δx, 1 = Δy; normalised per axis
    torch::Tensor mu;          // (...,2,M)
    torch::Tensor log_sigma;   // (...,2,M) bounded as above
};
// raw is (..., 3+6M) in the "per_axis" layout.
PerAxisMixture split_per_axis(const torch::Tensor& raw, int64_t num_mixtures);

// log Σ_j π_j N2(Δx, Δy | μ_j, σ_j, ρ_j), Graves 2013 eqs. 24–25:
//   N2 = exp(−Z / 2(1−ρ²)) / (2π σx σy √(1−ρ²)),
//   Z  = ((Δx−μx)/σx)² + ((Δy−μy)/σy)² − 2ρ(Δx−μx)(Δy−μy)/(σx σy)
// evaluated as a logsumexp of log π + log N2. dx, dy are (...); returns (...).
torch::Tensor bivariate_log_density(const BivariateMixture& m, const torch::Tensor& dx,
                                    const torch::Tensor& dy);

// Σ_axis log Σ_j π_aj N(d_a | μ_aj, σ_aj) (kanji2kanji get_lossfunc). dx, dy are (...); returns (...).
torch::Tensor per_axis_log_density(const PerAxisMixture& m, const torch::Tensor& dx, const torch::Tensor& dy);

struct ReconstructionLoss {
    torch::Tensor ls;  // scalar: stroke (offset) loss
    torch::Tensor lp;  // scalar: pen-state loss
    torch::Tensor lr;  // scalar: ls + lp
};

// Ha & Eck 2017 eqs. 9–11 (magenta get_lossfunc), with Nmax = T and the means over B·Nmax:
//   Ls = −1/(B·Nmax) Σ_b Σ_{t ≤ Ns(b)} log(Σ_j π_j N2(Δx_t, Δy_t) + ε)     (eq. 9)
//   Lp = −1/(B·Nmax) Σ_b Σ_{t ≤ Nmax} Σ_k p_k,t log q_k,t                   (eq. 10)
//   Lr = Ls + Lp                                                            (eq. 11)
// Ls counts only target rows before the end of each sketch (rows whose p_end is 0, magenta's
// fs = 1 − p_end), so nothing after the end token changes it; Lp covers all Nmax rows. For
// "per_axis" the density is the product of the two axis mixtures and no ε is added (kanji2kanji).
// raw is (B,T,3+6M) decoder outputs; target is (B,T,5) stroke-5 rows 1..T (the batch without its
// start token).
ReconstructionLoss reconstruction_loss(const torch::Tensor& raw, const torch::Tensor& target,
                                       const std::string& output, int64_t num_mixtures);

// The loss of a batch trimmed to its first `kept` of `max_len` steps (sketch.trim_padding) brought
// back to magenta's normaliser B·max_len: Ls is then exactly the untrimmed batch's (every cut row is
// after every sketch's end), Lp lacks only the cut rows' pen terms (end after end).
ReconstructionLoss rescale_trimmed(const ReconstructionLoss& rec, int64_t kept, int64_t max_len);

// Mean KL(N(μ, σ²) || N(0, 1)) over batch and latent dims (Ha & Eck eq. 12; magenta kl_cost):
//   −½ mean(1 + logvar − μ² − exp(logvar)).  mu, logvar are (B,Nz); returns a scalar.
torch::Tensor kl_divergence(const torch::Tensor& mu, const torch::Tensor& logvar);
// max(kl_divergence, kl_tolerance): magenta's KL floor (no gradient below it).
torch::Tensor kl_term(const torch::Tensor& mu, const torch::Tensor& logvar, double kl_tolerance);
// Annealed KL weight w_max − (w_max − w_start)·decay^step (magenta: 0.5 − 0.49·0.99995^step).
double kl_weight(int64_t step, double w_start, double w_max, double decay);
// Learning rate max(lr0·decay^step, min_lr) (magenta: 1e-3·0.9999^step, floor 1e-5; magenta's
// code writes (lr0 − min_lr)·decay^step + min_lr, which differs by at most min_lr).
double learning_rate(int64_t step, double lr0, double decay, double min_lr);

}  // namespace k2k
