// Recurrent cells of the Sketch-RNN decoder: per-step maths and initialisation as magenta; their
// whole-sequence BPTT is in rnn_bptt.cpp, the layer stack in rnn_stack.cpp. Equations: rnn_cells.h.
#include "models/rnn_cells.h"

#include <torch/torch.h>

#include <cmath>

#include "models/rnn_bptt.h"
#include "models/rnn_internal.h"

namespace k2k {

using detail::check_state;
using detail::core_forward;
using detail::CoreParams;
using detail::hyper_recurrence;
using detail::init_lstm_layer;
using detail::fused_lstm_applies;
using detail::fused_lstm_recurrence;
using detail::lstm_recurrence;
using detail::mask_at;

namespace {

using torch::autograd::variable_list;

// ---------------------------------------------------------------------------------------------
// Initialisation (magenta rnn.py): input weights Glorot uniform (TF's default initializer),
// recurrent weights orthogonal per gate block (lstm_ortho_initializer).

void glorot_uniform_(torch::Tensor w, int64_t fan_in, int64_t fan_out) {
    const double limit = std::sqrt(6.0 / double(fan_in + fan_out));
    w.uniform_(-limit, limit);
}

// w is (4H, H): each (H, H) gate block orthogonal.
void orthogonal_blocks_(torch::Tensor w, int64_t blocks) {
    const int64_t rows = w.size(0) / blocks;
    for (int64_t k = 0; k < blocks; k++) torch::nn::init::orthogonal_(w.narrow(0, k * rows, rows));
}

}  // namespace

namespace detail {

// magenta's LSTM initialisation of one layer's four tensors.
void init_lstm_layer(torch::Tensor w_ih, torch::Tensor w_hh, torch::Tensor b_ih, torch::Tensor b_hh,
                     double forget_bias) {
    torch::NoGradGuard no_grad;
    const int64_t hd = w_hh.size(1);
    glorot_uniform_(w_ih, w_ih.size(1), 4 * hd);
    orthogonal_blocks_(w_hh, 4);
    b_ih.zero_();
    b_ih.narrow(0, hd, hd).fill_(forget_bias);
    b_hh.zero_();
}

void check_state(const CellState& s, int64_t hidden, bool hyper, int64_t hyper_size, const char* who) {
    TORCH_CHECK(s.h.defined() && s.c.defined() && s.h.dim() == 2 && s.h.size(1) == hidden &&
                    s.c.sizes() == s.h.sizes(),
                who, ": state h and c must be (B, ", hidden, ")");
    if (hyper)
        TORCH_CHECK(s.hyper_h.defined() && s.hyper_c.defined() && s.hyper_h.dim() == 2 &&
                        s.hyper_h.size(0) == s.h.size(0) && s.hyper_h.size(1) == hyper_size &&
                        s.hyper_c.sizes() == s.hyper_h.sizes(),
                    who, ": state hyper_h and hyper_c must be (B, ", hyper_size, ")");
}

}  // namespace detail

namespace {

void check_sequence_args(const torch::Tensor& xp, int64_t width, const CellState& s,
                         const torch::Tensor& masks, const char* who) {
    TORCH_CHECK(xp.dim() == 3 && xp.size(2) == width && xp.size(1) > 0, who,
                ": projected input must be (B, T>0, ", width, "), got ", xp.sizes());
    TORCH_CHECK(xp.size(0) == s.h.size(0), who, ": batch of input (", xp.size(0), ") and state (",
                s.h.size(0), ") differ");
    if (masks.defined())
        TORCH_CHECK(masks.dim() == 3 && masks.size(0) == xp.size(1) && masks.size(1) == xp.size(0) &&
                        masks.size(2) == s.h.size(1),
                    who, ": dropout masks must be (T, B, H), got ", masks.sizes());
}

// Without autograd there is nothing to save for a backward: plain steps (sequence's fast path).
torch::Tensor step_loop(RecurrentCellImpl& cell, const torch::Tensor& xp, CellState& state,
                        const torch::Tensor& masks) {
    std::vector<torch::Tensor> hs;
    for (int64_t t = 0; t < xp.size(1); t++)
        hs.push_back(cell.step(xp.select(1, t), state, mask_at(masks, t)));
    return torch::stack(hs, 1);
}

std::vector<torch::Tensor> split_columns(const torch::Tensor& flat, const std::vector<int64_t>& widths,
                                         const char* who) {
    int64_t total = 0;
    for (int64_t w : widths) total += w;
    TORCH_CHECK(flat.dim() == 2 && flat.size(1) == total, who, ": flat state must be (B, ", total, "), got ",
                flat.sizes());
    std::vector<torch::Tensor> out;
    int64_t at = 0;
    for (int64_t w : widths) {
        out.push_back(flat.narrow(1, at, w));
        at += w;
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// LstmCell

LstmCellImpl::LstmCellImpl(RnnCellOptions options_) : RecurrentCellImpl(std::move(options_)) {
    reset();
}

LstmCellImpl::LstmCellImpl(RnnCellOptions options_, const torch::nn::LSTMImpl& lstm, int64_t layer)
    : RecurrentCellImpl(std::move(options_)) {
    const std::string l = std::to_string(layer);
    auto params = lstm.named_parameters(false);
    TORCH_CHECK(params.contains("weight_ih_l" + l) && params.contains("bias_hh_l" + l),
                "LstmCell: the LSTM has no layer ", layer, " with biases");
    weight_ih = params["weight_ih_l" + l];
    weight_hh = params["weight_hh_l" + l];
    bias_ih = params["bias_ih_l" + l];
    bias_hh = params["bias_hh_l" + l];
    TORCH_CHECK(weight_ih.size(0) == 4 * options.hidden_size() && weight_ih.size(1) == options.input_size(),
                "LstmCell: LSTM layer ", layer, " has weight_ih ", weight_ih.sizes(), ", expected (",
                4 * options.hidden_size(), ", ", options.input_size(), ")");
}

void LstmCellImpl::reset() {
    const int64_t in = options.input_size(), hd = options.hidden_size();
    TORCH_CHECK(in > 0 && hd > 0, "LstmCell: input_size and hidden_size must be positive");
    weight_ih = register_parameter("weight_ih", torch::empty({4 * hd, in}));
    weight_hh = register_parameter("weight_hh", torch::empty({4 * hd, hd}));
    bias_ih = register_parameter("bias_ih", torch::empty({4 * hd}));
    bias_hh = register_parameter("bias_hh", torch::empty({4 * hd}));
    init_lstm_layer(weight_ih, weight_hh, bias_ih, bias_hh, options.forget_bias());
}

int64_t LstmCellImpl::state_size() const {
    return 2 * options.hidden_size();
}

CellState LstmCellImpl::split_state(const torch::Tensor& flat) const {
    auto parts = split_columns(flat, {options.hidden_size(), options.hidden_size()}, "LstmCell::split_state");
    return CellState{parts[0], parts[1], {}, {}};
}

int64_t LstmCellImpl::projection_size() const {
    return 4 * options.hidden_size();
}

std::pair<torch::Tensor, torch::Tensor> LstmCellImpl::input_projection() const {
    return {weight_ih, bias_ih + bias_hh};
}

torch::Tensor LstmCellImpl::project_input(const torch::Tensor& x) const {
    // x is (..., I) -> (..., 4H)
    TORCH_CHECK(x.size(-1) == options.input_size(), "LstmCell: input must be (..., ", options.input_size(),
                "), got ", x.sizes());
    return torch::nn::functional::linear(x, weight_ih, bias_ih + bias_hh);
}

std::vector<torch::Tensor> LstmCellImpl::prepare_step() const {
    return {weight_hh.t().contiguous()};
}

torch::Tensor LstmCellImpl::step_prepared(const torch::Tensor& xp, CellState& state,
                                          const std::vector<torch::Tensor>& prepared) const {
    check_state(state, options.hidden_size(), false, 0, "LstmCell::step_prepared");
    const torch::Tensor a = torch::addmm(xp, state.h, prepared[0]);
    std::tie(state.h, state.c) = core_forward(a, state.c, torch::Tensor(), CoreParams(), nullptr);
    return state.h;
}

torch::Tensor LstmCellImpl::step(const torch::Tensor& xp, CellState& state, const torch::Tensor& mask) {
    // xp is (B,4H) -> h (B,H)
    check_state(state, options.hidden_size(), false, 0, "LstmCell::step");
    CoreParams p;
    const torch::Tensor a = torch::addmm(xp, state.h, weight_hh.t());
    std::tie(state.h, state.c) = core_forward(a, state.c, mask, p, nullptr);
    return state.h;
}

torch::Tensor LstmCellImpl::sequence(const torch::Tensor& xp, CellState& state, const torch::Tensor& masks) {
    // xp is (B,T,4H) -> (B,T,H)
    check_state(state, options.hidden_size(), false, 0, "LstmCell::sequence");
    check_sequence_args(xp, projection_size(), state, masks, "LstmCell::sequence");
    if (!torch::GradMode::is_enabled()) return step_loop(*this, xp, state, masks);
    variable_list r = fused_lstm_applies(xp, state.h, state.c, weight_hh, masks)
                          ? fused_lstm_recurrence(xp.contiguous(), state.h, state.c, weight_hh, masks)
                          : lstm_recurrence(xp.contiguous(), state.h, state.c, weight_hh, torch::Tensor(),
                                            torch::Tensor(), torch::Tensor(), torch::Tensor(), masks, false);
    state.h = r[1];
    state.c = r[2];
    return r[0];
}

// ---------------------------------------------------------------------------------------------
// LayerNormLstmCell

LayerNormLstmCellImpl::LayerNormLstmCellImpl(RnnCellOptions options_)
    : RecurrentCellImpl(std::move(options_)) {
    reset();
}

void LayerNormLstmCellImpl::reset() {
    const int64_t in = options.input_size(), hd = options.hidden_size();
    TORCH_CHECK(in > 0 && hd > 0, "LayerNormLstmCell: input_size and hidden_size must be positive");
    weight_ih = register_parameter("weight_ih", torch::empty({4 * hd, in}));
    weight_hh = register_parameter("weight_hh", torch::empty({4 * hd, hd}));
    ln_gamma = register_parameter("ln_gamma", torch::ones({4 * hd}));
    ln_beta = register_parameter("ln_beta", torch::zeros({4 * hd}));
    ln_c_gamma = register_parameter("ln_c_gamma", torch::ones({hd}));
    ln_c_beta = register_parameter("ln_c_beta", torch::zeros({hd}));
    torch::NoGradGuard no_grad;
    glorot_uniform_(weight_ih, in, 4 * hd);
    orthogonal_blocks_(weight_hh, 4);
    ln_beta.narrow(0, hd, hd).fill_(options.forget_bias());
}

int64_t LayerNormLstmCellImpl::state_size() const {
    return 2 * options.hidden_size();
}

CellState LayerNormLstmCellImpl::split_state(const torch::Tensor& flat) const {
    auto parts =
        split_columns(flat, {options.hidden_size(), options.hidden_size()}, "LayerNormLstmCell::split_state");
    return CellState{parts[0], parts[1], {}, {}};
}

int64_t LayerNormLstmCellImpl::projection_size() const {
    return 4 * options.hidden_size();
}

std::pair<torch::Tensor, torch::Tensor> LayerNormLstmCellImpl::input_projection() const {
    return {weight_ih, torch::Tensor()};
}

torch::Tensor LayerNormLstmCellImpl::project_input(const torch::Tensor& x) const {
    // x is (..., I) -> (..., 4H); magenta's layer-norm cell has no bias (LN's β plays that role)
    TORCH_CHECK(x.size(-1) == options.input_size(), "LayerNormLstmCell: input must be (..., ",
                options.input_size(), "), got ", x.sizes());
    return torch::matmul(x, weight_ih.t());
}

std::vector<torch::Tensor> LayerNormLstmCellImpl::prepare_step() const {
    return {weight_hh.t().contiguous()};
}

torch::Tensor LayerNormLstmCellImpl::step_prepared(const torch::Tensor& xp, CellState& state,
                                                   const std::vector<torch::Tensor>& prepared) const {
    check_state(state, options.hidden_size(), false, 0, "LayerNormLstmCell::step_prepared");
    CoreParams p;
    p.ln_gates = p.ln_c = true;
    p.gamma = ln_gamma;
    p.beta = ln_beta;
    p.c_gamma = ln_c_gamma;
    p.c_beta = ln_c_beta;
    const torch::Tensor a = torch::addmm(xp, state.h, prepared[0]);
    std::tie(state.h, state.c) = core_forward(a, state.c, torch::Tensor(), p, nullptr);
    return state.h;
}

torch::Tensor LayerNormLstmCellImpl::step(const torch::Tensor& xp, CellState& state,
                                          const torch::Tensor& mask) {
    check_state(state, options.hidden_size(), false, 0, "LayerNormLstmCell::step");
    CoreParams p;
    p.ln_gates = p.ln_c = true;
    p.gamma = ln_gamma;
    p.beta = ln_beta;
    p.c_gamma = ln_c_gamma;
    p.c_beta = ln_c_beta;
    const torch::Tensor a = torch::addmm(xp, state.h, weight_hh.t());
    std::tie(state.h, state.c) = core_forward(a, state.c, mask, p, nullptr);
    return state.h;
}

torch::Tensor LayerNormLstmCellImpl::sequence(const torch::Tensor& xp, CellState& state,
                                              const torch::Tensor& masks) {
    check_state(state, options.hidden_size(), false, 0, "LayerNormLstmCell::sequence");
    check_sequence_args(xp, projection_size(), state, masks, "LayerNormLstmCell::sequence");
    if (!torch::GradMode::is_enabled()) return step_loop(*this, xp, state, masks);
    variable_list r = lstm_recurrence(xp.contiguous(), state.h, state.c, weight_hh, ln_gamma, ln_beta,
                                      ln_c_gamma, ln_c_beta, masks, true);
    state.h = r[1];
    state.c = r[2];
    return r[0];
}

// ---------------------------------------------------------------------------------------------
// HyperLstmCell

HyperLstmCellImpl::HyperLstmCellImpl(RnnCellOptions options_) : RecurrentCellImpl(std::move(options_)) {
    reset();
}

void HyperLstmCellImpl::reset() {
    const int64_t in = options.input_size(), hd = options.hidden_size();
    const int64_t hy = options.hyper_size(), e = options.hyper_embed();
    TORCH_CHECK(in > 0 && hd > 0, "HyperLstmCell: input_size and hidden_size must be positive");
    TORCH_CHECK(hy > 0 && e > 0, "HyperLstmCell: hyper_size and hyper_embed must be positive");
    const bool ln = options.hyper_layer_norm();
    weight_ih = register_parameter("weight_ih", torch::empty({4 * hd, in}));
    weight_hh = register_parameter("weight_hh", torch::empty({4 * hd, hd}));
    bias = register_parameter("bias", torch::zeros({4 * hd}));
    if (ln) {
        ln_gamma = register_parameter("ln_gamma", torch::ones({4 * hd}));
        ln_beta = register_parameter("ln_beta", torch::zeros({4 * hd}));
    }
    ln_c_gamma = register_parameter("ln_c_gamma", torch::ones({hd}));
    ln_c_beta = register_parameter("ln_c_beta", torch::zeros({hd}));
    hyper_weight_ih = register_parameter("hyper_weight_ih", torch::empty({4 * hy, in}));
    hyper_weight_hh = register_parameter("hyper_weight_hh", torch::empty({4 * hy, hd}));
    hyper_weight_rec = register_parameter("hyper_weight_rec", torch::empty({4 * hy, hy}));
    if (ln) {
        hyper_ln_gamma = register_parameter("hyper_ln_gamma", torch::ones({4 * hy}));
        hyper_ln_beta = register_parameter("hyper_ln_beta", torch::zeros({4 * hy}));
        hyper_ln_c_gamma = register_parameter("hyper_ln_c_gamma", torch::ones({hy}));
        hyper_ln_c_beta = register_parameter("hyper_ln_c_beta", torch::zeros({hy}));
    } else {
        hyper_bias = register_parameter("hyper_bias", torch::zeros({4 * hy}));
    }
    embed_weight = register_parameter("embed_weight", torch::zeros({12 * e, hy}));
    embed_bias = register_parameter("embed_bias", torch::zeros({12 * e}));
    scale_weight = register_parameter("scale_weight", torch::zeros({12, e, hd}));

    torch::NoGradGuard no_grad;
    glorot_uniform_(weight_ih, in, 4 * hd);
    orthogonal_blocks_(weight_hh, 4);
    if (ln)
        ln_beta.narrow(0, hd, hd).fill_(options.forget_bias());
    else
        bias.narrow(0, hd, hd).fill_(options.forget_bias());
    // The hyper cell reads [x, h]: Glorot over that concatenated fan-in, as magenta.
    glorot_uniform_(hyper_weight_ih, in + hd, 4 * hy);
    glorot_uniform_(hyper_weight_hh, in + hd, 4 * hy);
    orthogonal_blocks_(hyper_weight_rec, 4);
    if (ln)
        hyper_ln_beta.narrow(0, hy, hy).fill_(options.forget_bias());
    else
        hyper_bias.narrow(0, hy, hy).fill_(options.forget_bias());
    // magenta hyper_norm: zw weights 0 with bias 1, α maps 0.1/E (so α starts at 0.1 everywhere,
    // the recurrent batch-norm γ = 0.1 trick), zb weights N(0, 0.01²), β maps 0.
    embed_bias.narrow(0, 0, 8 * e).fill_(1.0);
    embed_weight.narrow(0, 8 * e, 4 * e).normal_(0.0, 0.01);
    scale_weight.narrow(0, 0, 8).fill_(0.1 / double(e));
}

int64_t HyperLstmCellImpl::state_size() const {
    return 2 * (options.hidden_size() + options.hyper_size());
}

CellState HyperLstmCellImpl::split_state(const torch::Tensor& flat) const {
    const int64_t hd = options.hidden_size(), hy = options.hyper_size();
    auto parts = split_columns(flat, {hd, hd, hy, hy}, "HyperLstmCell::split_state");
    return CellState{parts[0], parts[1], parts[2], parts[3]};
}

int64_t HyperLstmCellImpl::projection_size() const {
    return 4 * (options.hidden_size() + options.hyper_size());
}

std::pair<torch::Tensor, torch::Tensor> HyperLstmCellImpl::input_projection() const {
    // [main W_x (no bias: it is scaled by α), hyper cell's W for x (+ its bias without layer norm)]
    const torch::Tensor w = torch::cat({weight_ih, hyper_weight_ih}, 0);
    if (options.hyper_layer_norm()) return {w, torch::Tensor()};
    return {w, torch::cat({torch::zeros_like(bias), hyper_bias})};
}

torch::Tensor HyperLstmCellImpl::project_input(const torch::Tensor& x) const {
    // x is (..., I) -> (..., 4H + 4Hh)
    TORCH_CHECK(x.size(-1) == options.input_size(), "HyperLstmCell: input must be (..., ",
                options.input_size(), "), got ", x.sizes());
    auto wb = input_projection();
    if (!wb.second.defined()) return torch::matmul(x, wb.first.t());
    return torch::nn::functional::linear(x, wb.first, wb.second);
}

namespace {

// One HyperLSTM step given the two products with h_{t−1}: gh = W_h h (B,4H) and
// ya_h = (hyper input projection of x) + W_yh h (B,4Hh). rec_t (Hh,4Hh) and embed_t (Hh,12E) are
// the transposed hyper recurrent and embedding weights.
torch::Tensor hyper_step(const HyperLstmCellImpl& cell, const torch::Tensor& xp, CellState& state,
                         const torch::Tensor& mask, const torch::Tensor& gh, const torch::Tensor& ya_h,
                         const torch::Tensor& rec_t, const torch::Tensor& embed_t) {
    const int64_t hd = cell.options.hidden_size(), e = cell.options.hyper_embed(), b = xp.size(0);
    const bool ln = cell.options.hyper_layer_norm();
    CoreParams py;
    py.ln_gates = py.ln_c = ln;
    py.gamma = cell.hyper_ln_gamma;
    py.beta = cell.hyper_ln_beta;
    py.c_gamma = cell.hyper_ln_c_gamma;
    py.c_beta = cell.hyper_ln_c_beta;
    const torch::Tensor ya = torch::addmm(ya_h, state.hyper_h, rec_t);
    std::tie(state.hyper_h, state.hyper_c) = core_forward(ya, state.hyper_c, torch::Tensor(), py, nullptr);
    const torch::Tensor zz = torch::addmm(cell.embed_bias, state.hyper_h, embed_t);               // (B,12E)
    const torch::Tensor sc = torch::bmm(zz.view({b, 12, e}).transpose(0, 1), cell.scale_weight);  // (12,B,H)
    const torch::Tensor xh4 = xp.narrow(1, 0, 4 * hd).reshape({b, 4, hd}).transpose(0, 1);
    const torch::Tensor gh4 = gh.reshape({b, 4, hd}).transpose(0, 1);
    const torch::Tensor a = (sc.narrow(0, 0, 4) * xh4 + sc.narrow(0, 4, 4) * gh4 + sc.narrow(0, 8, 4) +
                             cell.bias.view({4, 1, hd}))
                                .contiguous();
    CoreParams pm;
    pm.blocks_first = true;
    pm.ln_gates = ln;
    pm.ln_c = true;
    pm.gamma = cell.ln_gamma;
    pm.beta = cell.ln_beta;
    pm.c_gamma = cell.ln_c_gamma;
    pm.c_beta = cell.ln_c_beta;
    std::tie(state.h, state.c) = core_forward(a, state.c, mask, pm, nullptr);
    return state.h;
}

}  // namespace

torch::Tensor HyperLstmCellImpl::step(const torch::Tensor& xp, CellState& state, const torch::Tensor& mask) {
    // xp is (B, 4H+4Hh) -> h (B,H)
    const int64_t hd = options.hidden_size(), hy = options.hyper_size();
    check_state(state, hd, true, hy, "HyperLstmCell::step");
    const torch::Tensor gh = torch::mm(state.h, weight_hh.t());
    const torch::Tensor ya_h = torch::addmm(xp.narrow(1, 4 * hd, 4 * hy), state.h, hyper_weight_hh.t());
    return hyper_step(*this, xp, state, mask, gh, ya_h, hyper_weight_rec.t(), embed_weight.t());
}

std::vector<torch::Tensor> HyperLstmCellImpl::prepare_step() const {
    return {torch::cat({weight_hh, hyper_weight_hh}, 0).t().contiguous(), hyper_weight_rec.t().contiguous(),
            embed_weight.t().contiguous()};
}

torch::Tensor HyperLstmCellImpl::step_prepared(const torch::Tensor& xp, CellState& state,
                                               const std::vector<torch::Tensor>& prepared) const {
    const int64_t hd = options.hidden_size(), hy = options.hyper_size();
    check_state(state, hd, true, hy, "HyperLstmCell::step_prepared");
    const torch::Tensor rec = torch::mm(state.h, prepared[0]);  // (B, 4H+4Hh): both products with h
    const torch::Tensor ya_h = xp.narrow(1, 4 * hd, 4 * hy) + rec.narrow(1, 4 * hd, 4 * hy);
    return hyper_step(*this, xp, state, torch::Tensor(), rec.narrow(1, 0, 4 * hd), ya_h, prepared[1],
                      prepared[2]);
}

torch::Tensor HyperLstmCellImpl::sequence(const torch::Tensor& xp, CellState& state,
                                          const torch::Tensor& masks) {
    const int64_t hd = options.hidden_size(), hy = options.hyper_size();
    check_state(state, hd, true, hy, "HyperLstmCell::sequence");
    check_sequence_args(xp, projection_size(), state, masks, "HyperLstmCell::sequence");
    if (!torch::GradMode::is_enabled()) return step_loop(*this, xp, state, masks);
    const torch::Tensor w_hcat = torch::cat({weight_hh, hyper_weight_hh}, 0);
    const torch::Tensor w_ycat = torch::cat({embed_weight, hyper_weight_rec}, 0);
    variable_list r = hyper_recurrence(xp.contiguous(), state.h, state.c, state.hyper_h, state.hyper_c,
                                       w_hcat, w_ycat, embed_bias, scale_weight, bias, ln_gamma, ln_beta,
                                       ln_c_gamma, ln_c_beta, hyper_ln_gamma, hyper_ln_beta, hyper_ln_c_gamma,
                                       hyper_ln_c_beta, masks, options.hyper_layer_norm());
    state.h = r[1];
    state.c = r[2];
    state.hyper_h = r[3];
    state.hyper_c = r[4];
    return r[0];
}

}  // namespace k2k
