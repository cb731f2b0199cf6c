// Recurrent cells of the Sketch-RNN decoder (magenta sketch_rnn rnn.py): LSTM, layer-norm LSTM and
// HyperLSTM, each with a per-step path and a fast whole-sequence path, stacked into RnnStack.
#pragma once

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <utility>
#include <string>
#include <vector>

namespace k2k {

// Conventions shared by every cell here:
// * Gates are laid out (i, f, g, o) along the last dimension, each of width H, as torch::nn::LSTM
//   does: i input gate, f forget gate, g candidate (magenta's `j`), o output gate.
// * Recurrent dropout (Semeniuta et al. 2016, "Recurrent Dropout without Memory Loss"; magenta's
//   `use_recurrent_dropout`) multiplies only the candidate tanh(g) by a mask of 0 or 1/keep:
//     c_t = σ(f)·c_{t−1} + σ(i)·(m_t ⊙ tanh g),   m_t a fresh Bernoulli(keep)/keep mask per step.
// * magenta adds a constant forget bias 1.0 to f; here it is the initial value of the parameter
//   that already adds to f (bias or layer-norm β), so the function class is the same and the
//   constant can be learned.
// * Layer norm (Ba et al. 2016) uses magenta's ε = 1e-3, normalising each gate block separately.
// * A cell first projects its whole input sequence with one matmul (project_input), then runs the
//   recurrence. `sequence` runs the recurrence as one autograd node whose backward is hand-written
//   BPTT (weight gradients as one matmul over all steps instead of T small ones); `step` is the
//   same maths in plain differentiable tensor ops (used for sampling and as the test reference).

// One layer's recurrent state; every tensor is (B, width).
struct CellState {
    torch::Tensor h;        // (B,H) output
    torch::Tensor c;        // (B,H) memory
    torch::Tensor hyper_h;  // (B,Hh) HyperLSTM only: the inner hyper cell's output (undefined otherwise)
    torch::Tensor hyper_c;  // (B,Hh) HyperLSTM only: the inner hyper cell's memory
};
using RnnState = std::vector<CellState>;  // one per layer, bottom layer first

struct RnnCellOptions {
    RnnCellOptions(int64_t input_size, int64_t hidden_size)
        : input_size_(input_size), hidden_size_(hidden_size) {}
    /// Width I of the input vectors.
    TORCH_ARG(int64_t, input_size);
    /// Width H of h and c.
    TORCH_ARG(int64_t, hidden_size);
    /// Initial value added to the forget gate (magenta forget_bias = 1.0).
    TORCH_ARG(double, forget_bias) = 1.0;
    /// HyperLSTM: width Hh of the inner hyper LSTM (magenta hyper_num_units = 256).
    TORCH_ARG(int64_t, hyper_size) = 256;
    /// HyperLSTM: size E of each weight-scaling embedding (magenta hyper_embedding_size = 32).
    TORCH_ARG(int64_t, hyper_embed) = 32;
    /// HyperLSTM: layer-normalise the main gates and use a layer-norm hyper cell (magenta default true).
    TORCH_ARG(bool, hyper_layer_norm) = true;
};

// Interface of one recurrent layer. Registered in RnnStack by pointer.
class RecurrentCellImpl : public torch::nn::Module {
public:
    explicit RecurrentCellImpl(RnnCellOptions options_) : options(std::move(options_)) {}

