// The model's own candidate list (see candidates.h).
#include "generate/candidates.h"

#include <algorithm>
#include <cstdio>

#include <torch/torch.h>

#include "data/kanjivg.h"
#include "data/selection.h"
#include "run/batches.h"
#include "util/error.h"

namespace k2k {

CandidateSet make_candidate_set(ConvVae& vae_new, const Dataset& ds, torch::Device device) {
    const std::vector<size_t> entries = reader_class_entries(ds);
    if (entries.empty()) throw Error("candidates: the dataset cache holds no KanjiVG character");
    if (ds.meta.raster.size != 64)
        throw Error("candidates: the cache's rasters are " + std::to_string(ds.meta.raster.size) + " px, expected 64");
    CandidateSet set;
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> parts, rasters;
    for (const std::vector<size_t>& batch : eval_batches(entries, 512, entries.size())) {
        torch::Tensor x = modern_images(ds, batch, nullptr, 64, 64, device);  // (b,1,64,64) in [0,1]
        parts.push_back(vae_new->encode(x).first);                           // (b,z)
        rasters.push_back(x.mul(255.0).round_().to(torch::kCPU, torch::kUInt8));
        for (size_t e : batch) set.codepoints.push_back(ds.modern_codepoint(e));
    }
    set.latents = torch::cat(parts, 0);  // (C,z)
    set.rasters = torch::cat(rasters, 0);  // (C,1,64,64)
    return set;
}

torch::Tensor candidate_log_likelihood(const MdnOutput& mixture, const torch::Tensor& latents) {
    TORCH_CHECK(latents.dim() == 2, "candidate_log_likelihood: latents must be (C,D), got ", latents.sizes());
    const int64_t batch = mixture.mu.size(0), count = latents.size(0);
    const int64_t per_row = mixture.mu.numel() / batch;  // D*K floats per input and tensor
    const int64_t chunk = std::max<int64_t>(1, (int64_t(1) << 25) / std::max<int64_t>(1, batch * per_row * 3));
    torch::Tensor z = latents.to(mixture.mu.device(), mixture.mu.scalar_type());
    std::vector<torch::Tensor> parts;
    for (int64_t start = 0; start < count; start += chunk) {
        const int64_t n = std::min(count, start + chunk) - start;
        parts.push_back(mdn_log_prob_matrix(mixture, z.slice(0, start, start + n)));  // (B,n)
    }
    return torch::cat(parts, 1);  // (B,C)
}

std::vector<std::vector<Candidate>> top_candidates(const torch::Tensor& log_likelihood, const CandidateSet& set,
                                                   int64_t top, double temperature) {
    TORCH_CHECK(temperature > 0, "top_candidates: temperature must be > 0, got ", temperature);
    TORCH_CHECK(log_likelihood.dim() == 2 && log_likelihood.size(1) == int64_t(set.codepoints.size()),
                "top_candidates: log_likelihood must be (B,", set.codepoints.size(), "), got ", log_likelihood.sizes());
    torch::Tensor ll = log_likelihood.to(torch::kCPU, torch::kFloat64);
    torch::Tensor probs = torch::softmax(ll / temperature, 1);  // (B,C)
    const int64_t k = std::min<int64_t>(top, ll.size(1));
    torch::Tensor order = std::get<1>(ll.topk(k, 1));  // (B,k), best first
    std::vector<std::vector<Candidate>> out(size_t(ll.size(0)));
    for (int64_t b = 0; b < ll.size(0); ++b)
        for (int64_t j = 0; j < k; ++j) {
            const int64_t c = order[b][j].item<int64_t>();
            out[size_t(b)].push_back({set.codepoints[size_t(c)], ll[b][c].item<double>(), probs[b][c].item<double>()});
        }
    return out;
}

torch::Tensor candidate_picks(const torch::Tensor& log_likelihood, int64_t samples, int64_t top) {
    TORCH_CHECK(log_likelihood.dim() == 2 && log_likelihood.size(1) > 0, "candidate_picks: log_likelihood must be (B,C), got ",
                log_likelihood.sizes());
    TORCH_CHECK(samples > 0 && top > 0, "candidate_picks: samples and top must be > 0, got ", samples, ", ", top);
    const int64_t k = std::min(top, log_likelihood.size(1));
    torch::Tensor order = std::get<1>(log_likelihood.to(torch::kCPU).topk(k, 1));  // (B,k), best first
    torch::Tensor rank = torch::arange(samples, torch::kInt64).remainder(k);     // (N,)
    return order.index_select(1, rank).reshape({-1}).contiguous();               // (B*N,)
}

CandidateConditioning candidate_conditioning(const CandidateSet& set, const torch::Tensor& picks,
                                             ConvVae* sketch_encoder, torch::Device device) {
    torch::NoGradGuard no_grad;
    CandidateConditioning c;
    const torch::Tensor cpu_picks = picks.to(torch::kCPU, torch::kInt64);
    c.z_pixels = set.latents.index_select(0, cpu_picks.to(set.latents.device())).to(device);
    c.ink = set.rasters.index_select(0, cpu_picks).to(device, torch::kFloat32).div_(255.0);
    c.z_sketch = sketch_encoder && *sketch_encoder ? (*sketch_encoder)->encode(c.ink).first : c.z_pixels;
    return c;
}

std::string candidates_text(const std::vector<Candidate>& candidates) {
    std::string out;
    char prob[32];
    for (size_t i = 0; i < candidates.size(); ++i) {
        std::snprintf(prob, sizeof prob, "%.3f", candidates[i].probability);
        out += (i ? ";" : "") + codepoint_label(candidates[i].codepoint) + ":" + prob;
    }
    return out;
}

}  // namespace k2k
