// Scoring maths of `k2k eval`: ink IoU, top-k hits, vote ranking, per-item sample scores and their
// tally, chunked nearest-neighbour search and the k-NN class ranking.
#include "eval/scoring.h"

#include <algorithm>
#include <tuple>

#include <torch/torch.h>

namespace k2k {

// a, b (B,C,H,W) -> (B,) float
torch::Tensor ink_iou(const torch::Tensor& a, const torch::Tensor& b, double threshold) {
    TORCH_CHECK(a.dim() == 4 && a.sizes() == b.sizes(), "ink_iou needs two (B,C,H,W) tensors of the same shape, got ",
                a.sizes(), " and ", b.sizes());
    torch::Tensor ink_a = a.gt(threshold).flatten(1), ink_b = b.gt(threshold).flatten(1);  // (B,C*H*W)
    torch::Tensor intersection = ink_a.logical_and(ink_b).sum(1).to(torch::kFloat32);     // (B,)
    torch::Tensor union_ = ink_a.logical_or(ink_b).sum(1).to(torch::kFloat32);            // (B,)
    return torch::where(union_.gt(0), intersection / union_.clamp_min(1), torch::ones_like(union_));
}

// scores (B,C), target (B,) -> (B,) bool
torch::Tensor topk_hits(const torch::Tensor& scores, const torch::Tensor& target, int64_t k) {
    TORCH_CHECK(scores.dim() == 2 && target.dim() == 1 && target.size(0) == scores.size(0),
                "topk_hits needs scores (B,C) and target (B,), got ", scores.sizes(), " and ", target.sizes());
    TORCH_CHECK(k >= 1, "topk_hits needs k >= 1");
    torch::Tensor top = std::get<1>(scores.topk(std::min(k, scores.size(1)), 1));  // (B,k)
    return top.eq(target.to(top.device()).unsqueeze(1)).any(1);
}

// probs (N,C) -> the first min(k, C) class indices
std::vector<int64_t> vote_ranking(const torch::Tensor& probs, int64_t k) {
    TORCH_CHECK(probs.dim() == 2 && probs.size(0) >= 1, "vote_ranking needs probs (N,C) with N >= 1, got ", probs.sizes());
    torch::Tensor p = probs.to(torch::kCPU, torch::kFloat64).contiguous();
    const int64_t samples = p.size(0), classes = p.size(1);
    torch::Tensor summed = p.sum(0);  // (C,)
    torch::Tensor votes = torch::zeros({classes}, torch::kFloat64)
                              .index_add_(0, p.argmax(1), torch::ones({samples}, torch::kFloat64));  // (C,)
    // Votes dominate: a sum of N probabilities is at most N, so votes * (N + 1) + sum orders by
    // votes first, then by summed probability.
    torch::Tensor key = votes * double(samples + 1) + summed;
    torch::Tensor order = std::get<1>(key.topk(std::min(k, classes)));
    return std::vector<int64_t>(order.data_ptr<int64_t>(), order.data_ptr<int64_t>() + order.numel());
}

// probs (N,C)
SampleScores score_samples(const torch::Tensor& probs, int64_t target, int64_t first) {
    TORCH_CHECK(probs.dim() == 2 && probs.size(0) >= 1, "score_samples needs probs (N,C) with N >= 1, got ", probs.sizes());
    SampleScores scores;
    std::vector<int64_t> ranking = vote_ranking(probs, 5);
    scores.vote = ranking[0];
    if (target < 0 || target >= probs.size(1)) return scores;  // a class the reader does not know: all misses
    torch::Tensor p = probs.to(torch::kCPU, torch::kFloat64);
    torch::Tensor targets = torch::full({p.size(0)}, target, torch::kInt64);  // (N,)
    torch::Tensor hit1 = topk_hits(p, targets, 1), hit5 = topk_hits(p, targets, 5);  // (N,) each
    scores.top1 = hit1.to(torch::kFloat64).mean().item<double>();
    scores.top5 = hit5.to(torch::kFloat64).mean().item<double>();
    scores.best1 = hit1.any().item<bool>();
    scores.best5 = hit5.any().item<bool>();
    scores.vote1 = ranking[0] == target;
    scores.vote5 = std::find(ranking.begin(), ranking.end(), target) != ranking.end();
    scores.target_prob = p.select(1, target).mean().item<double>();
    if (first >= 0 && first < p.size(0)) {
        scores.first1 = hit1[first].item<bool>();
        scores.first5 = hit5[first].item<bool>();
    }
    return scores;
}

void ScoreTally::add(const SampleScores& scores) {
    per_sample_top1 += scores.top1;
    per_sample_top5 += scores.top5;
    best_top1 += scores.best1;
    best_top5 += scores.best5;
    vote_top1 += scores.vote1;
    vote_top5 += scores.vote5;
    first_top1 += scores.first1;
    first_top5 += scores.first5;
    ++items;
}

nlohmann::json ScoreTally::to_json() const {
    const double count = items > 0 ? double(items) : 1.0;
    return {{"per_sample", {{"top1", per_sample_top1 / count}, {"top5", per_sample_top5 / count}}},
            {"best_of_n", {{"top1", best_top1 / count}, {"top5", best_top5 / count}}},
            {"vote", {{"top1", vote_top1 / count}, {"top5", vote_top5 / count}}},
            {"first_ranked", {{"top1", first_top1 / count}, {"top5", first_top5 / count}}}};
}

// reference (R,D), queries (Q,D) -> (Q,min(k,R)) int64
torch::Tensor nearest_neighbours(const torch::Tensor& reference, const torch::Tensor& queries, int64_t k) {
    TORCH_CHECK(reference.dim() == 2 && queries.dim() == 2 && reference.size(1) == queries.size(1),
                "nearest_neighbours needs reference (R,D) and queries (Q,D), got ", reference.sizes(), " and ",
                queries.sizes());
    TORCH_CHECK(k >= 1 && reference.size(0) >= 1, "nearest_neighbours needs k >= 1 and a non-empty reference");
    const int64_t rows = reference.size(0), kept = std::min(k, rows);
    torch::Tensor q = queries.to(torch::kFloat32);
    torch::Tensor q_norm = q.pow(2).sum(1, true);  // (Q,1)
    torch::Tensor best_dist, best_index;           // (Q,kept) running nearest
    const int64_t chunk = 4096;
    for (int64_t start = 0; start < rows; start += chunk) {
        torch::Tensor ref = reference.slice(0, start, std::min(rows, start + chunk)).to(q.device(), torch::kFloat32);
        // |q - r|^2 = |q|^2 - 2 q.r + |r|^2, clamped at 0 against rounding.
        torch::Tensor dist = (q_norm - 2.0 * q.matmul(ref.t()) + ref.pow(2).sum(1).unsqueeze(0)).clamp_min(0);
        auto part = dist.topk(std::min(kept, ref.size(0)), 1, /*largest=*/false);
        torch::Tensor part_dist = std::get<0>(part), part_index = std::get<1>(part) + start;
        if (!best_dist.defined()) {
            best_dist = part_dist;
            best_index = part_index;
        } else {
            torch::Tensor all_dist = torch::cat({best_dist, part_dist}, 1);
            torch::Tensor all_index = torch::cat({best_index, part_index}, 1);
            auto merged = all_dist.topk(kept, 1, /*largest=*/false);
            best_dist = std::get<0>(merged);
            best_index = all_index.gather(1, std::get<1>(merged));
        }
    }
    // topk(largest=false) returns ascending distances, so column 0 is the nearest.
    return best_index;
}

std::vector<int64_t> knn_ranking(const std::vector<int64_t>& neighbour_labels) {
    std::vector<int64_t> classes;
    std::vector<int> counts;
    for (int64_t label : neighbour_labels) {  // in neighbour order: first appearance = rank of its nearest neighbour
        auto it = std::find(classes.begin(), classes.end(), label);
        if (it == classes.end()) {
            classes.push_back(label);
            counts.push_back(1);
        } else {
            counts[size_t(it - classes.begin())]++;
        }
    }
    std::vector<size_t> order(classes.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return counts[a] > counts[b]; });
    std::vector<int64_t> ranking;
    for (size_t i : order) ranking.push_back(classes[i]);
    return ranking;
}

}  // namespace k2k
