// Tests for the Sketch-RNN losses and schedules (src/models/sketch_loss.h): layouts and shapes,
// PyTorch golden values and gradients, finite differences, extreme inputs, masking, KL, schedules.
#include "models/sketch_loss.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "test_support.h"
#include "torch_test_support.h"

namespace k2k {
namespace {

using nlohmann::json;

bool all_finite(const torch::Tensor& t) {
    return torch::isfinite(t).all().item<bool>();
}

// Stroke-5 targets (B,T,5): sketch b has lengths[b] points, then end padding.
torch::Tensor make_target(const std::vector<int64_t>& lengths, int64_t steps, torch::Dtype dtype) {
    const int64_t b = int64_t(lengths.size());
    torch::Tensor t = torch::zeros({b, steps, 5}, torch::TensorOptions().dtype(dtype));
    t.narrow(2, 0, 2).copy_(torch::randn({b, steps, 2}));
    for (int64_t i = 0; i < b; i++)
        for (int64_t s = 0; s < steps; s++)
            t[i][s][s < lengths[size_t(i)] ? 2 + (s % 3 == 2 ? 1 : 0) : 4] = 1.0;
    return t;
}

TEST(SketchLoss, OutputSizeAndSplitShapes) {
    EXPECT_EQ(sketch_output_size("bivariate", 20), 123);
    EXPECT_EQ(sketch_output_size("per_axis", 50), 303);
    EXPECT_EQ(test::check_message([] { sketch_output_size("gmm", 20); }),
              "sketch_output_size: output must be \"bivariate\" or \"per_axis\", got \"gmm\"");
    EXPECT_EQ(test::check_message([] { sketch_output_size("bivariate", 0); }),
              "sketch_output_size: num_mixtures must be positive, got 0");

    torch::Tensor raw = torch::randn({2, 3, 3 + 6 * 4});
    BivariateMixture b = split_bivariate(raw, 4);
    EXPECT_EQ(b.pen_logits.sizes(), torch::IntArrayRef({2, 3, 3}));
    for (const torch::Tensor* t : {&b.log_pi, &b.mu_x, &b.mu_y, &b.log_sigma_x, &b.log_sigma_y, &b.rho}) {
        EXPECT_EQ(t->sizes(), torch::IntArrayRef({2, 3, 4}));
        EXPECT_EQ(t->dtype(), torch::kFloat32);
    }
    // Layout: μx is columns 3+M .. 3+2M−1, log π sums to one in probability.
    EXPECT_TRUE(torch::equal(b.mu_x, raw.narrow(2, 7, 4)));
    EXPECT_NEAR(b.log_pi.exp().sum(-1).sub(1).abs().max().item<double>(), 0.0, 1e-6);
    EXPECT_EQ(bivariate_log_density(b, torch::zeros({2, 3}), torch::zeros({2, 3})).sizes(),
              torch::IntArrayRef({2, 3}));

    PerAxisMixture p = split_per_axis(raw.to(torch::kFloat64), 4);
    EXPECT_EQ(p.pen_logits.sizes(), torch::IntArrayRef({2, 3, 3}));
    for (const torch::Tensor* t : {&p.log_pi, &p.mu, &p.log_sigma}) {
        EXPECT_EQ(t->sizes(), torch::IntArrayRef({2, 3, 2, 4}));
        EXPECT_EQ(t->dtype(), torch::kFloat64);
    }
    // per-axis layout: y's μ block starts at 3 + 3M + M.
    EXPECT_TRUE(torch::equal(p.mu.select(2, 1), raw.to(torch::kFloat64).narrow(2, 3 + 12 + 4, 4)));
    EXPECT_EQ(
        per_axis_log_density(p, torch::zeros({2, 3}, torch::kFloat64), torch::zeros({2, 3}, torch::kFloat64))
            .sizes(),
        torch::IntArrayRef({2, 3}));

    EXPECT_EQ(test::check_message([&] { split_bivariate(raw, 5); }),
              "split_bivariate: raw must be (..., 33) for 5 mixtures, got [2, 3, 27]");
}

TEST(SketchLoss, ReconstructionLossShapesAndErrors) {
    for (const std::string output : {"bivariate", "per_axis"}) {
        torch::Tensor raw = torch::randn({2, 5, 3 + 6 * 3}, torch::kFloat64);
        ReconstructionLoss l = reconstruction_loss(raw, make_target({5, 2}, 5, torch::kFloat64), output, 3);
        EXPECT_EQ(l.ls.dim(), 0);
        EXPECT_EQ(l.lp.dim(), 0);
        EXPECT_EQ(l.lr.dtype(), torch::kFloat64);
        EXPECT_DOUBLE_EQ(l.lr.item<double>(), l.ls.item<double>() + l.lp.item<double>());
        EXPECT_GT(l.lp.item<double>(), 0.0);
    }
    torch::Tensor raw = torch::randn({2, 5, 21});
    EXPECT_EQ(test::check_message([&] {
                  reconstruction_loss(raw, torch::zeros({2, 4, 5}), "bivariate", 3);
              }),
              "reconstruction_loss: target must be (2, 5, 5), got [2, 4, 5]");
    EXPECT_EQ(test::check_message([&] {
                  reconstruction_loss(raw, torch::zeros({2, 5, 5}), "bivariate", 4);
              }),
              "reconstruction_loss: raw must be (B, T, 27), got [2, 5, 21]");
}

// Golden values from tests/golden/gen_sketch_loss.py (magenta's probability-space formula and
// kanji2kanji's per-axis formula, float64). Tolerance 1e-10 absolute on losses and gradients.
TEST(SketchLoss, MatchesPyTorchGolden) {
    std::ifstream in(test::fixtures_dir() + "/golden/sketch_loss.json");
    ASSERT_TRUE(in.good()) << "missing tests/fixtures/golden/sketch_loss.json";
    json g;
    in >> g;
    const int64_t b = g["B"], t = g["T"], m = g["M"];
    torch::Tensor raw0 =
        torch::tensor(g["raw"].get<std::vector<double>>(), torch::kFloat64).view({b, t, 3 + 6 * m});
    torch::Tensor target =
        torch::tensor(g["target"].get<std::vector<double>>(), torch::kFloat64).view({b, t, 5});
    for (const std::string output : {"bivariate", "per_axis"}) {
        SCOPED_TRACE(output);
        torch::Tensor raw = raw0.clone().requires_grad_();
        ReconstructionLoss l = reconstruction_loss(raw, target, output, m);
        l.lr.backward();
        const json& want = g[output];
        EXPECT_NEAR(l.ls.item<double>(), want["ls"].get<double>(), 1e-10);
        EXPECT_NEAR(l.lp.item<double>(), want["lp"].get<double>(), 1e-10);
        EXPECT_NEAR(l.lr.item<double>(), want["lr"].get<double>(), 1e-10);
        torch::Tensor grad =
            torch::tensor(want["grad_raw"].get<std::vector<double>>(), torch::kFloat64).view(raw.sizes());
        EXPECT_LT((raw.grad() - grad).abs().max().item<double>(), 1e-10);
    }
}

// Central differences of Ls (the mixture NLL) in float64 against autograd, every raw entry;
// h = 1e-6, tolerance 1e-6·(1 + |g|) (truncation ~h², rounding ~1e-16/h).
TEST(SketchLoss, FiniteDifferenceGradientOfMixtureNll) {
    torch::manual_seed(7);
    for (const std::string output : {"bivariate", "per_axis"}) {
        SCOPED_TRACE(output);
        torch::Tensor raw = torch::randn({2, 3, 3 + 6 * 3}, torch::kFloat64);
        torch::Tensor target = make_target({3, 2}, 3, torch::kFloat64);
        torch::Tensor r = raw.clone().requires_grad_();
        reconstruction_loss(r, target, output, 3).ls.backward();
        torch::Tensor analytic = r.grad();
        torch::Tensor flat = raw.view(-1);
        const double h = 1e-6;
        for (int64_t i = 0; i < flat.numel(); i++) {
            torch::Tensor plus = raw.clone(), minus = raw.clone();
            plus.view(-1)[i] += h;
            minus.view(-1)[i] -= h;
            const double fd = (reconstruction_loss(plus, target, output, 3).ls.item<double>() -
                               reconstruction_loss(minus, target, output, 3).ls.item<double>()) /
                              (2 * h);
            const double a = analytic.view(-1)[i].item<double>();
            EXPECT_NEAR(fd, a, 1e-6 * (1 + std::abs(a))) << "entry " << i;
        }
    }
}

// The NaN traps: pen and π logits ±1e4, log σ −50 (σ → 0), +50, ρ raw ±1e4 (|ρ| → 1), in float32.
TEST(SketchLoss, ExtremeInputsGiveFiniteLossAndGradient) {
    torch::manual_seed(8);
    const int64_t m = 3;
    for (const std::string output : {"bivariate", "per_axis"}) {
        SCOPED_TRACE(output);
        torch::Tensor raw = torch::randn({2, 4, 3 + 6 * m});
        raw.select(2, 0).fill_(1e4);
        raw.select(2, 1).fill_(-1e4);
        if (output == "bivariate") {
            raw.narrow(2, 3, m).copy_(torch::tensor({1e4f, -1e4f, 0.0f}));
            raw.narrow(2, 3 + 3 * m, m).fill_(-50.0);  // log σx
            raw.narrow(2, 3 + 4 * m, m).fill_(50.0);   // log σy
            raw.narrow(2, 3 + 5 * m, 2).fill_(1e4);    // ρ raw
            raw.narrow(2, 3 + 5 * m + 2, 1).fill_(-1e4);
        } else {
            raw.narrow(2, 3, m).copy_(torch::tensor({1e4f, -1e4f, 0.0f}));
            raw.narrow(2, 3 + 2 * m, m).fill_(-50.0);  // x log σ
            raw.narrow(2, 3 + 5 * m, m).fill_(50.0);   // y log σ
        }
        torch::Tensor target = make_target({4, 1}, 4, torch::kFloat32);
        torch::Tensor r = raw.clone().requires_grad_();
        ReconstructionLoss l = reconstruction_loss(r, target, output, m);
        l.lr.backward();
        EXPECT_TRUE(all_finite(l.lr)) << l.lr.item<float>();
        EXPECT_TRUE(all_finite(r.grad()));
    }
    // σ stays inside (e^−7, e^7) and |ρ| < 1 whatever the raw values.
    torch::Tensor raw = torch::zeros({1, 3 + 6});
    raw[0][3 + 3] = -1e4;
    raw[0][3 + 4] = 1e4;
    raw[0][3 + 5] = 1e4;
    BivariateMixture b = split_bivariate(raw, 1);
    EXPECT_GE(b.log_sigma_x.item<double>(), -kSketchLogSigmaLimit);
    EXPECT_LE(b.log_sigma_y.item<double>(), kSketchLogSigmaLimit);
    EXPECT_LT(b.rho.item<double>(), 1.0);
}

// Ls ignores every target row from the end token on; Lp counts all rows.
TEST(SketchLoss, StrokeLossIsMaskedAfterTheEndToken) {
    torch::manual_seed(9);
    for (const std::string output : {"bivariate", "per_axis"}) {
        SCOPED_TRACE(output);
        torch::Tensor raw = torch::randn({2, 6, 3 + 6 * 2});
        torch::Tensor target = make_target({6, 3}, 6, torch::kFloat32);
        ReconstructionLoss a = reconstruction_loss(raw, target, output, 2);
        torch::Tensor changed = target.clone();
        changed[1].narrow(0, 3, 3).narrow(1, 0, 2).fill_(123.0);  // offsets after sketch 1's end
        ReconstructionLoss b = reconstruction_loss(raw, changed, output, 2);
        EXPECT_EQ(a.ls.item<float>(), b.ls.item<float>());
        EXPECT_EQ(a.lp.item<float>(), b.lp.item<float>());
        torch::Tensor before = target.clone();
        before[1][2][0] = 5.0;  // the last point before the end does count
        EXPECT_NE(a.ls.item<float>(), reconstruction_loss(raw, before, output, 2).ls.item<float>());
        // Raw outputs at masked steps do not reach Ls, but do reach Lp.
        torch::Tensor r = raw.clone().requires_grad_();
        reconstruction_loss(r, target, output, 2).ls.backward();
        EXPECT_EQ(r.grad()[1].narrow(0, 3, 3).abs().sum().item<float>(), 0.0f);
        EXPECT_GT(r.grad()[1].narrow(0, 0, 3).abs().sum().item<float>(), 0.0f);
    }
}

// sketch.trim_padding: the loss of the first `kept` steps, rescaled to B·Nmax, has the untrimmed
// batch's Ls, and its Lp lacks exactly the cut rows' pen terms. Double precision, 1e-12.
TEST(SketchLoss, TrimmedBatchRescaledKeepsLsAndDropsOnlyTheCutPenTerms) {
    torch::manual_seed(10);
    const int64_t steps = 9, kept = 5, m = 3;
    torch::Tensor raw = torch::randn({3, steps, 3 + 6 * m}, torch::kFloat64);
    torch::Tensor target = make_target({4, 2, 3}, steps, torch::kFloat64);  // longest 4 points: 5 steps kept
    const ReconstructionLoss full = reconstruction_loss(raw, target, "bivariate", m);
    const ReconstructionLoss trimmed = rescale_trimmed(
        reconstruction_loss(raw.narrow(1, 0, kept), target.narrow(1, 0, kept), "bivariate", m), kept, steps);
    EXPECT_NEAR(trimmed.ls.item<double>(), full.ls.item<double>(), 1e-12);
    const torch::Tensor cut_pen =
        -(target.narrow(1, kept, steps - kept).narrow(2, 2, 3) *
          torch::log_softmax(raw.narrow(1, kept, steps - kept).narrow(2, 0, 3), -1))
             .sum() /
        double(3 * steps);
    EXPECT_GT(cut_pen.item<double>(), 0.0);
    EXPECT_NEAR(trimmed.lp.item<double>(), (full.lp - cut_pen).item<double>(), 1e-12);
    EXPECT_NEAR(trimmed.lr.item<double>(), (trimmed.ls + trimmed.lp).item<double>(), 1e-12);
    EXPECT_EQ(test::check_message([&] { rescale_trimmed(full, 10, steps); }),
              "rescale_trimmed: kept steps must be in [1, 9], got 10");
}

// A perfectly concentrated mixture: the loss is the log density of one known Gaussian.
TEST(SketchLoss, SingleComponentDensityIsTheGaussian) {
    // M = 2, component 0 takes all weight; μ = (0.5, −0.25), σx = e^0.1, σy = e^−0.2, ρ = tanh(0.3)·s
    torch::Tensor raw = torch::zeros({1, 1, 15}, torch::kFloat64);
    auto r = raw[0][0];
    r[3] = 40.0;
    r[3 + 2] = 0.5;
    r[3 + 4] = -0.25;
    r[3 + 6] = 0.1;  // these pass through the smooth bound: 7·tanh(0.1/7)
    r[3 + 8] = -0.2;
    r[3 + 10] = 0.3;
    BivariateMixture m = split_bivariate(raw, 2);
    const double lsx = 7 * std::tanh(0.1 / 7), lsy = 7 * std::tanh(-0.2 / 7),
                 rho = std::tanh(0.3) * (1 - 1e-5);
    const double x = 0.9, y = 0.4, zx = (x - 0.5) / std::exp(lsx), zy = (y + 0.25) / std::exp(lsy);
    const double z = zx * zx + zy * zy - 2 * rho * zx * zy;
    const double want =
        -z / (2 * (1 - rho * rho)) - std::log(2 * M_PI) - lsx - lsy - 0.5 * std::log(1 - rho * rho);
    torch::Tensor got = bivariate_log_density(m, torch::full({1, 1}, x, torch::kFloat64),
                                              torch::full({1, 1}, y, torch::kFloat64));
    EXPECT_NEAR(got.item<double>(), want, 1e-12);
}

TEST(SketchLoss, KlTermAndFloor) {
    torch::Tensor zero = torch::zeros({4, 8});
    EXPECT_NEAR(kl_divergence(zero, zero).item<float>(), 0.0, 1e-7);
    // μ = 1, logvar = 0: KL per dim = ½μ² = 0.5
    EXPECT_NEAR(kl_divergence(torch::ones({4, 8}), zero).item<float>(), 0.5, 1e-6);
    // logvar = log 2, μ = 0: ½(σ² − 1 − log σ²) = ½(1 − log 2)
    torch::Tensor lv = torch::full({2, 3}, std::log(2.0), torch::kFloat64);
    EXPECT_NEAR(kl_divergence(torch::zeros({2, 3}, torch::kFloat64), lv).item<double>(),
                0.5 * (1 - std::log(2.0)), 1e-12);
    // Below the tolerance: the floor, with no gradient; above: the KL itself, with gradient.
    torch::Tensor mu = torch::full({2, 3}, 0.1).requires_grad_();
    torch::Tensor t = kl_term(mu, torch::zeros({2, 3}), 0.2);
    EXPECT_FLOAT_EQ(t.item<float>(), 0.2f);
    t.backward();
    EXPECT_EQ(mu.grad().abs().sum().item<float>(), 0.0f);
    torch::Tensor mu2 = torch::full({2, 3}, 1.0).requires_grad_();
    torch::Tensor t2 = kl_term(mu2, torch::zeros({2, 3}), 0.2);
    EXPECT_NEAR(t2.item<float>(), 0.5, 1e-6);
    t2.backward();
    EXPECT_NEAR(mu2.grad()[0][0].item<float>(), 1.0 / 6.0, 1e-6);  // d(½ mean μ²)/dμ = μ/6
    EXPECT_EQ(test::check_message([] {
                  kl_divergence(torch::zeros({2, 3}), torch::zeros({2, 4}));
              }),
              "kl_divergence: mu and logvar must both be (B, Nz), got [2, 3] and [2, 4]");
}

TEST(SketchLoss, KlWeightAndLearningRateSchedules) {
    // magenta: w = 0.5 − 0.49·0.99995^step
    EXPECT_NEAR(kl_weight(0, 0.01, 0.5, 0.99995), 0.01, 1e-15);
    EXPECT_NEAR(kl_weight(10000, 0.01, 0.5, 0.99995), 0.20280369184170177, 1e-12);
    EXPECT_NEAR(kl_weight(10000000, 0.01, 0.5, 0.99995), 0.5, 1e-12);
    EXPECT_LT(kl_weight(100, 0.01, 0.5, 0.99995), kl_weight(101, 0.01, 0.5, 0.99995));
    // magenta: lr = 1e-3·0.9999^step, floor 1e-5 (reached after 46,050 steps)
    EXPECT_DOUBLE_EQ(learning_rate(0, 1e-3, 0.9999, 1e-5), 1e-3);
    EXPECT_NEAR(learning_rate(10000, 1e-3, 0.9999, 1e-5), 0.00036786104643297046, 1e-15);
    EXPECT_GT(learning_rate(46049, 1e-3, 0.9999, 1e-5), 1e-5);
    EXPECT_DOUBLE_EQ(learning_rate(46050, 1e-3, 0.9999, 1e-5), 1e-5);
    EXPECT_DOUBLE_EQ(learning_rate(1000000, 1e-3, 0.9999, 1e-5), 1e-5);
    EXPECT_EQ(test::check_message([] { learning_rate(-1, 1e-3, 0.9999, 1e-5); }),
              "learning_rate: step must be >= 0, got -1");
    EXPECT_EQ(test::check_message([] { kl_weight(-2, 0.01, 0.5, 0.99995); }),
              "kl_weight: step must be >= 0, got -2");
}

}  // namespace
}  // namespace k2k
