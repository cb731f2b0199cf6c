// mdn_log_prob_matrix of a per_dim mixture in float32 on the CPU as one autograd node: the
// (B, C, D, K) terms are never stored. The forward is one pass over them; the backward recomputes
// them and sums each row's gradients over the C latents in place.
//
// Why: the broadcasting version materialises about ten (B, C, D, K) tensors forward and as many
// backward. With the MDN stage's contrastive term (B 64, C 257, D 64, K 5: 5.3 M terms) those
// passes were most of the stage's step (docs/BENCHMARKS.md, "The MDN stage step").
#include "models/mdn_fused.h"

#include <torch/torch.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "models/vec_math.h"  // last: it sets no-trapping-math for the rest of this file

namespace k2k::detail {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr float kHalfLog2Pi = 0.91893853320467274178f;

// One row b of the mixture (D·K values each, dimension-major) and the latents transposed (D, C).
struct Row {
    const float* log_pi;     // (D,K) log π
    const float* mu;         // (D,K)
    const float* log_sigma;  // (D,K)
    const float* lat_t;      // (D,C) latents, transposed so that c is contiguous
    int64_t d, k, c;
};

// For dimension j of row r: t[k·C + c] = log π_k + log N(x_c; μ_k, σ_k) and, over k,
// m[c] = max_k t and s[c] = Σ_k exp(t − m) (so log Σ_k exp t = m + log s, and 1 <= s <= K).
K2K_VECTOR_CLONES
void terms(const Row& r, int64_t j, float* t, float* m, float* s) {
    const float* x = r.lat_t + j * r.c;
    for (int64_t q = 0; q < r.k; q++) {
        const float mu = r.mu[j * r.k + q];
        const float inv = std::exp(-r.log_sigma[j * r.k + q]);
        const float lc = r.log_pi[j * r.k + q] - r.log_sigma[j * r.k + q] - kHalfLog2Pi;
        float* tq = t + q * r.c;
        for (int64_t c = 0; c < r.c; c++) {
            const float z = (x[c] - mu) * inv;
            tq[c] = lc - 0.5f * z * z;
        }
    }
    std::copy(t, t + r.c, m);
    for (int64_t q = 1; q < r.k; q++) {
        const float* tq = t + q * r.c;
        for (int64_t c = 0; c < r.c; c++) m[c] = m[c] > tq[c] ? m[c] : tq[c];
    }
    std::fill(s, s + r.c, 0.0f);
    for (int64_t q = 0; q < r.k; q++) {
        float* tq = t + q * r.c;
        for (int64_t c = 0; c < r.c; c++) {
            tq[c] = exp_clamped(tq[c] - m[c]);  // t now holds exp(t − m)
            s[c] += tq[c];
        }
    }
}

// out[c] = Σ_j log Σ_k exp t_jk(c). The logs of s are taken once per group of dimensions, on
// the product of the group's s (each s is in [1, K], so a group of g with K^g < 1e30 stays finite).
K2K_VECTOR_CLONES
void forward_row(const Row& r, float* out) {
    std::vector<float> t(size_t(r.k * r.c)), m(size_t(r.c)), s(size_t(r.c)), prod(size_t(r.c), 1.0f);
    const int64_t group = std::max<int64_t>(1, int64_t(30.0 / std::log10(double(std::max<int64_t>(r.k, 2)))));
    std::fill(out, out + r.c, 0.0f);
    for (int64_t j = 0; j < r.d; j++) {
        terms(r, j, t.data(), m.data(), s.data());
        for (int64_t c = 0; c < r.c; c++) {
            out[c] += m[c];
            prod[c] *= s[c];
        }
        if ((j + 1) % group == 0 || j + 1 == r.d) {
            for (int64_t c = 0; c < r.c; c++) out[c] += std::log(prod[c]);
            std::fill(prod.begin(), prod.end(), 1.0f);
        }
    }
}

// Gradients of Σ_c g[c]·out[c] with respect to row r's log π, μ and log σ (each (D,K)): with the
// responsibility ρ = exp(t_k − m)/s and z = (x − μ)/σ, d/dlog π = Σ_c gρ, d/dμ = Σ_c gρz/σ,
// d/dlog σ = Σ_c gρ(z² − 1).
K2K_VECTOR_CLONES
void backward_row(const Row& r, const float* g, float* d_log_pi, float* d_mu, float* d_log_sigma) {
    std::vector<float> t(size_t(r.k * r.c)), m(size_t(r.c)), s(size_t(r.c)), w(size_t(r.c));
    for (int64_t j = 0; j < r.d; j++) {
        terms(r, j, t.data(), m.data(), s.data());
        for (int64_t c = 0; c < r.c; c++) w[c] = g[c] / s[c];
        const float* x = r.lat_t + j * r.c;
        for (int64_t q = 0; q < r.k; q++) {
            const float mu = r.mu[j * r.k + q];
            const float inv = std::exp(-r.log_sigma[j * r.k + q]);
            const float* e = t.data() + q * r.c;
            // Eight running sums each, so the reduction vectorises without reassociating floats.
            float s1[8] = {}, s2[8] = {}, s3[8] = {};
            int64_t c = 0;
            for (; c + 8 <= r.c; c += 8) {
                for (int l = 0; l < 8; l++) {
                    const float z = (x[c + l] - mu) * inv;
                    const float a = w[c + l] * e[c + l];
                    s1[l] += a;
                    s2[l] += a * z;
                    s3[l] += a * z * z;
                }
            }
            for (; c < r.c; c++) {
                const float z = (x[c] - mu) * inv;
                const float a = w[c] * e[c];
                s1[0] += a;
                s2[0] += a * z;
                s3[0] += a * z * z;
            }
            float a1 = 0, a2 = 0, a3 = 0;
            for (int l = 0; l < 8; l++) {
                a1 += s1[l];
                a2 += s2[l];
                a3 += s3[l];
            }
            d_log_pi[j * r.k + q] = a1;
            d_mu[j * r.k + q] = a2 * inv;
            d_log_sigma[j * r.k + q] = a3 - a1;
        }
    }
}

Row row_of(const torch::Tensor& log_pi, const torch::Tensor& mu, const torch::Tensor& log_sigma,
           const torch::Tensor& lat_t, int64_t b) {
    const int64_t d = mu.size(1), k = mu.size(2);
    return Row{log_pi.data_ptr<float>() + b * d * k, mu.data_ptr<float>() + b * d * k,
               log_sigma.data_ptr<float>() + b * d * k, lat_t.data_ptr<float>(), d, k, lat_t.size(1)};
}

class LogProbMatrix : public torch::autograd::Function<LogProbMatrix> {
public:
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& log_pi_in, const torch::Tensor& mu_in,
                                 const torch::Tensor& log_sigma_in, const torch::Tensor& latents) {
        const torch::Tensor log_pi = log_pi_in.contiguous(), mu = mu_in.contiguous(),
                            log_sigma = log_sigma_in.contiguous();
        const torch::Tensor lat_t = latents.t().contiguous();  // (D,C)
        const int64_t b = mu.size(0), c = latents.size(0);
        torch::Tensor out = torch::empty({b, c}, mu.options());
        float* o = out.data_ptr<float>();
        at::parallel_for(0, b, 1, [&](int64_t b0, int64_t b1) {
            for (int64_t i = b0; i < b1; i++) forward_row(row_of(log_pi, mu, log_sigma, lat_t, i), o + i * c);
        });
        ctx->save_for_backward({log_pi, mu, log_sigma, lat_t});
        return out;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const variable_list saved = ctx->get_saved_variables();
        const torch::Tensor &log_pi = saved[0], &mu = saved[1], &log_sigma = saved[2], &lat_t = saved[3];
        const torch::Tensor g = grads[0].contiguous();
        torch::Tensor d_log_pi = torch::empty_like(mu), d_mu = torch::empty_like(mu),
                      d_log_sigma = torch::empty_like(mu);
        const int64_t b = mu.size(0), c = lat_t.size(1), dk = mu.size(1) * mu.size(2);
        const float* gp = g.data_ptr<float>();
        at::parallel_for(0, b, 1, [&](int64_t b0, int64_t b1) {
            for (int64_t i = b0; i < b1; i++)
                backward_row(row_of(log_pi, mu, log_sigma, lat_t, i), gp + i * c, d_log_pi.data_ptr<float>() + i * dk,
                             d_mu.data_ptr<float>() + i * dk, d_log_sigma.data_ptr<float>() + i * dk);
        });
        return {d_log_pi, d_mu, d_log_sigma, torch::Tensor()};
    }
};

}  // namespace

bool mdn_fused_log_prob_matrix_applies(const MdnOutput& out, const torch::Tensor& latents) {
    const torch::Tensor& mu = out.mu;
    return out.logit_pi.dim() == 3 && mu.device().is_cpu() && latents.device().is_cpu() &&
           mu.scalar_type() == torch::kFloat32 && latents.scalar_type() == torch::kFloat32 &&
           !latents.requires_grad() && latents.size(0) > 0;
}

torch::Tensor mdn_fused_log_prob_matrix(const torch::Tensor& log_pi, const torch::Tensor& mu,
                                        const torch::Tensor& log_sigma, const torch::Tensor& latents) {
    return LogProbMatrix::apply(log_pi, mu, log_sigma, latents);
}

}  // namespace k2k::detail
