// Helpers that rnn_cells.cpp, rnn_bptt.cpp and rnn_stack.cpp all need, kept in one place instead of
// copies; internal to src/models (not part of the public API, include only from the rnn_*.cpp files).
#pragma once

#include <torch/types.h>

#include <cstdint>

#include "models/rnn_cells.h"

namespace k2k::detail {

// magenta's LSTM initialisation of one layer's four tensors (rnn_cells.cpp). RnnStack uses it on
// the parameters of its fused torch::nn::LSTM.
void init_lstm_layer(torch::Tensor w_ih, torch::Tensor w_hh, torch::Tensor b_ih, torch::Tensor b_hh,
                     double forget_bias);

// TORCH_CHECKs that s holds (B, hidden) h and c, and with hyper also (B, hyper_size) hyper_h and
// hyper_c; who names the caller in the message (rnn_cells.cpp).
void check_state(const CellState& s, int64_t hidden, bool hyper, int64_t hyper_size, const char* who);

inline torch::Tensor mask_at(const torch::Tensor& masks, int64_t t) {
    return masks.defined() ? masks.select(0, t) : torch::Tensor();
}

}  // namespace k2k::detail