    // Number of values in one example's state (2H, or 2(H + Hh) for HyperLSTM): the width of
    // the z → initial-state map.
    virtual int64_t state_size() const = 0;
    // flat is (B, state_size), laid out [h, c] or [h, c, hyper_h, hyper_c].
    virtual CellState split_state(const torch::Tensor& flat) const = 0;
    // Width P of the projected input.
    virtual int64_t projection_size() const = 0;
    // The input projection as (weight (P, I), bias (P) or undefined): project_input(x) = x·Wᵀ + b.
    virtual std::pair<torch::Tensor, torch::Tensor> input_projection() const = 0;
    // x is (..., I); returns (..., P): every input-only matmul of the cell, done for all steps at once.
    virtual torch::Tensor project_input(const torch::Tensor& x) const = 0;
    // One step in plain tensor ops. xp is (B,P) from project_input; mask is (B,H) recurrent
    // dropout mask or undefined. Updates state and returns h (B,H).
    virtual torch::Tensor step(const torch::Tensor& xp, CellState& state, const torch::Tensor& mask = {}) = 0;
    // The recurrent weights laid out once for many steps without autograd (the sampler): transposed
    // and contiguous; for HyperLSTM the two matrices that multiply h_{t−1} joined into one.
    virtual std::vector<torch::Tensor> prepare_step() const = 0;
    // `step` (no dropout) with weights from prepare_step(): the same values, less work per step.
    virtual torch::Tensor step_prepared(const torch::Tensor& xp, CellState& state,
                                        const std::vector<torch::Tensor>& prepared) const = 0;
    // All steps, hand-written BPTT. xp is (B,T,P); masks is (T,B,H) or undefined. Updates state to
    // the state after step T and returns h for every step, (B,T,H).
    virtual torch::Tensor sequence(const torch::Tensor& xp, CellState& state,
                                   const torch::Tensor& masks = {}) = 0;

    RnnCellOptions options;
};

// Plain LSTM (magenta LSTMCell), with the parameters and gate order of one torch::nn::LSTM layer.
class LstmCellImpl : public RecurrentCellImpl {
public:
    // A cell with its own registered parameters.
    explicit LstmCellImpl(RnnCellOptions options);
    // A cell that runs layer `layer` of `lstm` on that module's parameter tensors (shared, not
    // registered here), so the per-step and the fused torch::nn::LSTM paths use one set of weights.
    LstmCellImpl(RnnCellOptions options, const torch::nn::LSTMImpl& lstm, int64_t layer);
    void reset();
    int64_t state_size() const override;
    CellState split_state(const torch::Tensor& flat) const override;
    int64_t projection_size() const override;
    std::pair<torch::Tensor, torch::Tensor> input_projection() const override;
    torch::Tensor project_input(const torch::Tensor& x) const override;
    torch::Tensor step(const torch::Tensor& xp, CellState& state, const torch::Tensor& mask = {}) override;
    std::vector<torch::Tensor> prepare_step() const override;
    torch::Tensor step_prepared(const torch::Tensor& xp, CellState& state,
                                const std::vector<torch::Tensor>& prepared) const override;
    torch::Tensor sequence(const torch::Tensor& xp, CellState& state,
                           const torch::Tensor& masks = {}) override;

    torch::Tensor weight_ih;  // (4H, I) Glorot uniform
    torch::Tensor weight_hh;  // (4H, H) orthogonal per gate block
    torch::Tensor bias_ih;    // (4H) zero, forget block = forget_bias
    torch::Tensor bias_hh;    // (4H) zero (torch::nn::LSTM has two biases)
};

// Layer-norm LSTM (magenta LayerNormLSTMCell): no bias; the gate pre-activations are normalised
// per gate block with their own γ, β; h = σ(o)·tanh(LN(c)).
class LayerNormLstmCellImpl : public RecurrentCellImpl {
public:
    explicit LayerNormLstmCellImpl(RnnCellOptions options);
    void reset();
    int64_t state_size() const override;
    CellState split_state(const torch::Tensor& flat) const override;
    int64_t projection_size() const override;
    std::pair<torch::Tensor, torch::Tensor> input_projection() const override;
    torch::Tensor project_input(const torch::Tensor& x) const override;
    torch::Tensor step(const torch::Tensor& xp, CellState& state, const torch::Tensor& mask = {}) override;
    std::vector<torch::Tensor> prepare_step() const override;
    torch::Tensor step_prepared(const torch::Tensor& xp, CellState& state,
                                const std::vector<torch::Tensor>& prepared) const override;
    torch::Tensor sequence(const torch::Tensor& xp, CellState& state,
                           const torch::Tensor& masks = {}) override;

