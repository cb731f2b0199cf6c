// Ranked stroke samples: of N samples drawn for one input, the one whose rendered strokes agree
// best with the predicted modern pixels comes first (strokes_0.svg is the best guess).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace k2k {

// How well each of N rendered stroke samples agrees with the predicted pixels: the cosine
// similarity of renders (N,1,S,S) with pixels (N or 1,1,S,S) after a 3x3 box blur of both (so a
// stroke a pixel off still counts), (N,) float; 0 for an empty image.
torch::Tensor sample_agreement(const torch::Tensor& renders, const torch::Tensor& pixels);

// The sample indices by descending agreement (ties keep sample order).
std::vector<int64_t> agreement_order(const torch::Tensor& agreement);

// generate.stroke_pool: renders (B*per_item,1,S,S) hold `per_item` consecutive samples of each of B
// items; returns, item after item, the row indices of the `keep` of them that agree best with the
// item's target (B,1,S,S), best first (B*keep indices).
std::vector<int64_t> best_rows(const torch::Tensor& renders, const torch::Tensor& targets, int64_t per_item, int64_t keep);

}  // namespace k2k
