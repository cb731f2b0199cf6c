// Exact k-nearest-neighbour classification on raw pixels (the seed paper's 4-NN baseline): all
// query-to-reference distances as one matrix product per block of queries (Eigen, BLAS when built
// with it), the candidates then re-ranked by exact integer distances.
#pragma once

#include <cstdint>
#include <vector>

#include "data/labelled_images.h"

namespace k2k {

struct KnnOptions {
    int k = 4;                      // neighbours that vote (seed paper: 4)
    bool distance_weights = true;   // votes weighted by 1/distance (the KMNIST benchmark's sklearn
                                    // weights='distance'; an exact match takes the vote alone), else 1 each
    int64_t query_block = 512;      // queries per matrix product (memory: block x references floats)
};

// The k nearest reference images of each query by Euclidean distance on the 8-bit pixels, nearest
// first (ties by lower reference index). Returns (Q, k) reference indices, row-major. Throws
// k2k::Error when the image sizes differ or there are fewer than k references.
std::vector<int64_t> nearest_neighbours(const LabelledImages& reference, const LabelledImages& queries, const KnnOptions& options);

// The predicted class of each query: the class with the largest vote among its neighbours (ties:
// the class of the nearest neighbour among the tied ones).
std::vector<int32_t> knn_classify(const LabelledImages& reference, const LabelledImages& queries, const KnnOptions& options);

}  // namespace k2k
