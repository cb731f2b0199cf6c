// Tests for the recurrent cells (src/models/rnn_cells.h): shapes, hand-written BPTT against autograd
// through the per-step ops, fused LSTM against the per-step LSTM, recurrent dropout, bad input.
#include "models/rnn_cells.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "models/rnn_bptt.h"
#include "test_support.h"
#include "torch_test_support.h"

namespace k2k {
namespace {

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.detach().to(torch::kFloat64) - b.detach().to(torch::kFloat64)).abs().max().item<double>();
}

// A cell of each kind with small sizes: I = 7, H = 6, Hh = 5, E = 3.
std::shared_ptr<RecurrentCellImpl> make_cell(const std::string& kind) {
    RnnCellOptions o(7, 6);
    o.hyper_size(5).hyper_embed(3);
    if (kind == "lstm") return std::make_shared<LstmCellImpl>(o);
    if (kind == "layer_norm") return std::make_shared<LayerNormLstmCellImpl>(o);
    if (kind == "hyper") return std::make_shared<HyperLstmCellImpl>(o);
    o.hyper_layer_norm(false);
    return std::make_shared<HyperLstmCellImpl>(o);  // "hyper_plain"
}

const std::vector<std::string> kKinds = {"lstm", "layer_norm", "hyper", "hyper_plain"};

// Randomises every parameter so no gradient path hides behind a zero or one initialisation.
void randomise(torch::nn::Module& m) {
    torch::NoGradGuard no_grad;
    for (auto& p : m.parameters()) p.copy_(torch::randn_like(p) * 0.4);
}

CellState random_state(const RecurrentCellImpl& cell, int64_t b, torch::Dtype dtype) {
    return cell.split_state(torch::randn({b, cell.state_size()}, torch::TensorOptions().dtype(dtype)) * 0.5);
}

TEST(RnnCells, ShapesForEveryCell) {
    torch::manual_seed(1);
    for (const std::string& kind : kKinds) {
        SCOPED_TRACE(kind);
        auto cell = make_cell(kind);
        const bool hyper = kind.rfind("hyper", 0) == 0;
        EXPECT_EQ(cell->state_size(), hyper ? 2 * (6 + 5) : 2 * 6);
        EXPECT_EQ(cell->projection_size(), hyper ? 4 * (6 + 5) : 4 * 6);
        torch::Tensor x = torch::randn({3, 4, 7});
        torch::Tensor xp = cell->project_input(x);
        EXPECT_EQ(xp.sizes(), torch::IntArrayRef({3, 4, cell->projection_size()}));
        CellState s = random_state(*cell, 3, torch::kFloat32);
        EXPECT_EQ(s.h.sizes(), torch::IntArrayRef({3, 6}));
        EXPECT_EQ(s.c.sizes(), torch::IntArrayRef({3, 6}));
        EXPECT_EQ(s.hyper_h.defined(), hyper);
        if (hyper) {
            EXPECT_EQ(s.hyper_c.sizes(), torch::IntArrayRef({3, 5}));
        }
        CellState s2 = s, s3 = s;
        torch::Tensor out = cell->sequence(xp, s);
        EXPECT_EQ(out.sizes(), torch::IntArrayRef({3, 4, 6}));
        EXPECT_EQ(out.dtype(), torch::kFloat32);
        EXPECT_EQ(s.h.sizes(), torch::IntArrayRef({3, 6}));
        torch::Tensor h = cell->step(xp.select(1, 0), s2);
        EXPECT_EQ(h.sizes(), torch::IntArrayRef({3, 6}));
        // The sampler's step with prepared weights gives the same values.
        EXPECT_LT(max_abs_diff(cell->step_prepared(xp.select(1, 0), s3, cell->prepare_step()), h), 1e-6);
        EXPECT_LT(max_abs_diff(s3.c, s2.c), 1e-6);
        if (hyper) {
            EXPECT_EQ(s2.hyper_h.sizes(), torch::IntArrayRef({3, 5}));
        }
    }
}

