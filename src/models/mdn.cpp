// Mixture density network P(z_new | z_old): the MLP, the log-space mixture NLL, sampling and the
// expected value. See mdn.h for the layouts and the equations.
#include "models/mdn.h"

#include <torch/torch.h>

#include "models/mdn_fused.h"

#include <cmath>
#include <limits>

namespace k2k {

namespace {

constexpr double kHalfLog2Pi = 0.91893853320467274178;  // ½ log 2π

bool is_per_dim(const MdnOutput& out) { return out.logit_pi.dim() == 3; }

void check_output(const MdnOutput& out, const char* fn) {
    TORCH_CHECK(out.logit_pi.defined() && out.mu.defined() && out.log_sigma.defined(), fn,
                ": the MdnOutput has an undefined tensor");
    TORCH_CHECK(out.logit_pi.dim() == 3 || out.logit_pi.dim() == 2, fn,
                ": logit_pi must be (B,D,K) or (B,K), got ", out.logit_pi.sizes());
    TORCH_CHECK(out.mu.dim() == 3 && out.mu.sizes() == out.log_sigma.sizes(), fn,
                ": mu and log_sigma must have the same 3-d shape, got ", out.mu.sizes(), " and ",
                out.log_sigma.sizes());
    if (is_per_dim(out)) {
        TORCH_CHECK(out.mu.sizes() == out.logit_pi.sizes(), fn,
                    ": per_dim mu must be (B,D,K) like logit_pi ", out.logit_pi.sizes(), ", got ",
                    out.mu.sizes());
    } else {
        const bool ok = out.mu.size(0) == out.logit_pi.size(0) &&
                        out.mu.size(1) == out.logit_pi.size(1);
        TORCH_CHECK(ok, fn, ": diag mu must be (B,K,D) for logit_pi ", out.logit_pi.sizes(),
                    ", got ", out.mu.sizes());
    }
}

// Output dimension D of either layout.
int64_t out_dim(const MdnOutput& out) { return is_per_dim(out) ? out.mu.size(1) : out.mu.size(2); }

}  // namespace

MdnImpl::MdnImpl(MdnOptions options_) : options(std::move(options_)) { reset(); }

void MdnImpl::reset() {
    const MdnOptions& o = options;
    TORCH_CHECK(o.in_size() > 0 && o.out_size() > 0,
                "MdnOptions: in_size and out_size must be positive, got ", o.in_size(), " and ",
                o.out_size());
    TORCH_CHECK(o.num_mixtures() > 0, "MdnOptions: num_mixtures must be positive, got ",
                o.num_mixtures());
    TORCH_CHECK(o.mode() == "per_dim" || o.mode() == "diag",
                "MdnOptions: mode must be \"per_dim\" or \"diag\", got \"", o.mode(), "\"");
    TORCH_CHECK(o.log_sigma_min() < o.log_sigma_max(),
                "MdnOptions: log_sigma_min must be below log_sigma_max, got ", o.log_sigma_min(),
                " and ", o.log_sigma_max());
    for (int64_t h : o.hidden())
        TORCH_CHECK(h > 0, "MdnOptions: hidden layer widths must be positive, got ", h);

    // reset() may be called again: drop the old layers so names are not registered twice.
    for (size_t i = 0; i < hidden_layers.size(); i++) unregister_module("fc" + std::to_string(i));
    if (head) unregister_module("head");
    hidden_layers.clear();

    int64_t width = o.in_size();
    for (size_t i = 0; i < o.hidden().size(); i++) {
        hidden_layers.push_back(register_module(
            "fc" + std::to_string(i), torch::nn::Linear(width, o.hidden()[i])));
        width = o.hidden()[i];
    }
    const int64_t d = o.out_size(), k = o.num_mixtures();
    const int64_t head_size = o.mode() == "per_dim" ? 3 * d * k : k + 2 * k * d;
    head = register_module("head", torch::nn::Linear(width, head_size));
}

MdnOutput MdnImpl::forward(const torch::Tensor& x) {
    // x is (B, in_size)
    TORCH_CHECK(x.dim() == 2 && x.size(1) == options.in_size(), "Mdn::forward: x must be (B, ",
                options.in_size(), "), got ", x.sizes());
    torch::Tensor h = x;
    for (auto& layer : hidden_layers)
        h = torch::leaky_relu(layer->forward(h), options.leaky_slope());
    torch::Tensor raw = head->forward(h);  // (B, head_size)

    const int64_t b = x.size(0), d = options.out_size(), k = options.num_mixtures();
    MdnOutput out;
    torch::Tensor raw_log_sigma;
    if (options.mode() == "per_dim") {
        // Head layout: [logits | mu | raw log σ], each D·K, dimension-major: (B,3,D,K).
        torch::Tensor parts = raw.view({b, 3, d, k});
        out.logit_pi = parts.select(1, 0);
        out.mu = parts.select(1, 1);
        raw_log_sigma = parts.select(1, 2);
    } else {
        // Head layout: [K logits | K·D mu | K·D raw log σ], component-major.
        out.logit_pi = raw.narrow(1, 0, k);
        out.mu = raw.narrow(1, k, k * d).view({b, k, d});
        raw_log_sigma = raw.narrow(1, k + k * d, k * d).view({b, k, d});
    }
    // Smooth bound (see mdn.h): a clamp would zero the gradient outside the range and an
    // unbounded exp is the classic MDN NaN trap (log σ → −inf makes 1/σ overflow).
    const double c = 0.5 * (options.log_sigma_max() + options.log_sigma_min());
    const double half = 0.5 * (options.log_sigma_max() - options.log_sigma_min());
    out.log_sigma = c + half * torch::tanh((raw_log_sigma - c) / half);
    return out;
}

namespace {

// mdn_log_prob with the caller's name in the error messages.
torch::Tensor log_prob(const MdnOutput& out, const torch::Tensor& target, const char* fn) {
    check_output(out, fn);
    const int64_t b = out.mu.size(0), d = out_dim(out);
    TORCH_CHECK(target.dim() == 2 && target.size(0) == b && target.size(1) == d, fn,
                ": target must be (", b, ", ", d, "), got ", target.sizes());
    if (is_per_dim(out)) {
        // All (B,D,K). Dividing by σ = exp(log σ) is written as a product with exp(−log σ),
        // finite because log σ is bounded.
        torch::Tensor z = (target.unsqueeze(2) - out.mu) * torch::exp(-out.log_sigma);
        torch::Tensor log_n = -0.5 * z * z - out.log_sigma - kHalfLog2Pi;
        torch::Tensor log_pi = torch::log_softmax(out.logit_pi, 2);
        return torch::logsumexp(log_pi + log_n, 2).sum(1);  // (B,)
    }
    // diag: (B,K,D) densities summed over D inside the logsumexp over K.
    torch::Tensor z = (target.unsqueeze(1) - out.mu) * torch::exp(-out.log_sigma);
    torch::Tensor log_n = (-0.5 * z * z - out.log_sigma - kHalfLog2Pi).sum(2);  // (B,K)
    torch::Tensor log_pi = torch::log_softmax(out.logit_pi, 1);
    return torch::logsumexp(log_pi + log_n, 1);  // (B,)
}

}  // namespace

torch::Tensor mdn_log_prob(const MdnOutput& out, const torch::Tensor& target) {
    return log_prob(out, target, "mdn_log_prob");
}

namespace {

void check_matrix_args(const MdnOutput& out, const torch::Tensor& latents, const char* fn) {
    check_output(out, fn);
    const int64_t d = out_dim(out);
    TORCH_CHECK(latents.dim() == 2 && latents.size(1) == d, fn, ": latents must be (C, ", d, "), got ", latents.sizes());
}

// mdn_log_prob_matrix_broadcast after its argument checks.
torch::Tensor broadcast_matrix(const MdnOutput& out, const torch::Tensor& latents) {
    if (is_per_dim(out)) {
        // (B,1,D,K) against (1,C,D,1) -> (B,C,D,K)
        const torch::Tensor mu = out.mu.unsqueeze(1), log_sigma = out.log_sigma.unsqueeze(1);
        torch::Tensor z = (latents.unsqueeze(0).unsqueeze(3) - mu) * torch::exp(-log_sigma);
        torch::Tensor log_n = -0.5 * z * z - log_sigma - kHalfLog2Pi;
        torch::Tensor log_pi = torch::log_softmax(out.logit_pi, 2).unsqueeze(1);
        return torch::logsumexp(log_pi + log_n, 3).sum(2);  // (B,C)
    }
    // diag: (B,1,K,D) against (1,C,1,D) -> (B,C,K)
    const torch::Tensor mu = out.mu.unsqueeze(1), log_sigma = out.log_sigma.unsqueeze(1);
    torch::Tensor z = (latents.unsqueeze(0).unsqueeze(2) - mu) * torch::exp(-log_sigma);
    torch::Tensor log_n = (-0.5 * z * z - log_sigma - kHalfLog2Pi).sum(3);  // (B,C,K)
    torch::Tensor log_pi = torch::log_softmax(out.logit_pi, 1).unsqueeze(1);
    return torch::logsumexp(log_pi + log_n, 2);  // (B,C)
}

}  // namespace

torch::Tensor mdn_log_prob_matrix(const MdnOutput& out, const torch::Tensor& latents) {
    check_matrix_args(out, latents, "mdn_log_prob_matrix");
    if (detail::mdn_fused_log_prob_matrix_applies(out, latents))
        return detail::mdn_fused_log_prob_matrix(torch::log_softmax(out.logit_pi, 2), out.mu, out.log_sigma, latents);
    return broadcast_matrix(out, latents);
}

torch::Tensor mdn_log_prob_matrix_broadcast(const MdnOutput& out, const torch::Tensor& latents) {
    check_matrix_args(out, latents, "mdn_log_prob_matrix_broadcast");
    return broadcast_matrix(out, latents);
}

torch::Tensor mdn_nll(const MdnOutput& out, const torch::Tensor& target) {
    return -log_prob(out, target, "mdn_nll").mean();
}

torch::Tensor mdn_sample(const MdnOutput& out, double temperature, at::Generator gen,
                         bool component_mean) {
    check_output(out, "mdn_sample");
    TORCH_CHECK(temperature > 0.0, "mdn_sample: temperature must be > 0, got ", temperature);
    const torch::Device device = out.mu.device();
    // Random numbers are drawn on the generator's device, then moved next to the mixture.
    const auto rand_options =
        torch::TensorOptions().dtype(out.mu.scalar_type()).device(gen.device());

    // Gumbel-max: argmax(logits/τ + g), g = −log(−log u), is an exact draw from
    // softmax(logits/τ). Subtracting the max first keeps the argmax component at exactly 0,
    // so even a tiny τ (other scores → −inf) still picks it, never a NaN.
    torch::Tensor logits = out.logit_pi.detach();
    const int64_t kdim = logits.dim() - 1;
    torch::Tensor scaled = (logits - std::get<0>(logits.max(kdim, true))) / temperature;
    torch::Tensor u = torch::rand(logits.sizes(), gen, rand_options).to(device);
    // u = 0 would give g = −inf; the smallest normal float keeps −log(−log u) finite.
    u = u.clamp_min(std::numeric_limits<float>::min());
    torch::Tensor g = -torch::log(-torch::log(u));
    torch::Tensor k = (scaled + g).argmax(kdim, true);  // (B,D,1) per_dim, (B,1) diag

    torch::Tensor mu, log_sigma;  // (B,D)
    if (is_per_dim(out)) {
        mu = out.mu.gather(2, k).squeeze(2);
        log_sigma = out.log_sigma.gather(2, k).squeeze(2);
    } else {
        torch::Tensor idx = k.unsqueeze(2).expand({out.mu.size(0), 1, out.mu.size(2)});
        mu = out.mu.gather(1, idx).squeeze(1);
        log_sigma = out.log_sigma.gather(1, idx).squeeze(1);
    }
    if (component_mean) return mu;
    torch::Tensor eps = torch::randn(mu.sizes(), gen, rand_options).to(device);
    return mu + torch::exp(log_sigma) * std::sqrt(temperature) * eps;
}

torch::Tensor mdn_expected_value(const MdnOutput& out) {
    check_output(out, "mdn_expected_value");
    if (is_per_dim(out)) return (torch::softmax(out.logit_pi, 2) * out.mu).sum(2);  // (B,D)
    return (torch::softmax(out.logit_pi, 1).unsqueeze(2) * out.mu).sum(1);          // (B,D)
}

}  // namespace k2k
