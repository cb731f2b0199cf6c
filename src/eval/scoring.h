// Scoring maths of `k2k eval` as pure functions: ink IoU, top-k hits, the vote over an item's
// samples, k-NN search and ranking, and the tally of per-item scores behind transfer's T.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

namespace k2k {

// Intersection over union of the ink of a and b, both (B,1,H,W) in [0,1]: ink is value > threshold.
// Returns (B,) float; 1 where neither image has ink (nothing to get wrong).
torch::Tensor ink_iou(const torch::Tensor& a, const torch::Tensor& b, double threshold = 0.5);

// scores (B,C), target (B,) int64 -> (B,) bool: the target is among the k highest scores (k is
// clipped to C; ties as torch::topk breaks them).
torch::Tensor topk_hits(const torch::Tensor& scores, const torch::Tensor& target, int64_t k);

// The vote ranking of one item's N samples, probs (N,C) on any device: classes ordered by how many
// samples put them first (descending), then by their summed probability (descending); the
// first min(k, C) classes.
std::vector<int64_t> vote_ranking(const torch::Tensor& probs, int64_t k);

// How the reader did on one item's N samples (probs (N,C), one row of class probabilities each).
struct SampleScores {
    double top1 = 0;          // fraction of the samples whose top-1 is the target
    double top5 = 0;          // fraction of the samples whose top-5 holds the target
    bool best1 = false;       // best-of-N: some sample's top-1 is the target
    bool best5 = false;       // some sample's top-5 holds the target
    bool vote1 = false;       // majority vote (vote_ranking's first class) is the target
    bool vote5 = false;       // the target is among vote_ranking's first 5
    int64_t vote = -1;        // the voted class
    double target_prob = 0;   // mean probability of the target over the samples
    bool first1 = false;      // the first-ranked sample's top-1 is the target (first >= 0 only)
    bool first5 = false;      // its top-5 holds the target
};
// probs (N,C), target a class index (out of range: every score is a miss; vote is still set);
// first: the sample ranked first by the caller (sample_agreement), or -1 for none.
SampleScores score_samples(const torch::Tensor& probs, int64_t target, int64_t first = -1);


// Sums of SampleScores over the items of one transfer part (pixels or strokes).
struct ScoreTally {
    double per_sample_top1 = 0, per_sample_top5 = 0;  // sums of SampleScores::top1 / top5
    double best_top1 = 0, best_top5 = 0;              // items with best1 / best5
    double vote_top1 = 0, vote_top5 = 0;              // items with vote1 / vote5
    double first_top1 = 0, first_top5 = 0;            // items with first1 / first5
    int64_t items = 0;                                // items added
    void add(const SampleScores& scores);
    // T = {per_sample: {top1, top5}, best_of_n: {top1, top5}, vote: {top1, top5}, first_ranked:
    // {top1, top5}}: the means over
    // the items (the sums themselves when there are none, i.e. zeros).
    nlohmann::json to_json() const;
};

// The k nearest reference rows of each query by Euclidean distance: reference (R,D), queries (Q,D),
// float, same device. Returns (Q,min(k,R)) int64 indices into reference, nearest first. The
// distance matrix is built in chunks of reference rows, so R can be large.
torch::Tensor nearest_neighbours(const torch::Tensor& reference, const torch::Tensor& queries, int64_t k);

// Class ranking of one query from its neighbours' labels, nearest first: classes by number of
// neighbours (descending), ties to the class whose nearest neighbour is closer. k-NN's top-1 is
// the first; with k = 4 there are at most 4 classes, so top-5 = "some neighbour has the class".
std::vector<int64_t> knn_ranking(const std::vector<int64_t>& neighbour_labels);

}  // namespace k2k
