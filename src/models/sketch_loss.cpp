// Sketch-RNN losses and schedules: mixture splits, log-space densities, masked reconstruction
// loss, KL term and schedules. See sketch_loss.h for the layouts and equations.
#include "models/sketch_loss.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace k2k {

namespace {

constexpr double kLog2Pi = 1.83787706640934548356;      // log 2π
constexpr double kHalfLog2Pi = 0.91893853320467274178;  // ½ log 2π

torch::Tensor bound_log_sigma(const torch::Tensor& raw) {
    return kSketchLogSigmaLimit * torch::tanh(raw / kSketchLogSigmaLimit);
}

void check_raw(const torch::Tensor& raw, int64_t num_mixtures, const char* fn) {
    TORCH_CHECK(num_mixtures > 0, fn, ": num_mixtures must be positive, got ", num_mixtures);
    TORCH_CHECK(raw.dim() >= 1 && raw.size(-1) == 3 + 6 * num_mixtures, fn, ": raw must be (..., ",
                3 + 6 * num_mixtures, ") for ", num_mixtures, " mixtures, got ", raw.sizes());
}

}  // namespace

int64_t sketch_output_size(const std::string& output, int64_t num_mixtures) {
    TORCH_CHECK(output == "bivariate" || output == "per_axis",
                "sketch_output_size: output must be \"bivariate\" or \"per_axis\", got \"", output, "\"");
    TORCH_CHECK(num_mixtures > 0, "sketch_output_size: num_mixtures must be positive, got ", num_mixtures);
    return 3 + 6 * num_mixtures;
}

BivariateMixture split_bivariate(const torch::Tensor& raw, int64_t num_mixtures) {
    check_raw(raw, num_mixtures, "split_bivariate");
    const int64_t m = num_mixtures;
    BivariateMixture out;
    out.pen_logits = raw.narrow(-1, 0, 3);
    out.log_pi = torch::log_softmax(raw.narrow(-1, 3, m), -1);
    out.mu_x = raw.narrow(-1, 3 + m, m);
    out.mu_y = raw.narrow(-1, 3 + 2 * m, m);
    out.log_sigma_x = bound_log_sigma(raw.narrow(-1, 3 + 3 * m, m));
    out.log_sigma_y = bound_log_sigma(raw.narrow(-1, 3 + 4 * m, m));
    out.rho = torch::tanh(raw.narrow(-1, 3 + 5 * m, m)) * kSketchRhoScale;
    return out;
}

PerAxisMixture split_per_axis(const torch::Tensor& raw, int64_t num_mixtures) {
    check_raw(raw, num_mixtures, "split_per_axis");
    const int64_t m = num_mixtures;
    std::vector<int64_t> shape(raw.sizes().begin(), raw.sizes().end() - 1);
    shape.push_back(2);
    shape.push_back(3);
    shape.push_back(m);
    const torch::Tensor params = raw.narrow(-1, 3, 6 * m).reshape(shape);  // (...,2,3,M)
    PerAxisMixture out;
    out.pen_logits = raw.narrow(-1, 0, 3);
    out.log_pi = torch::log_softmax(params.select(-2, 0), -1);
    out.mu = params.select(-2, 1);
    out.log_sigma = bound_log_sigma(params.select(-2, 2));
    return out;
}

torch::Tensor bivariate_log_density(const BivariateMixture& m, const torch::Tensor& dx,
                                    const torch::Tensor& dy) {
    // Everything (...,M). 1 − ρ² is formed as (1−ρ)(1+ρ): exact near |ρ| = 1 in float.
    const torch::Tensor zx = (dx.unsqueeze(-1) - m.mu_x) * torch::exp(-m.log_sigma_x);
    const torch::Tensor zy = (dy.unsqueeze(-1) - m.mu_y) * torch::exp(-m.log_sigma_y);
    const torch::Tensor one_minus_rho2 = (1.0 - m.rho) * (1.0 + m.rho);
    const torch::Tensor z = zx * zx + zy * zy - 2.0 * m.rho * zx * zy;  // Graves eq. 25
    const torch::Tensor log_n = -0.5 * z / one_minus_rho2 - kLog2Pi - m.log_sigma_x - m.log_sigma_y -
                                0.5 * torch::log(one_minus_rho2);  // log of eq. 24
    return torch::logsumexp(m.log_pi + log_n, -1);                 // log of eq. 23's mixture
}

