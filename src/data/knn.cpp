// k-NN by blocks: |q - r|^2 = |q|^2 - 2 q.r + |r|^2 with q.r from one float GEMM per block. The
// float products are not exact for 784 pixels of 255 (sums pass 2^24), so each query keeps a few
// more candidates than k and those are re-ranked by exact integer distances: the result is the
// exact k-NN, and the GEMM keeps it at seconds for KMNIST (10,000 x 60,000 x 784).
#include "data/knn.h"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <map>

#include "util/error.h"

namespace k2k {

namespace {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr int kExtraCandidates = 16;  // kept beyond k per query before the exact re-ranking

Matrix to_float(const LabelledImages& images, int64_t begin, int64_t end) {
    const int64_t d = images.height * images.width;
    Matrix m(end - begin, d);
    for (int64_t i = begin; i < end; ++i) {
        const uint8_t* p = images.image(i);
        for (int64_t j = 0; j < d; ++j) m(i - begin, j) = float(p[j]);
    }
    return m;
}

int64_t exact_distance(const uint8_t* a, const uint8_t* b, int64_t d) {
    int64_t sum = 0;
    for (int64_t j = 0; j < d; ++j) {
        const int64_t diff = int64_t(a[j]) - int64_t(b[j]);
        sum += diff * diff;
    }
    return sum;
}

// nearest_neighbours with each neighbour's exact squared distance: (Q, k) pairs (distance, index).
std::vector<std::pair<int64_t, int64_t>> neighbours_and_distances(const LabelledImages& reference, const LabelledImages& queries,
                                                                  const KnnOptions& options) {
    if (reference.height != queries.height || reference.width != queries.width)
        throw Error("k-NN: reference images are " + std::to_string(reference.height) + "x" + std::to_string(reference.width) +
                    ", queries " + std::to_string(queries.height) + "x" + std::to_string(queries.width));
    const int64_t k = options.k;
    if (k < 1 || reference.size() < k)
        throw Error("k-NN: k = " + std::to_string(k) + " needs at least that many reference images (have " +
                    std::to_string(reference.size()) + ")");
    const int64_t d = reference.height * reference.width, r = reference.size(), q = queries.size();
    const int64_t keep = std::min<int64_t>(r, k + kExtraCandidates);
    const Matrix ref = to_float(reference, 0, r);                   // (R,D)
    const Eigen::VectorXf ref_norm = ref.rowwise().squaredNorm();   // (R,)
    std::vector<std::pair<int64_t, int64_t>> out(size_t(q * k));
    std::vector<std::pair<float, int64_t>> row(static_cast<size_t>(r));
    std::vector<std::pair<int64_t, int64_t>> exact(static_cast<size_t>(keep));
    const int64_t block = std::max<int64_t>(1, options.query_block);
    for (int64_t begin = 0; begin < q; begin += block) {
        const int64_t end = std::min(q, begin + block);
        const Matrix qb = to_float(queries, begin, end);  // (B,D)
        Matrix dots(end - begin, r);                      // (B,R)
        dots.noalias() = qb * ref.transpose();
        for (int64_t i = begin; i < end; ++i) {
            // |q|^2 is the same for every reference of a query: left out of the ranking.
            for (int64_t j = 0; j < r; ++j) row[size_t(j)] = {ref_norm[j] - 2.0f * dots(i - begin, j), j};
            std::partial_sort(row.begin(), row.begin() + keep, row.end());
            for (int64_t c = 0; c < keep; ++c) {
                const int64_t j = row[size_t(c)].second;
                exact[size_t(c)] = {exact_distance(queries.image(i), reference.image(j), d), j};
            }
            std::sort(exact.begin(), exact.end());
            for (int64_t c = 0; c < k; ++c) out[size_t(i * k + c)] = exact[size_t(c)];
        }
    }
    return out;
}

}  // namespace

std::vector<int64_t> nearest_neighbours(const LabelledImages& reference, const LabelledImages& queries, const KnnOptions& options) {
    std::vector<int64_t> out;
    for (const auto& [distance, index] : neighbours_and_distances(reference, queries, options)) out.push_back(index);
    return out;
}

std::vector<int32_t> knn_classify(const LabelledImages& reference, const LabelledImages& queries, const KnnOptions& options) {
    const std::vector<std::pair<int64_t, int64_t>> neighbours = neighbours_and_distances(reference, queries, options);
    const int64_t k = options.k;
    std::vector<int32_t> predicted(size_t(queries.size()));
    for (int64_t i = 0; i < queries.size(); ++i) {
        const std::pair<int64_t, int64_t>* nn = neighbours.data() + i * k;  // nearest first
        std::map<int32_t, double> votes;
        std::map<int32_t, int64_t> first;  // rank of the class's nearest neighbour
        // sklearn: with an exact match the zero-distance neighbours share the vote, the others get none.
        const bool exact_match = options.distance_weights && nn[0].first == 0;
        for (int64_t c = 0; c < k; ++c) {
            double weight = 1.0;
            if (exact_match) weight = nn[c].first == 0;
            else if (options.distance_weights) weight = 1.0 / std::sqrt(double(nn[c].first));
            const int32_t y = reference.labels[size_t(nn[c].second)];
            votes[y] += weight;
            first.emplace(y, c);
        }
        int32_t best = -1;
        for (const auto& [y, v] : votes)
            if (best < 0 || v > votes[best] || (v == votes[best] && first[y] < first[best])) best = y;
        predicted[size_t(i)] = best;
    }
    return predicted;
}

}  // namespace k2k