// The hand-written BPTT must give autograd's gradients (through `step`, op by op) for the outputs,
// the final state, every parameter, the projected input and the initial state; with dropout masks.
// Double precision; tolerance 1e-10 (both are exact formulas, differing only in rounding order).
TEST(RnnCells, SequenceBackwardMatchesAutogradThroughSteps) {
    torch::manual_seed(2);
    const int64_t b = 3, steps = 5;
    for (const std::string& kind : kKinds) {
        for (bool with_mask : {false, true}) {
            SCOPED_TRACE(kind + (with_mask ? " with dropout masks" : ""));
            auto cell = make_cell(kind);
            cell->to(torch::kFloat64);
            randomise(*cell);
            const bool hyper = kind.rfind("hyper", 0) == 0;
            torch::Tensor x = torch::randn({b, steps, 7}, torch::kFloat64);
            torch::Tensor flat =
                torch::randn({b, cell->state_size()}, torch::kFloat64).mul_(0.5).requires_grad_();
            torch::Tensor masks;
            if (with_mask) masks = torch::bernoulli(torch::full({steps, b, 6}, 0.7, torch::kFloat64)) / 0.7;
            // Fixed random weights on every output so each gradient path is exercised.
            torch::Tensor w_out = torch::randn({b, steps, 6}, torch::kFloat64);
            torch::Tensor w_h = torch::randn({b, 6}, torch::kFloat64),
                          w_c = torch::randn({b, 6}, torch::kFloat64);
            torch::Tensor w_hy = torch::randn({b, 5}, torch::kFloat64),
                          w_cy = torch::randn({b, 5}, torch::kFloat64);

            auto run = [&](bool per_step) {
                cell->zero_grad();
                if (flat.grad().defined()) flat.grad().zero_();
                torch::Tensor xr = x.clone().requires_grad_();
                torch::Tensor xp = cell->project_input(xr);
                CellState s = cell->split_state(flat);
                torch::Tensor out;
                if (per_step) {
                    out = cell->sequence(xp, s, masks);
                } else {
                    std::vector<torch::Tensor> hs;
                    for (int64_t t = 0; t < steps; t++)
                        hs.push_back(
                            cell->step(xp.select(1, t), s, with_mask ? masks.select(0, t) : torch::Tensor()));
                    out = torch::stack(hs, 1);
                }
                torch::Tensor loss = (out * w_out).sum() + (s.h * w_h).sum() + (s.c * w_c).sum();
                if (hyper) loss = loss + (s.hyper_h * w_hy).sum() + (s.hyper_c * w_cy).sum();
                loss.backward();
                std::vector<torch::Tensor> grads;
                grads.push_back(out.detach().clone());
                grads.push_back(loss.detach().clone());
                grads.push_back(xr.grad().clone());
                grads.push_back(flat.grad().clone());
                for (auto& p : cell->parameters())
                    grads.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
                return grads;
            };
            std::vector<torch::Tensor> ref = run(false), got = run(true);
            ASSERT_EQ(ref.size(), got.size());
            auto names = cell->named_parameters().keys();
            for (size_t i = 0; i < ref.size(); i++) {
                const std::string what = i == 0   ? "outputs"
                                         : i == 1 ? "loss"
                                         : i == 2 ? "d input"
                                         : i == 3 ? "d initial state"
                                                  : "d " + names[i - 4];
                EXPECT_LT(max_abs_diff(ref[i], got[i]), 1e-10) << what;
                // every parameter really receives gradient (a dropped path would give 0 here)
                if (i >= 2) {
                    EXPECT_GT(ref[i].abs().max().item<double>(), 0.0) << what;
                }
            }
        }
    }
}