torch::Tensor per_axis_log_density(const PerAxisMixture& m, const torch::Tensor& dx,
                                   const torch::Tensor& dy) {
    const torch::Tensor d = torch::stack({dx, dy}, -1).unsqueeze(-1);  // (...,2,1)
    const torch::Tensor z = (d - m.mu) * torch::exp(-m.log_sigma);     // (...,2,M)
    const torch::Tensor log_n = -0.5 * z * z - m.log_sigma - kHalfLog2Pi;
    return torch::logsumexp(m.log_pi + log_n, -1).sum(-1);
}

ReconstructionLoss reconstruction_loss(const torch::Tensor& raw, const torch::Tensor& target,
                                       const std::string& output, int64_t num_mixtures) {
    // raw (B,T,3+6M), target (B,T,5)
    const int64_t width = sketch_output_size(output, num_mixtures);
    TORCH_CHECK(raw.dim() == 3 && raw.size(2) == width, "reconstruction_loss: raw must be (B, T, ", width,
                "), got ", raw.sizes());
    TORCH_CHECK(target.dim() == 3 && target.size(0) == raw.size(0) && target.size(1) == raw.size(1) &&
                    target.size(2) == 5,
                "reconstruction_loss: target must be (", raw.size(0), ", ", raw.size(1), ", 5), got ",
                target.sizes());
    const torch::Tensor dx = target.select(2, 0), dy = target.select(2, 1);
    torch::Tensor log_p, pen_logits;  // (B,T), (B,T,3)
    if (output == "bivariate") {
        const BivariateMixture m = split_bivariate(raw, num_mixtures);
        // log(p + ε) = logaddexp(log p, log ε): ε as magenta, without leaving log space.
        log_p = torch::logaddexp(bivariate_log_density(m, dx, dy),
                                 torch::full({}, std::log(kSketchLossEps), raw.options()));
        pen_logits = m.pen_logits;
    } else {
        const PerAxisMixture m = split_per_axis(raw, num_mixtures);
        log_p = per_axis_log_density(m, dx, dy);
        pen_logits = m.pen_logits;
    }
    const double count = double(raw.size(0) * raw.size(1));  // B·Nmax
    // torch::where, not a product with the mask: rows after the end may hold anything.
    const torch::Tensor before_end = target.select(2, 4) < 0.5;
    ReconstructionLoss out;
    out.ls = -torch::where(before_end, log_p, torch::zeros_like(log_p)).sum() / count;
    out.lp = -(target.narrow(2, 2, 3) * torch::log_softmax(pen_logits, -1)).sum() / count;
    out.lr = out.ls + out.lp;
    return out;
}

ReconstructionLoss rescale_trimmed(const ReconstructionLoss& rec, int64_t kept, int64_t max_len) {
    TORCH_CHECK(kept > 0 && kept <= max_len, "rescale_trimmed: kept steps must be in [1, ", max_len, "], got ", kept);
    const double f = double(kept) / double(max_len);
    ReconstructionLoss out;
    out.ls = rec.ls * f;
    out.lp = rec.lp * f;
    out.lr = out.ls + out.lp;
    return out;
}

torch::Tensor kl_divergence(const torch::Tensor& mu, const torch::Tensor& logvar) {
    TORCH_CHECK(mu.dim() == 2 && mu.sizes() == logvar.sizes(),
                "kl_divergence: mu and logvar must both be (B, Nz), got ", mu.sizes(), " and ",
                logvar.sizes());
    return -0.5 * (1.0 + logvar - mu * mu - torch::exp(logvar)).mean();
}

torch::Tensor kl_term(const torch::Tensor& mu, const torch::Tensor& logvar, double kl_tolerance) {
    return torch::clamp_min(kl_divergence(mu, logvar), kl_tolerance);
}

double kl_weight(int64_t step, double w_start, double w_max, double decay) {
    TORCH_CHECK(step >= 0, "kl_weight: step must be >= 0, got ", step);
    return w_max - (w_max - w_start) * std::pow(decay, double(step));
}

double learning_rate(int64_t step, double lr0, double decay, double min_lr) {
    TORCH_CHECK(step >= 0, "learning_rate: step must be >= 0, got ", step);
    return std::max(lr0 * std::pow(decay, double(step)), min_lr);
}

}  // namespace k2k
