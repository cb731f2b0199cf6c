// RnnStack and RnnStepper (declared in rnn_cells.h), apart from the cells: what stacking adds on top
// of one cell's maths (choice of fused or per-step path, dropout masks, the sampler's prepared steps).
#include "models/rnn_cells.h"

#include <torch/torch.h>

#include "models/rnn_internal.h"

namespace k2k {

using detail::check_state;
using detail::init_lstm_layer;
using detail::mask_at;

// ---------------------------------------------------------------------------------------------
// RnnStack

RnnStackImpl::RnnStackImpl(RnnStackOptions options_) : options(std::move(options_)) {
    reset();
}

void RnnStackImpl::reset() {
    const RnnStackOptions& o = options;
    TORCH_CHECK(o.cell() == "lstm" || o.cell() == "layer_norm" || o.cell() == "hyper",
                "RnnStack: cell must be \"lstm\", \"layer_norm\" or \"hyper\", got \"", o.cell(), "\"");
    TORCH_CHECK(o.num_layers() > 0, "RnnStack: num_layers must be positive, got ", o.num_layers());
    TORCH_CHECK(o.recurrent_dropout_keep() > 0.0 && o.recurrent_dropout_keep() <= 1.0,
                "RnnStack: recurrent_dropout_keep must be in (0, 1], got ", o.recurrent_dropout_keep());
    if (lstm) {
        unregister_module("lstm");
        lstm = nullptr;
    } else {
        for (size_t l = 0; l < layers.size(); l++) unregister_module("layer" + std::to_string(l));
    }
    layers.clear();
    if (o.cell() == "lstm") {
        lstm = register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(o.input_size(), o.hidden_size())
                                                           .num_layers(o.num_layers())
                                                           .batch_first(true)));
        for (int64_t l = 0; l < o.num_layers(); l++) {
            const std::string k = std::to_string(l);
            auto p = lstm->named_parameters(false);
            init_lstm_layer(p["weight_ih_l" + k], p["weight_hh_l" + k], p["bias_ih_l" + k],
                            p["bias_hh_l" + k], o.forget_bias());
            RnnCellOptions co(l == 0 ? o.input_size() : o.hidden_size(), o.hidden_size());
            co.forget_bias(o.forget_bias());
            layers.push_back(std::make_shared<LstmCellImpl>(co, *lstm, l));
        }
        return;
    }
    for (int64_t l = 0; l < o.num_layers(); l++) {
        RnnCellOptions co(l == 0 ? o.input_size() : o.hidden_size(), o.hidden_size());
        co.forget_bias(o.forget_bias()).hyper_size(o.hyper_size()).hyper_embed(o.hyper_embed());
        co.hyper_layer_norm(o.hyper_layer_norm());
        std::shared_ptr<RecurrentCellImpl> cell;
        if (o.cell() == "layer_norm")
            cell = std::make_shared<LayerNormLstmCellImpl>(co);
        else
            cell = std::make_shared<HyperLstmCellImpl>(co);
        layers.push_back(register_module("layer" + std::to_string(l), cell));
    }
}

int64_t RnnStackImpl::state_size() const {
    return options.num_layers() * layers[0]->state_size();
}

RnnState RnnStackImpl::split_state(const torch::Tensor& flat) const {
    TORCH_CHECK(flat.dim() == 2 && flat.size(1) == state_size(),
                "RnnStack::split_state: flat state must be (B, ", state_size(), "), got ", flat.sizes());
    RnnState out;
    const int64_t per = layers[0]->state_size();
    for (size_t l = 0; l < layers.size(); l++)
        out.push_back(layers[l]->split_state(flat.narrow(1, int64_t(l) * per, per)));
    return out;
}

namespace {

// The bottom layer's projected inputs for the input [x_t, cond] at every step: x's columns of the
// projection as one matmul over all steps, cond's once per sequence, broadcast over T.
// x is (B,T,I−C), cond (B,C) -> (B,T,P).
torch::Tensor project_with_cond(const RecurrentCellImpl& cell, const torch::Tensor& x, const torch::Tensor& cond) {
    const auto wb = cell.input_projection();  // (P, I), (P) or undefined
    const int64_t in = wb.first.size(1), c = cond.size(1);
    const torch::Tensor w_cond = wb.first.narrow(1, in - c, c);
    const torch::Tensor cond_proj = wb.second.defined() ? torch::nn::functional::linear(cond, w_cond, wb.second)
                                                         : torch::mm(cond, w_cond.t());
    return torch::matmul(x, wb.first.narrow(1, 0, in - c).t()) + cond_proj.unsqueeze(1);
}

}  // namespace