    torch::Tensor weight_ih;   // (4H, I)
    torch::Tensor weight_hh;   // (4H, H)
    torch::Tensor ln_gamma;    // (4H) one, gate layer-norm scale
    torch::Tensor ln_beta;     // (4H) zero, forget block = forget_bias
    torch::Tensor ln_c_gamma;  // (H) one, layer norm of c before tanh
    torch::Tensor ln_c_beta;   // (H) zero
};

// HyperLSTM (Ha, Dai & Le 2016; magenta HyperLSTMCell). A small hyper LSTM reads [x, h_{t−1}]
// and its output ĥ scales the main LSTM's weight matrices row-wise:
//   z = W_z ĥ + b_z (12 embeddings of size E: 4 for W_x blocks, 4 for W_h blocks, 4 for biases)
//   gate block k:  α^x_k ⊙ (W_x x)_k + α^h_k ⊙ (W_h h)_k + β_k + b_k,   α = z_k·D_k, β = z_b,k·D_b,k
// then (with hyper_layer_norm) the gates are layer-normalised as in LayerNormLstm; h uses LN(c)
// always, as magenta does. Differences from magenta, same function class: the 12 embedding maps
// are one matmul (the β embeddings get a bias too, initialised to 0) and the 12 D maps one bmm.
class HyperLstmCellImpl : public RecurrentCellImpl {
public:
    explicit HyperLstmCellImpl(RnnCellOptions options);
    void reset();
    int64_t state_size() const override;
    CellState split_state(const torch::Tensor& flat) const override;
    int64_t projection_size() const override;  // 4H (main) + 4Hh (hyper cell)
    std::pair<torch::Tensor, torch::Tensor> input_projection() const override;
    torch::Tensor project_input(const torch::Tensor& x) const override;
    torch::Tensor step(const torch::Tensor& xp, CellState& state, const torch::Tensor& mask = {}) override;
    std::vector<torch::Tensor> prepare_step() const override;
    torch::Tensor step_prepared(const torch::Tensor& xp, CellState& state,
                                const std::vector<torch::Tensor>& prepared) const override;
    torch::Tensor sequence(const torch::Tensor& xp, CellState& state,
                           const torch::Tensor& masks = {}) override;

    torch::Tensor weight_ih;         // (4H, I) main input weights
    torch::Tensor weight_hh;         // (4H, H) main recurrent weights
    torch::Tensor bias;              // (4H) main bias (forget block = forget_bias without layer norm)
    torch::Tensor ln_gamma;          // (4H) gate layer norm (hyper_layer_norm only)
    torch::Tensor ln_beta;           // (4H)  forget block = forget_bias
    torch::Tensor ln_c_gamma;        // (H)
    torch::Tensor ln_c_beta;         // (H)
    torch::Tensor hyper_weight_ih;   // (4Hh, I) hyper cell: x part of its input [x, h]
    torch::Tensor hyper_weight_hh;   // (4Hh, H)  hyper cell: h part of its input
    torch::Tensor hyper_weight_rec;  // (4Hh, Hh) hyper cell recurrence
    torch::Tensor hyper_bias;        // (4Hh) hyper cell bias (without layer norm)
    torch::Tensor hyper_ln_gamma;    // (4Hh) hyper cell layer norm (hyper_layer_norm only)
    torch::Tensor hyper_ln_beta;     // (4Hh)
    torch::Tensor hyper_ln_c_gamma;  // (Hh)
    torch::Tensor hyper_ln_c_beta;   // (Hh)
    torch::Tensor embed_weight;      // (12E, Hh) ĥ → z; rows [0,8E) zero-initialised (α embeddings),
                                     //   rows [8E,12E) N(0, 0.01²) (β embeddings)
    torch::Tensor embed_bias;        // (12E) one for the α embeddings, zero for the β embeddings
    torch::Tensor scale_weight;      // (12, E, H) D maps: blocks 0-3 α^x, 4-7 α^h (init 0.1/E),
                                     //   8-11 β (init 0)
};

struct RnnStackOptions {
    /// Cell type: "lstm", "layer_norm" or "hyper".
    TORCH_ARG(std::string, cell) = "lstm";
    /// Width of the bottom layer's input.
    TORCH_ARG(int64_t, input_size) = 69;
    /// Width H of every layer.
    TORCH_ARG(int64_t, hidden_size) = 512;
    /// Number of stacked layers (magenta 1, kanji2kanji 3).
    TORCH_ARG(int64_t, num_layers) = 1;
    /// HyperLSTM: hyper cell width Hh.
    TORCH_ARG(int64_t, hyper_size) = 256;
    /// HyperLSTM: embedding size E.
    TORCH_ARG(int64_t, hyper_embed) = 32;
    /// HyperLSTM: layer norm in the main and hyper cells.
    TORCH_ARG(bool, hyper_layer_norm) = true;
    /// Initial forget-gate bias.
    TORCH_ARG(double, forget_bias) = 1.0;
    /// Recurrent dropout keep probability while training (1 = off; magenta 0.9, kanji2kanji 0.3).
    TORCH_ARG(double, recurrent_dropout_keep) = 1.0;
};

// How RnnStack::forward runs a sequence.
enum class RnnPath {
    Auto,      // Fused for "lstm" without active dropout on CUDA or without autograd, else PerStep
    Fused,     // torch::nn::LSTM, all layers in one call (cell "lstm" only; no recurrent dropout)
    PerStep,   // each layer's `sequence` (hand-written BPTT)
    Autograd,  // each layer's `step` in a loop, autograd through every op (reference, slow)
};

// Layers of one cell type stacked; layer l > 0 reads layer l−1's h.
class RnnStackImpl : public torch::nn::Module {
public:
    explicit RnnStackImpl(RnnStackOptions options = {});
    void reset();

