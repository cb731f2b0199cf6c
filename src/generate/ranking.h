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

}  // namespace k2k