// Forward values against magenta's LayerNormLSTMCell / HyperLSTMCell written out in Python
// (tests/golden/gen_sketch_loss.py, "cells"; the project's parameters mapped to magenta's gate
// order), float64, both the `sequence` and the `step` paths. Tolerance 1e-12.
TEST(RnnCells, MatchesMagentaStyleReference) {
    std::ifstream in(test::fixtures_dir() + "/golden/sketch_loss.json");
    ASSERT_TRUE(in.good()) << "missing tests/fixtures/golden/sketch_loss.json";
    nlohmann::json g;
    in >> g;
    const nlohmann::json& cells = g["cells"];
    const std::vector<int64_t> sz = cells["sizes"].get<std::vector<int64_t>>();  // I, H, Hh, E, B, T
    auto tensor = [](const nlohmann::json& v, torch::IntArrayRef shape) {
        return torch::tensor(v.get<std::vector<double>>(), torch::kFloat64).view(shape);
    };
    for (const std::string kind : {"layer_norm", "hyper", "hyper_plain"}) {
        SCOPED_TRACE(kind);
        RnnCellOptions o(sz[0], sz[1]);
        o.hyper_size(sz[2]).hyper_embed(sz[3]).hyper_layer_norm(kind == "hyper");
        std::shared_ptr<RecurrentCellImpl> cell;
        if (kind == "layer_norm")
            cell = std::make_shared<LayerNormLstmCellImpl>(o);
        else
            cell = std::make_shared<HyperLstmCellImpl>(o);
        cell->to(torch::kFloat64);
        const nlohmann::json& c = cells[kind];
        size_t filled = 0;
        {
            torch::NoGradGuard no_grad;
            for (auto& p : cell->named_parameters()) {
                ASSERT_TRUE(c["params"].contains(p.key())) << p.key();
                p.value().copy_(tensor(c["params"][p.key()], p.value().sizes()));
                filled++;
            }
        }
        EXPECT_EQ(filled, c["params"].size());
        const torch::Tensor x = tensor(c["x"], {sz[4], sz[5], sz[0]});
        const torch::Tensor state = tensor(c["state"], {sz[4], cell->state_size()});
        const torch::Tensor hs = tensor(c["hs"], {sz[4], sz[5], sz[1]}),
                            c_final = tensor(c["c_final"], {sz[4], sz[1]});
        // With autograd recording (the hand-written forward), without it (plain steps), and `step`.
        for (bool grad : {true, false}) {
            torch::AutoGradMode mode(grad);
            CellState s = cell->split_state(state);
            torch::Tensor xp = cell->project_input(x);
            EXPECT_LT(max_abs_diff(cell->sequence(xp, s), hs), 1e-12) << "grad " << grad;
            EXPECT_LT(max_abs_diff(s.c, c_final), 1e-12) << "grad " << grad;
            CellState s2 = cell->split_state(state);
            for (int64_t t = 0; t < sz[5]; t++)
                EXPECT_LT(max_abs_diff(cell->step(xp.select(1, t), s2), hs.select(1, t)), 1e-12);
        }
    }
}

// Two sequence calls continue from the carried state exactly as one call over both halves.
TEST(RnnCells, SequenceCarriesState) {
    torch::manual_seed(3);
    for (const std::string& kind : kKinds) {
        SCOPED_TRACE(kind);
        auto cell = make_cell(kind);
        randomise(*cell);
        torch::Tensor xp = cell->project_input(torch::randn({2, 6, 7}));
        CellState s = random_state(*cell, 2, torch::kFloat32);
        CellState s2 = s;
        torch::Tensor whole = cell->sequence(xp, s);
        torch::Tensor first = cell->sequence(xp.narrow(1, 0, 2), s2);
        torch::Tensor second = cell->sequence(xp.narrow(1, 2, 4), s2);
        EXPECT_LT(max_abs_diff(whole, torch::cat({first, second}, 1)), 1e-6);
        EXPECT_LT(max_abs_diff(s.h, s2.h), 1e-6);
        EXPECT_LT(max_abs_diff(s.c, s2.c), 1e-6);
    }
}

// Fused torch::lstm and the per-step cells on the same weights, 3 layers, float32:
// outputs, final states and every gradient agree to 1e-5 (float rounding of two summation orders).
// The float32 CPU LSTM runs its gate maths in one pass per step (rnn_lstm_fused.cpp, its own exp,
// sigmoid and tanh); it must give what the double-precision BPTT gives, outputs and every gradient,
// with and without dropout masks, to float32 rounding (1e-5 on values of order 1).
TEST(RnnCells, Float32FusedLstmMatchesDoublePrecisionBptt) {
    torch::manual_seed(3);
    const int64_t b = 5, steps = 7, hidden = 16;
    for (bool with_mask : {false, true}) {
        SCOPED_TRACE(with_mask ? "with dropout masks" : "no dropout");
        auto cell32 = std::make_shared<LstmCellImpl>(RnnCellOptions(7, hidden));
        randomise(*cell32);
        auto cell64 = std::make_shared<LstmCellImpl>(RnnCellOptions(7, hidden));
        cell64->to(torch::kFloat64);
        {
            torch::NoGradGuard no_grad;
            for (size_t i = 0; i < cell32->parameters().size(); i++)
                cell64->parameters()[i].copy_(cell32->parameters()[i]);
        }
        const torch::Tensor x = torch::randn({b, steps, 7}) * 2.0;  // pre-activations well beyond ±1
        const torch::Tensor flat = torch::randn({b, 2 * hidden}) * 0.5;
        torch::Tensor masks;
        if (with_mask) masks = torch::bernoulli(torch::full({steps, b, hidden}, 0.7)) / 0.7;
        const torch::Tensor w_out = torch::randn({b, steps, hidden}), w_h = torch::randn({b, hidden}),
                            w_c = torch::randn({b, hidden});
        auto run = [&](LstmCellImpl& cell, torch::Dtype dtype, bool expect_fused) {
            auto as = [&](const torch::Tensor& t) { return t.defined() ? t.to(dtype) : t; };
            torch::Tensor xr = x.to(dtype).detach().clone().requires_grad_();
            torch::Tensor flat_r = flat.to(dtype).detach().clone().requires_grad_();
            torch::Tensor xp = cell.project_input(xr);
            CellState s = cell.split_state(flat_r);
            EXPECT_EQ(detail::fused_lstm_applies(xp, s.h, s.c, cell.weight_hh, as(masks)), expect_fused);
            torch::Tensor out = cell.sequence(xp, s, as(masks));
            torch::Tensor loss = (out * as(w_out)).sum() + (s.h * as(w_h)).sum() + (s.c * as(w_c)).sum();
            loss.backward();
            std::vector<torch::Tensor> r = {out.detach(), s.h.detach(), s.c.detach(), xr.grad(), flat_r.grad()};
            for (auto& p : cell.parameters()) r.push_back(p.grad().clone());
            return r;
        };
        std::vector<torch::Tensor> fused = run(*cell32, torch::kFloat32, true);
        std::vector<torch::Tensor> ref = run(*cell64, torch::kFloat64, false);
        ASSERT_EQ(fused.size(), ref.size());
        for (size_t i = 0; i < ref.size(); i++) {
            EXPECT_GT(ref[i].abs().max().item<double>(), 0.0) << "item " << i;
            EXPECT_LT(max_abs_diff(fused[i], ref[i]), 1e-5 * (1.0 + ref[i].abs().max().item<double>()))
                << "item " << i;
        }
    }
}

