// Tests for generate/candidates.h: the MDN's ranking of every candidate character.
#include "generate/candidates.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace k2k {
namespace {

// A per-dim mixture of one component per dimension centred on `centre`, sigma 1.
MdnOutput unit_mixture(const std::vector<float>& centre, int64_t batch) {
    const int64_t d = int64_t(centre.size());
    torch::Tensor mu = torch::tensor(centre).view({1, d, 1}).repeat({batch, 1, 1});
    return {torch::zeros({batch, d, 1}), mu, torch::zeros({batch, d, 1})};
}

TEST(Candidates, LogLikelihoodIsTheMixtureDensityOfEachLatent) {
    MdnOutput mix = unit_mixture({0.0f, 1.0f}, 2);
    torch::Tensor latents = torch::tensor({0.0f, 1.0f, 1.0f, 1.0f, 3.0f, -1.0f}).view({3, 2});
    torch::Tensor ll = candidate_log_likelihood(mix, latents);  // (2,3)
    ASSERT_EQ(ll.sizes(), (std::vector<int64_t>{2, 3}));
    const double log2pi = std::log(2.0 * M_PI);
    EXPECT_NEAR(ll[0][0].item<double>(), -log2pi, 1e-5);                  // at the mean
    EXPECT_NEAR(ll[1][1].item<double>(), -log2pi - 0.5, 1e-5);            // one sigma off in one dim
    EXPECT_NEAR(ll[0][2].item<double>(), -log2pi - 0.5 * (9 + 4), 1e-5);  // (3, -2) away
}

TEST(Candidates, ChunkingDoesNotChangeTheResult) {
    torch::manual_seed(3);
    const int64_t b = 3, d = 4, k = 2, c = 5000;  // c large enough for several chunks
    MdnOutput mix{torch::randn({b, d, k}), torch::randn({b, d, k}), torch::randn({b, d, k}).mul(0.1)};
    torch::Tensor latents = torch::randn({c, d});
    torch::Tensor ll = candidate_log_likelihood(mix, latents);
    for (int64_t i = 0; i < b; ++i) {
        MdnOutput one{mix.logit_pi.slice(0, i, i + 1).expand({c, d, k}), mix.mu.slice(0, i, i + 1).expand({c, d, k}),
                      mix.log_sigma.slice(0, i, i + 1).expand({c, d, k})};
        EXPECT_TRUE(torch::allclose(ll[i], mdn_log_prob(one, latents), 1e-5, 1e-5));
    }
}

TEST(Candidates, TopCandidatesAreRankedWithSoftmaxProbabilities) {
    CandidateSet set;
    set.codepoints = {0x4E00, 0x4E0A, 0x4E0B};
    torch::Tensor ll = torch::tensor({-3.0, -1.0, -2.0}).view({1, 3});
    std::vector<std::vector<Candidate>> top = top_candidates(ll, set, 2, 1.0);
    ASSERT_EQ(top.size(), 1u);
    ASSERT_EQ(top[0].size(), 2u);
    EXPECT_EQ(top[0][0].codepoint, 0x4E0Au);
    EXPECT_EQ(top[0][1].codepoint, 0x4E0Bu);
    const double z = std::exp(-3.0) + std::exp(-1.0) + std::exp(-2.0);
    EXPECT_NEAR(top[0][0].probability, std::exp(-1.0) / z, 1e-12);
    EXPECT_DOUBLE_EQ(top[0][0].log_likelihood, -1.0);
    // A higher temperature flattens the probabilities but keeps the order.
    std::vector<std::vector<Candidate>> flat = top_candidates(ll, set, 3, 100.0);
    EXPECT_EQ(flat[0][0].codepoint, 0x4E0Au);
    EXPECT_LT(flat[0][0].probability, top[0][0].probability);
    EXPECT_GT(flat[0][2].probability, 0.3);
    EXPECT_EQ(candidates_text(top[0]), "U+4E0A:0.665;U+4E0B:0.245");  // 0.66524, 0.24473 rounded
    EXPECT_THROW(top_candidates(ll, set, 2, 0.0), c10::Error);
}

TEST(Candidates, PicksCycleThroughTheBestCandidatesOfEachInput) {
    // Row 0 ranks candidates 1 > 2 > 0, row 1 ranks 0 > 2 > 1.
    torch::Tensor ll = torch::tensor({-3.0, -1.0, -2.0, -0.5, -9.0, -4.0}).view({2, 3});
    torch::Tensor best = candidate_picks(ll, 3, 1);  // every draw from the best
    ASSERT_EQ(best.sizes(), (std::vector<int64_t>{6}));
    EXPECT_TRUE(torch::equal(best, torch::tensor({1, 1, 1, 0, 0, 0}, torch::kInt64)));
    torch::Tensor two = candidate_picks(ll, 3, 2);  // draw k from the (k mod 2)-th best
    EXPECT_TRUE(torch::equal(two, torch::tensor({1, 2, 1, 0, 2, 0}, torch::kInt64)));
    torch::Tensor all = candidate_picks(ll, 4, 10);  // top beyond C: cycles through all C
    EXPECT_TRUE(torch::equal(all, torch::tensor({1, 2, 0, 1, 0, 2, 1, 0}, torch::kInt64)));
    EXPECT_THROW(candidate_picks(ll, 0, 1), c10::Error);
}

TEST(Candidates, ConditioningTakesThePickedLatentsAndRasters) {
    CandidateSet set;
    set.codepoints = {0x4E00, 0x4E0A};
    set.latents = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}).view({2, 2});
    set.rasters = torch::zeros({2, 1, 64, 64}, torch::kUInt8);
    set.rasters[1][0][5][7] = 255;
    set.rasters[0][0][1][1] = 51;
    CandidateConditioning c = candidate_conditioning(set, torch::tensor({1, 0, 1}, torch::kInt64), nullptr, torch::kCPU);
    ASSERT_EQ(c.z_pixels.sizes(), (std::vector<int64_t>{3, 2}));
    EXPECT_TRUE(torch::equal(c.z_pixels, torch::tensor({3.0f, 4.0f, 1.0f, 2.0f, 3.0f, 4.0f}).view({3, 2})));
    EXPECT_TRUE(torch::equal(c.z_sketch, c.z_pixels));  // no sketch encoder: the latents themselves
    ASSERT_EQ(c.ink.sizes(), (std::vector<int64_t>{3, 1, 64, 64}));
    EXPECT_FLOAT_EQ(c.ink[0][0][5][7].item<float>(), 1.0f);
    EXPECT_FLOAT_EQ(c.ink[1][0][1][1].item<float>(), 0.2f);
    EXPECT_FLOAT_EQ(c.ink.sum().item<float>(), 2.2f);
}

}  // namespace
}  // namespace k2k
