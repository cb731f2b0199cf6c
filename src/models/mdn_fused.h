// The per_dim MDN's log-density matrix in float32 on the CPU as one autograd node (mdn_fused.cpp);
// mdn_log_prob_matrix (models/mdn.h) uses it where it applies.
#pragma once

#include <torch/types.h>

#include "models/mdn.h"

namespace k2k::detail {

// True when the fused path can compute mdn_log_prob_matrix: a per_dim mixture (logit_pi, mu and
// log_sigma (B,D,K)) and latents (C,D) in float32 on the CPU, latents not requiring a gradient.
bool mdn_fused_log_prob_matrix_applies(const MdnOutput& out, const torch::Tensor& latents);

// (B,C): Σ_d logsumexp_k [log_pi + log N(latents[c,d]; mu, exp(log_sigma))] for every row b, with
// log_pi already log-softmaxed; differentiable in log_pi, mu and log_sigma (all (B,D,K)).
torch::Tensor mdn_fused_log_prob_matrix(const torch::Tensor& log_pi, const torch::Tensor& mu,
                                        const torch::Tensor& log_sigma, const torch::Tensor& latents);

}  // namespace k2k::detail