// A conditioning input given apart (cond: projected once per sequence) gives the values and
// gradients of the same input concatenated at every step, on every path and cell.
TEST(RnnStack, ConditionGivenApartEqualsConcatenatedInput) {
    torch::manual_seed(9);
    for (const std::string cell : {"lstm", "layer_norm", "hyper"}) {
        for (RnnPath path : {RnnPath::PerStep, RnnPath::Autograd, RnnPath::Fused}) {
            if (path == RnnPath::Fused && cell != "lstm") continue;
            SCOPED_TRACE(cell + " path " + std::to_string(int(path)));
            RnnStack stack(RnnStackOptions().cell(cell).input_size(9).hidden_size(8).num_layers(2).hyper_size(4).hyper_embed(2));
            randomise(*stack);
            const torch::Tensor x = torch::randn({3, 6, 5}), cond = torch::randn({3, 4});
            const torch::Tensor flat = torch::randn({3, stack->state_size()}) * 0.5, w = torch::randn({3, 6, 8});
            auto run = [&](bool apart) {
                stack->zero_grad();
                torch::Tensor xr = x.clone().requires_grad_(), cr = cond.clone().requires_grad_();
                RnnState s = stack->split_state(flat);
                torch::Tensor out = apart ? stack->forward(xr, s, path, cr)
                                          : stack->forward(torch::cat({xr, cr.unsqueeze(1).expand({3, 6, 4})}, 2), s, path);
                ((out * w).sum() + s[1].c.sum()).backward();
                std::vector<torch::Tensor> r = {out.detach(), xr.grad(), cr.grad()};
                for (auto& p : stack->parameters()) r.push_back(p.grad().clone());
                return r;
            };
            std::vector<torch::Tensor> apart = run(true), joined = run(false);
            for (size_t i = 0; i < apart.size(); i++) EXPECT_LT(max_abs_diff(apart[i], joined[i]), 1e-5) << "item " << i;
        }
    }
    RnnStack stack(RnnStackOptions().cell("lstm").input_size(9).hidden_size(8));
    RnnState s = stack->split_state(torch::zeros({3, stack->state_size()}));
    EXPECT_EQ(test::check_message([&] { stack->forward(torch::randn({3, 6, 9}), s, RnnPath::Auto, torch::randn({3, 4})); }),
              "RnnStack::forward: x must be (B, T>0, 5), got [3, 6, 9]");
}