    // x is (B,T,I); state (one CellState per layer) holds the state before step 1 and is replaced
    // by the state after step T. Returns the top layer's h for every step, (B,T,H). Recurrent
    // dropout is active when is_training() and keep < 1; its masks come from torch's default
    // generator (like torch::nn::Dropout). With cond (B,C) the input at every step is [x_t, cond]
    // and x is (B,T,I−C): the same values as passing the concatenation, but cond's share of the
    // bottom projection is computed once per sequence instead of at every step.
    torch::Tensor forward(const torch::Tensor& x, RnnState& state, RnnPath path = RnnPath::Auto,
                          const torch::Tensor& cond = {});

    // One step for every layer, no dropout. x is (B,I); returns the top h (B,H).
    torch::Tensor step(const torch::Tensor& x, RnnState& state);

    // Values per example in the whole stack's state: num_layers · layer state_size.
    int64_t state_size() const;
    // flat is (B, state_size()) -> per-layer states (layer-major, each laid out as split_state).
    RnnState split_state(const torch::Tensor& flat) const;

    RnnStackOptions options;
    // Cell "lstm": the parameters live in `lstm` (registered as lstm; on CUDA its weights are
    // flattened for cuDNN) and `layers` are views of its layers, not registered. Other cells:
    // `layers` registered as layer0, layer1, ...
    torch::nn::LSTM lstm{nullptr};
    std::vector<std::shared_ptr<RecurrentCellImpl>> layers;
};
TORCH_MODULE(RnnStack);

// Step-by-step driving of an RnnStack whose bottom input is [s_t, cond] with cond fixed for the
// whole sequence (the sampler: s_t the previous stroke row, cond = z). Every input projection is
// prepared once, and cond's share of the bottom one computed once, so a step costs only the
// recurrent work. Holds the stack's weights as they were at construction: build a new stepper
// after changing them. Runs under the caller's grad mode (the sampler uses NoGradGuard).
class RnnStepper {
public:
    // cond is (B, C) with C < input_size; s_t will be (B, input_size − C).
    RnnStepper(const RnnStackImpl& stack, const torch::Tensor& cond);
    // s is (B, input_size − C); updates state and returns the top h (B,H). Same values as
    // stack.step(cat(s, cond), state).
    torch::Tensor step(const torch::Tensor& s, RnnState& state) const;

private:
    std::vector<std::shared_ptr<RecurrentCellImpl>> layers_;
    std::vector<std::vector<torch::Tensor>> prepared_;  // per layer: prepare_step()
    torch::Tensor s_weight_t_;             // (I−C, P0): bottom layer's weight for s, transposed
    torch::Tensor cond_proj_;              // (B, P0): cond·W_condᵀ + b for the bottom layer
    std::vector<torch::Tensor> weight_t_;  // per upper layer l: (H, P_l)
    std::vector<torch::Tensor> bias_;      // per upper layer l: (P_l) or undefined
};

}  // namespace k2k
