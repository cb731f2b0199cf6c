// Ranked stroke samples (see ranking.h).
#include "generate/ranking.h"

#include <algorithm>
#include <numeric>

#include <torch/torch.h>

namespace k2k {

torch::Tensor sample_agreement(const torch::Tensor& renders, const torch::Tensor& pixels) {
    TORCH_CHECK(renders.dim() == 4 && pixels.dim() == 4 && renders.size(1) == 1 && pixels.size(1) == 1 &&
                    (pixels.size(0) == 1 || pixels.size(0) == renders.size(0)) &&
                    renders.size(2) == pixels.size(2) && renders.size(3) == pixels.size(3),
                "sample_agreement needs renders (N,1,S,S) and pixels (N or 1,1,S,S), got ", renders.sizes(), " and ",
                pixels.sizes());
    namespace F = torch::nn::functional;
    const auto blur = [](const torch::Tensor& x) {
        return F::avg_pool2d(x.to(torch::kFloat32), F::AvgPool2dFuncOptions(3).stride(1).padding(1)).flatten(1);
    };
    torch::Tensor a = blur(renders), b = blur(pixels.to(renders.device())).expand({renders.size(0), -1});
    torch::Tensor norms = a.norm(2, 1) * b.norm(2, 1);
    return torch::where(norms > 0, (a * b).sum(1) / norms.clamp_min(1e-12), torch::zeros_like(norms));
}

std::vector<int64_t> agreement_order(const torch::Tensor& agreement) {
    torch::Tensor a = agreement.to(torch::kCPU, torch::kFloat64).contiguous();
    std::vector<int64_t> order(size_t(a.numel()));
    std::iota(order.begin(), order.end(), int64_t(0));
    const double* v = a.data_ptr<double>();
    std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return v[x] > v[y]; });
    return order;
}

std::vector<int64_t> best_rows(const torch::Tensor& renders, const torch::Tensor& targets, int64_t per_item, int64_t keep) {
    TORCH_CHECK(per_item > 0 && keep > 0 && keep <= per_item && renders.dim() == 4 &&
                    renders.size(0) == targets.size(0) * per_item,
                "best_rows: renders must be (B*", per_item, ",1,S,S) for ", targets.size(0), " targets and keep in [1, ",
                per_item, "], got ", renders.sizes(), " and keep ", keep);
    std::vector<int64_t> rows;
    for (int64_t i = 0; i < targets.size(0); ++i) {
        const std::vector<int64_t> order = agreement_order(
            sample_agreement(renders.slice(0, i * per_item, (i + 1) * per_item), targets.slice(0, i, i + 1)));
        for (int64_t k = 0; k < keep; ++k) rows.push_back(i * per_item + order[size_t(k)]);
    }
    return rows;
}

}  // namespace k2k