TEST(RnnStack, FusedLstmEqualsPerStepLstm) {
    torch::manual_seed(4);
    RnnStack stack(
        RnnStackOptions().cell("lstm").input_size(7).hidden_size(8).num_layers(3).recurrent_dropout_keep(
            0.5));
    stack->eval();  // dropout off: both paths are allowed
    randomise(*stack);
    torch::Tensor x = torch::randn({4, 9, 7});
    torch::Tensor flat = torch::randn({4, stack->state_size()}) * 0.5;
    torch::Tensor w = torch::randn({4, 9, 8});
    auto run = [&](RnnPath path) {
        stack->zero_grad();
        torch::Tensor xr = x.clone().requires_grad_();
        RnnState s = stack->split_state(flat);
        torch::Tensor out = stack->forward(xr, s, path);
        torch::Tensor loss = (out * w).sum() + s[2].h.sum() + 0.5 * s[1].c.sum();
        loss.backward();
        std::vector<torch::Tensor> r = {out.detach(), s[0].h.detach(), s[1].c.detach(), s[2].h.detach(),
                                        xr.grad()};
        for (auto& p : stack->parameters()) r.push_back(p.grad().clone());
        return r;
    };
    std::vector<torch::Tensor> fused = run(RnnPath::Fused), per_step = run(RnnPath::PerStep),
                               autograd = run(RnnPath::Autograd);
    ASSERT_EQ(fused.size(), per_step.size());
    for (size_t i = 0; i < fused.size(); i++) {
        EXPECT_LT(max_abs_diff(fused[i], per_step[i]), 1e-5) << "item " << i;
        EXPECT_LT(max_abs_diff(fused[i], autograd[i]), 1e-5) << "item " << i;
    }
    // One set of weights: the torch::nn::LSTM's, which the per-step cells share.
    EXPECT_EQ(stack->named_parameters().keys(),
              std::vector<std::string>({"lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0",
                                        "lstm.bias_hh_l0", "lstm.weight_ih_l1", "lstm.weight_hh_l1",
                                        "lstm.bias_ih_l1", "lstm.bias_hh_l1", "lstm.weight_ih_l2",
                                        "lstm.weight_hh_l2", "lstm.bias_ih_l2", "lstm.bias_hh_l2"}));
    // Auto on the CPU: the hand-written BPTT while autograd records (bit for bit its numbers), the
    // fused kernel without it. (LibTorch 2.x may run another LSTM kernel when no gradient is
    // recorded, so that comparison is to float rounding, not bit for bit.)
    std::vector<torch::Tensor> autopath = run(RnnPath::Auto);
    EXPECT_TRUE(torch::equal(autopath[0], per_step[0]));
    torch::NoGradGuard no_grad;
    RnnState s = stack->split_state(flat);
    EXPECT_LT(max_abs_diff(stack->forward(x, s), fused[0]), 1e-6);
}

TEST(RnnStack, ShapesForEveryCellAndStepMatchesForward) {
    torch::manual_seed(5);
    for (const std::string cell : {"lstm", "layer_norm", "hyper"}) {
        SCOPED_TRACE(cell);
        RnnStack stack(
            RnnStackOptions().cell(cell).input_size(7).hidden_size(8).num_layers(2).hyper_size(4).hyper_embed(
                2));
        stack->eval();
        EXPECT_EQ(stack->layers.size(), 2u);
        const int64_t per = std::string(cell) == "hyper" ? 2 * (8 + 4) : 2 * 8;
        EXPECT_EQ(stack->state_size(), 2 * per);
        torch::Tensor x = torch::randn({3, 5, 7});
        torch::Tensor flat = torch::randn({3, stack->state_size()}) * 0.5;
        RnnState s = stack->split_state(flat), s2 = stack->split_state(flat);
        torch::Tensor out = stack->forward(x, s);
        EXPECT_EQ(out.sizes(), torch::IntArrayRef({3, 5, 8}));
        for (int64_t t = 0; t < 5; t++) {
            torch::Tensor h = stack->step(x.select(1, t), s2);
            EXPECT_EQ(h.sizes(), torch::IntArrayRef({3, 8}));
            EXPECT_LT(max_abs_diff(h, out.select(1, t)), 1e-5) << "step " << t;
        }
        EXPECT_LT(max_abs_diff(s[1].h, s2[1].h), 1e-5);
    }
}

