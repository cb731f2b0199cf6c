// The LSTM core and the hand-written BPTT recurrences (rnn_bptt.cpp) behind the cells' step and
// sequence paths; internal to src/models (not part of the public API, include only from rnn_*.cpp).
#pragma once

#include <torch/types.h>

#include <utility>
#include <vector>

namespace k2k::detail {

// The LSTM core shared by all cells: gate pre-activations a -> (h, c).
//
// Gate layout: (B,4H) with the blocks along dim 1, or (4,B,H) with the blocks along dim 0 (the
// HyperLSTM's main gates, which are built block by block).

struct CoreParams {
    bool blocks_first = false;  // a is (4,B,H) instead of (B,4H)
    bool ln_gates = false;      // layer-normalise each gate block of a
    bool ln_c = false;          // h = σ(o)·tanh(LN(c)) instead of σ(o)·tanh(c)
    torch::Tensor gamma;        // (4H) gate LN scale (ln_gates)
    torch::Tensor beta;         // (4H) gate LN shift
    torch::Tensor c_gamma;      // (H) LN(c) scale (ln_c)
    torch::Tensor c_beta;       // (H) LN(c) shift
};

// What the hand-written backward keeps of one step; only rnn_bptt.cpp looks inside.
struct CoreCache;

// a: gate pre-activations; c_prev (B,H); mask (B,H) or undefined. Differentiable when cache is
// null (step path); fills cache otherwise (run under no-grad by the sequence functions).
// Returns (h, c).
std::pair<torch::Tensor, torch::Tensor> core_forward(const torch::Tensor& a, const torch::Tensor& c_prev,
                                                     const torch::Tensor& mask, const CoreParams& p,
                                                     CoreCache* cache);

// The whole-sequence recurrences, each one autograd node with hand-written BPTT: LstmRecurrence and
// HyperRecurrence in rnn_bptt.cpp document the arguments. An optional tensor is passed undefined
// when absent (the LN parameters without layer norm, masks without dropout). Return (hs (B,T,H),
// h_T, c_T), and for the HyperLSTM also (hy_T, cy_T).
std::vector<torch::Tensor> lstm_recurrence(const torch::Tensor& xp, const torch::Tensor& h0,
                                           const torch::Tensor& c0, const torch::Tensor& w_hh,
                                           const torch::Tensor& gamma, const torch::Tensor& beta,
                                           const torch::Tensor& c_gamma, const torch::Tensor& c_beta,
                                           const torch::Tensor& masks, bool layer_norm);
// The plain LSTM's recurrence (no layer norm) in float32 on the CPU, the gate maths of each step in
// one pass (rnn_lstm_fused.cpp); same arguments and results as lstm_recurrence without the LN
// parameters. fused_lstm_applies says whether the tensors qualify (float32, CPU, T >= 1).
bool fused_lstm_applies(const torch::Tensor& xp, const torch::Tensor& h0, const torch::Tensor& c0,
                        const torch::Tensor& w_hh, const torch::Tensor& masks);
std::vector<torch::Tensor> fused_lstm_recurrence(const torch::Tensor& xp, const torch::Tensor& h0,
                                                 const torch::Tensor& c0, const torch::Tensor& w_hh,
                                                 const torch::Tensor& masks);
std::vector<torch::Tensor> hyper_recurrence(
    const torch::Tensor& xp, const torch::Tensor& h0, const torch::Tensor& c0, const torch::Tensor& hy0,
    const torch::Tensor& cy0, const torch::Tensor& w_hcat, const torch::Tensor& w_ycat,
    const torch::Tensor& embed_bias, const torch::Tensor& scale_weight, const torch::Tensor& bias,
    const torch::Tensor& gamma, const torch::Tensor& beta, const torch::Tensor& c_gamma,
    const torch::Tensor& c_beta, const torch::Tensor& y_gamma, const torch::Tensor& y_beta,
    const torch::Tensor& y_c_gamma, const torch::Tensor& y_c_beta, const torch::Tensor& masks,
    bool layer_norm);

}  // namespace k2k::detail