torch::Tensor RnnStackImpl::forward(const torch::Tensor& x_in, RnnState& state, RnnPath path,
                                    const torch::Tensor& cond) {
    // x_in is (B,T,I), or (B,T,I−C) with cond (B,C) -> (B,T,H)
    const int64_t cond_size = cond.defined() ? cond.size(1) : 0;
    TORCH_CHECK(x_in.dim() == 3 && x_in.size(2) + cond_size == options.input_size() && x_in.size(1) > 0,
                "RnnStack::forward: x must be (B, T>0, ", options.input_size() - cond_size, "), got ",
                x_in.sizes());
    TORCH_CHECK(!cond.defined() || (cond.dim() == 2 && cond.size(0) == x_in.size(0)),
                "RnnStack::forward: cond must be (", x_in.size(0), ", C), got ", cond.sizes());
    TORCH_CHECK(state.size() == layers.size(), "RnnStack::forward: expected ", layers.size(),
                " layer states, got ", state.size());
    const bool dropout = is_training() && options.recurrent_dropout_keep() < 1.0;
    if (path == RnnPath::Auto) {
        // Measured (bench/bench_sketch_rnn.cpp, CPU, 1x512, T=80, B=32): torch's CPU LSTM builds an
        // autograd graph per step and was ~1.4x slower to train than the hand-written BPTT, but
        // slightly faster without autograd; on CUDA the fused path is cuDNN.
        const bool fused_wins = x_in.is_cuda() || !torch::GradMode::is_enabled();
        path = (options.cell() == "lstm" && !dropout && fused_wins) ? RnnPath::Fused : RnnPath::PerStep;
    }
    TORCH_CHECK(path != RnnPath::Fused || (options.cell() == "lstm" && !dropout),
                "RnnStack::forward: the fused path needs cell \"lstm\" without active recurrent dropout");
    const int64_t b = x_in.size(0), steps = x_in.size(1), hd = options.hidden_size();

    if (path == RnnPath::Fused) {
        const torch::Tensor x =
            cond.defined() ? torch::cat({x_in, cond.unsqueeze(1).expand({b, steps, cond_size})}, 2) : x_in;
        std::vector<torch::Tensor> h0, c0;
        for (size_t l = 0; l < layers.size(); l++) {
            check_state(state[l], hd, false, 0, "RnnStack::forward");
            h0.push_back(state[l].h);
            c0.push_back(state[l].c);
        }
        auto r = lstm->forward(x, std::make_tuple(torch::stack(h0), torch::stack(c0)));
        const torch::Tensor hn = std::get<0>(std::get<1>(r)), cn = std::get<1>(std::get<1>(r));
        for (size_t l = 0; l < layers.size(); l++) {
            state[l].h = hn.select(0, int64_t(l));
            state[l].c = cn.select(0, int64_t(l));
        }
        return std::get<0>(r);
    }

    torch::Tensor seq = x_in;
    for (size_t l = 0; l < layers.size(); l++) {
        RecurrentCellImpl& cell = *layers[l];
        torch::Tensor masks;
        if (dropout) {
            const double keep = options.recurrent_dropout_keep();
            masks = torch::empty({steps, b, hd}, x_in.options()).bernoulli_(keep).div_(keep);
        }
        // (B,T,P): all steps in one matmul
        const torch::Tensor xp = l == 0 && cond.defined() ? project_with_cond(cell, seq, cond) : cell.project_input(seq);
        if (path == RnnPath::PerStep) {
            seq = cell.sequence(xp, state[l], masks);
        } else {
            std::vector<torch::Tensor> hs;
            for (int64_t t = 0; t < steps; t++)
                hs.push_back(cell.step(xp.select(1, t), state[l], mask_at(masks, t)));
            seq = torch::stack(hs, 1);
        }
    }
    return seq;
}

torch::Tensor RnnStackImpl::step(const torch::Tensor& x, RnnState& state) {
    // x is (B,I) -> (B,H)
    TORCH_CHECK(x.dim() == 2 && x.size(1) == options.input_size(), "RnnStack::step: x must be (B, ",
                options.input_size(), "), got ", x.sizes());
    TORCH_CHECK(state.size() == layers.size(), "RnnStack::step: expected ", layers.size(),
                " layer states, got ", state.size());
    torch::Tensor h = x;
    for (size_t l = 0; l < layers.size(); l++) h = layers[l]->step(layers[l]->project_input(h), state[l]);
    return h;
}

// ---------------------------------------------------------------------------------------------
// RnnStepper

RnnStepper::RnnStepper(const RnnStackImpl& stack, const torch::Tensor& cond) : layers_(stack.layers) {
    for (const auto& layer : layers_) prepared_.push_back(layer->prepare_step());
    const int64_t in = stack.options.input_size();
    TORCH_CHECK(cond.dim() == 2 && cond.size(1) < in, "RnnStepper: cond must be (B, C) with C < ", in,
                ", got ", cond.sizes());
    const int64_t c = cond.size(1);
    auto wb = layers_[0]->input_projection();  // (P0, I)
    s_weight_t_ = wb.first.narrow(1, 0, in - c).t().contiguous();
    const torch::Tensor w_cond = wb.first.narrow(1, in - c, c);
    cond_proj_ = wb.second.defined() ? torch::nn::functional::linear(cond, w_cond, wb.second)
                                     : torch::mm(cond, w_cond.t());
    for (size_t l = 1; l < layers_.size(); l++) {
        auto p = layers_[l]->input_projection();
        weight_t_.push_back(p.first.t().contiguous());
        bias_.push_back(p.second);
    }
}

torch::Tensor RnnStepper::step(const torch::Tensor& s, RnnState& state) const {
    TORCH_CHECK(s.dim() == 2 && s.size(0) == cond_proj_.size(0) && s.size(1) == s_weight_t_.size(0),
                "RnnStepper::step: s must be (", cond_proj_.size(0), ", ", s_weight_t_.size(0), "), got ",
                s.sizes());
    TORCH_CHECK(state.size() == layers_.size(), "RnnStepper::step: expected ", layers_.size(),
                " layer states, got ", state.size());
    torch::Tensor h =
        layers_[0]->step_prepared(torch::addmm(cond_proj_, s, s_weight_t_), state[0], prepared_[0]);
    for (size_t l = 1; l < layers_.size(); l++) {
        const torch::Tensor xp = bias_[l - 1].defined() ? torch::addmm(bias_[l - 1], h, weight_t_[l - 1])
                                                        : torch::mm(h, weight_t_[l - 1]);
        h = layers_[l]->step_prepared(xp, state[l], prepared_[l]);
    }
    return h;
}

}  // namespace k2k