// RnnStepper (prepared projections, fixed conditioning columns) steps exactly like RnnStack::step.
TEST(RnnStack, StepperMatchesStep) {
    torch::manual_seed(6);
    for (const std::string cell : {"lstm", "layer_norm", "hyper"}) {
        SCOPED_TRACE(cell);
        RnnStack stack(
            RnnStackOptions().cell(cell).input_size(7).hidden_size(8).num_layers(3).hyper_size(4).hyper_embed(
                2));
        randomise(*stack);
        torch::NoGradGuard no_grad;
        torch::Tensor cond = torch::randn({3, 4}), flat = torch::randn({3, stack->state_size()}) * 0.5;
        RnnStepper stepper(*stack, cond);
        RnnState a = stack->split_state(flat), b = stack->split_state(flat);
        for (int64_t t = 0; t < 4; t++) {
            torch::Tensor s = torch::randn({3, 3});
            EXPECT_LT(max_abs_diff(stepper.step(s, a), stack->step(torch::cat({s, cond}, 1), b)), 1e-5) << t;
        }
        EXPECT_EQ(test::check_message([&] {
                      stepper.step(torch::zeros({3, 4}), a);
                  }),
                  "RnnStepper::step: s must be (3, 3), got [3, 4]");
    }
    RnnStack stack(RnnStackOptions().input_size(7).hidden_size(8));
    EXPECT_EQ(test::check_message([&] {
                  RnnStepper(*stack, torch::zeros({3, 7}));
              }),
              "RnnStepper: cond must be (B, C) with C < 7, got [3, 7]");
}

// Recurrent dropout: active only in training, changes the output, keeps its expectation
// (masks are 0 or 1/keep), and follows torch's default generator.
TEST(RnnStack, RecurrentDropoutOnlyWhileTraining) {
    RnnStack stack(
        RnnStackOptions().cell("layer_norm").input_size(3).hidden_size(16).recurrent_dropout_keep(0.5));
    torch::Tensor x = torch::randn({2, 6, 3});
    torch::Tensor flat = torch::zeros({2, stack->state_size()});
    auto run = [&](uint64_t seed) {
        torch::manual_seed(seed);
        RnnState s = stack->split_state(flat);
        return stack->forward(x, s).detach();
    };
    stack->eval();
    torch::Tensor a = run(1), b = run(2);
    EXPECT_TRUE(torch::equal(a, b));
    stack->train();
    torch::Tensor c = run(1), d = run(1), e = run(2);
    EXPECT_TRUE(torch::equal(c, d));
    EXPECT_GT(max_abs_diff(c, e), 1e-3);
    EXPECT_GT(max_abs_diff(c, a), 1e-3);
    // The fused path refuses active dropout.
    RnnStack lstm(RnnStackOptions().cell("lstm").input_size(3).hidden_size(4).recurrent_dropout_keep(0.9));
    RnnState s = lstm->split_state(torch::zeros({2, 8}));
    EXPECT_EQ(test::check_message([&] { lstm->forward(x, s, RnnPath::Fused); }),
              "RnnStack::forward: the fused path needs cell \"lstm\" without active recurrent dropout");
}

TEST(RnnStack, RejectsBadOptionsAndShapes) {
    EXPECT_EQ(test::check_message([] { RnnStack(RnnStackOptions().cell("gru")); }),
              "RnnStack: cell must be \"lstm\", \"layer_norm\" or \"hyper\", got \"gru\"");
    EXPECT_EQ(test::check_message([] { RnnStack(RnnStackOptions().num_layers(0)); }),
              "RnnStack: num_layers must be positive, got 0");
    EXPECT_EQ(test::check_message([] { RnnStack(RnnStackOptions().recurrent_dropout_keep(0.0)); }),
              "RnnStack: recurrent_dropout_keep must be in (0, 1], got 0");
    RnnStack stack(RnnStackOptions().input_size(3).hidden_size(4));
    RnnState s = stack->split_state(torch::zeros({2, 8}));
    EXPECT_EQ(test::check_message([&] {
                  stack->forward(torch::zeros({2, 5, 4}), s);
              }),
              "RnnStack::forward: x must be (B, T>0, 3), got [2, 5, 4]");
    EXPECT_EQ(test::check_message([&] {
                  stack->split_state(torch::zeros({2, 7}));
              }),
              "RnnStack::split_state: flat state must be (B, 8), got [2, 7]");
    LstmCellImpl cell(RnnCellOptions(3, 4));
    CellState cs = cell.split_state(torch::zeros({2, 8}));
    EXPECT_EQ(test::check_message([&] {
                  cell.sequence(torch::zeros({2, 5, 15}), cs);
              }),
              "LstmCell::sequence: projected input must be (B, T>0, 16), got [2, 5, 15]");
    EXPECT_EQ(test::check_message([&] {
                  cell.sequence(torch::zeros({3, 5, 16}), cs);
              }),
              "LstmCell::sequence: batch of input (3) and state (2) differ");
}

}  // namespace
}  // namespace k2k
