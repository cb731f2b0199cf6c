// The plain LSTM recurrence in float32 on the CPU as one autograd node whose per-step gate maths is
// one pass over raw memory (forward and backward), with every buffer allocated once per sequence.
//
// Why: the general BPTT of rnn_bptt.cpp runs each step as ~10 forward and ~15 backward ATen ops
// (sigmoid, tanh, addcmul, stacks of per-step caches), each a dispatch, an allocation and a pass
// over memory. Measured alone on the Sketch-RNN's LSTM 1x512 (2 threads, one run each), this file
// took the backward from 388.5 to 365.7 ms at B = 64 (forward 233.9 -> 232.5 ms) and changed B = 32
// by about 1 %: the step is matmul-bound (docs/BENCHMARKS.md). The matmuls are unchanged: torch's
// addmm / mm write straight into the preallocated buffers.
#include <torch/torch.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>

#include "models/rnn_bptt.h"

#include "models/vec_math.h"  // last: it sets no-trapping-math for the rest of this file

namespace k2k::detail {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

inline float sigmoid(float x) {
    return 1.0f / (1.0f + exp_clamped(-x));
}

// tanh(x) = 2σ(2x) − 1: absolute error about 1e-7 (relative error grows only as |x| → 0).
inline float tanh_fast(float x) {
    return 2.0f / (1.0f + exp_clamped(-2.0f * x)) - 1.0f;
}

// Pointers of one step's rows [b0, b1) (gate layout (B,4H) with blocks i, f, g, o along a row).
struct StepForward {
    float* gates;          // (B,4H) pre-activations in, activations out (σ for i, f, o; tanh for g)
    const float* c_prev;   // (B,H)
    const float* mask;     // (B,H) recurrent dropout mask on tanh(g) (ones without dropout)
    float* c;              // (B,H) new memory
    float* tc;             // (B,H) tanh(c)
    float* h;              // (B,H) new h (the next step's matmul input)
    float* h_seq;          // row b at h_seq + b·h_seq_stride: the output sequence (B,T,H) at step t
    int64_t h_seq_stride;  // T·H
    int64_t hidden;
};

K2K_VECTOR_CLONES
void step_forward_rows(const StepForward& s, int64_t b0, int64_t b1) {
    const int64_t n = s.hidden;
    for (int64_t b = b0; b < b1; b++) {
        float* a = s.gates + b * 4 * n;
        for (int64_t j = 0; j < 2 * n; j++) a[j] = sigmoid(a[j]);  // i, f
        float* g = a + 2 * n;
        for (int64_t j = 0; j < n; j++) g[j] = tanh_fast(g[j]);
        float* o = a + 3 * n;
        for (int64_t j = 0; j < n; j++) o[j] = sigmoid(o[j]);
        const float* i = a;
        const float* f = a + n;
        const float* cp = s.c_prev + b * n;
        const float* m = s.mask + b * n;
        float* c = s.c + b * n;
        float* tc = s.tc + b * n;
        float* h = s.h + b * n;
        float* hs = s.h_seq + b * s.h_seq_stride;
        for (int64_t j = 0; j < n; j++) c[j] = cp[j] * f[j] + i[j] * (g[j] * m[j]);
        for (int64_t j = 0; j < n; j++) {
            const float t = tanh_fast(c[j]);
            tc[j] = t;
            h[j] = t * o[j];
            hs[j] = h[j];
        }
    }
}

struct StepBackward {
    const float* gates;     // (B,4H) activations saved by the forward
    const float* tc;        // (B,H)
    const float* c_prev;    // (B,H)
    const float* mask;      // (B,H) recurrent dropout mask (ones without dropout)
    const float* dh_rec;    // (B,H) gradient of h_t through step t+1 (or from h_T)
    const float* dh_seq;    // row b at dh_seq + b·dh_seq_stride: gradient of the output at step t
    int64_t dh_seq_stride;  // T·H
    const float* dc_next;   // (B,H) gradient of c_t through step t+1 (or from c_T)
    float* da;              // (B,4H) gradient of the pre-activations
    float* dc_prev;         // (B,H) gradient of c_{t-1}
    int64_t hidden;
};

K2K_VECTOR_CLONES
void step_backward_rows(const StepBackward& s, int64_t b0, int64_t b1) {
    const int64_t n = s.hidden;
    for (int64_t b = b0; b < b1; b++) {
        const float* i = s.gates + b * 4 * n;
        const float* f = i + n;
        const float* g = i + 2 * n;
        const float* o = i + 3 * n;
        const float* tc = s.tc + b * n;
        const float* cp = s.c_prev + b * n;
        const float* m = s.mask + b * n;
        const float* dhr = s.dh_rec + b * n;
        const float* dhs = s.dh_seq + b * s.dh_seq_stride;
        const float* dcn = s.dc_next + b * n;
        float* da_i = s.da + b * 4 * n;
        float* da_f = da_i + n;
        float* da_g = da_i + 2 * n;
        float* da_o = da_i + 3 * n;
        float* dcp = s.dc_prev + b * n;
        for (int64_t j = 0; j < n; j++) {
            const float dh = dhs[j] + dhr[j];
            const float t = tc[j];
            const float dc = dh * o[j] * (1.0f - t * t) + dcn[j];
            da_i[j] = dc * g[j] * m[j] * i[j] * (1.0f - i[j]);
            da_f[j] = dc * cp[j] * f[j] * (1.0f - f[j]);
            da_g[j] = dc * i[j] * m[j] * (1.0f - g[j] * g[j]);
            da_o[j] = dh * t * o[j] * (1.0f - o[j]);
            dcp[j] = dc * f[j];
        }
    }
}

// The step-t slice of the dropout masks (T,B,H), or `ones` (B,H) without dropout.
const float* mask_rows(const torch::Tensor& masks, const torch::Tensor& ones, int64_t t) {
    return masks.defined() ? masks.select(0, t).data_ptr<float>() : ones.data_ptr<float>();
}

// Rows per task of at::parallel_for: about 8,192 gate values, so small batches stay on one thread.
int64_t row_grain(int64_t hidden) {
    return std::max<int64_t>(1, 8192 / (4 * hidden));
}

//   forward inputs: xp (B,T,4H) projected inputs with both biases, h0, c0 (B,H), w_hh (4H,H),
//   masks (T,B,H) or undefined. outputs: hs (B,T,H), h_T, c_T.
struct FusedLstmRecurrence : public torch::autograd::Function<FusedLstmRecurrence> {
    static variable_list forward(AutogradContext* ctx, const torch::Tensor& xp, const torch::Tensor& h0,
                                 const torch::Tensor& c0, const torch::Tensor& w_hh,
                                 const c10::optional<torch::Tensor>& masks_o) {
        const torch::Tensor masks = masks_o.has_value() ? masks_o->contiguous() : torch::Tensor();
        const int64_t b = xp.size(0), steps = xp.size(1), hidden = h0.size(1);
        const auto opts = xp.options();
        // Time-major buffers, so each step's slice is one contiguous (B, ·) matrix for the matmuls.
        torch::Tensor gates = torch::empty({steps, b, 4 * hidden}, opts);
        torch::Tensor cs = torch::empty({steps, b, hidden}, opts);
        torch::Tensor tcs = torch::empty({steps, b, hidden}, opts);
        torch::Tensor hs_tm = torch::empty({steps + 1, b, hidden}, opts);  // h_0 .. h_T
        torch::Tensor hs = torch::empty({b, steps, hidden}, opts);
        hs_tm.select(0, 0).copy_(h0);
        const torch::Tensor c0c = c0.contiguous();
        const torch::Tensor ones = masks.defined() ? torch::Tensor() : torch::ones({b, hidden}, opts);
        const torch::Tensor w_t = w_hh.t();
        const int64_t grain = row_grain(hidden);
        for (int64_t t = 0; t < steps; t++) {
            torch::Tensor a = gates.select(0, t);
            at::addmm_out(a, xp.select(1, t), hs_tm.select(0, t), w_t);
            StepForward s;
            s.gates = a.data_ptr<float>();
            s.c_prev = t == 0 ? c0c.data_ptr<float>() : cs.select(0, t - 1).data_ptr<float>();
            s.mask = mask_rows(masks, ones, t);
            s.c = cs.select(0, t).data_ptr<float>();
            s.tc = tcs.select(0, t).data_ptr<float>();
            s.h = hs_tm.select(0, t + 1).data_ptr<float>();
            s.h_seq = hs.data_ptr<float>() + t * hidden;
            s.h_seq_stride = steps * hidden;
            s.hidden = hidden;
            at::parallel_for(0, b, grain, [&](int64_t b0, int64_t b1) { step_forward_rows(s, b0, b1); });
        }
        ctx->save_for_backward({w_hh, c0c, gates, cs, tcs, hs_tm, masks});
        // Fresh tensors for h_T and c_T: saved tensors must not become outputs (reference cycle).
        return {hs, hs_tm.select(0, steps).clone(), cs.select(0, steps - 1).clone()};
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const variable_list v = ctx->get_saved_variables();
        const torch::Tensor &w_hh = v[0], &c0 = v[1], &gates = v[2], &cs = v[3], &tcs = v[4], &hs_tm = v[5],
                            &masks = v[6];
        const int64_t steps = gates.size(0), b = gates.size(1), hidden = w_hh.size(1);
        const auto opts = gates.options();
        const torch::Tensor dhs = grads[0].defined() ? grads[0].contiguous() : torch::zeros({b, steps, hidden}, opts);
        torch::Tensor dh_rec = grads[1].defined() ? grads[1].contiguous() : torch::zeros({b, hidden}, opts);
        torch::Tensor dc_next = grads[2].defined() ? grads[2].contiguous() : torch::zeros({b, hidden}, opts);
        const torch::Tensor ones = masks.defined() ? torch::Tensor() : torch::ones({b, hidden}, opts);
        torch::Tensor da = torch::empty({steps, b, 4 * hidden}, opts);
        torch::Tensor dh_buf = torch::empty({b, hidden}, opts);
        torch::Tensor dc_bufs[2] = {torch::empty({b, hidden}, opts), torch::empty({b, hidden}, opts)};
        const int64_t grain = row_grain(hidden);
        for (int64_t t = steps - 1; t >= 0; t--) {
            torch::Tensor dc_prev = dc_bufs[t % 2];
            StepBackward s;
            s.gates = gates.select(0, t).data_ptr<float>();
            s.tc = tcs.select(0, t).data_ptr<float>();
            s.c_prev = t == 0 ? c0.data_ptr<float>() : cs.select(0, t - 1).data_ptr<float>();
            s.mask = mask_rows(masks, ones, t);
            s.dh_rec = dh_rec.data_ptr<float>();
            s.dh_seq = dhs.data_ptr<float>() + t * hidden;
            s.dh_seq_stride = steps * hidden;
            s.dc_next = dc_next.data_ptr<float>();
            s.da = da.select(0, t).data_ptr<float>();
            s.dc_prev = dc_prev.data_ptr<float>();
            s.hidden = hidden;
            at::parallel_for(0, b, grain, [&](int64_t b0, int64_t b1) { step_backward_rows(s, b0, b1); });
            at::mm_out(dh_buf, da.select(0, t), w_hh);  // gradient of h_{t-1}
            dh_rec = dh_buf;
            dc_next = dc_prev;
        }
        variable_list out(5);
        out[0] = da.permute({1, 0, 2});  // (B,T,4H)
        out[1] = dh_rec.clone();
        out[2] = dc_next.clone();
        if (ctx->needs_input_grad(3))
            out[3] = da.view({steps * b, 4 * hidden}).t().mm(hs_tm.narrow(0, 0, steps).reshape({steps * b, hidden}));
        return out;
    }
};

}  // namespace

bool fused_lstm_applies(const torch::Tensor& xp, const torch::Tensor& h0, const torch::Tensor& c0,
                        const torch::Tensor& w_hh, const torch::Tensor& masks) {
    auto plain_float_cpu = [](const torch::Tensor& t) {
        return !t.defined() || (t.device().is_cpu() && t.scalar_type() == torch::kFloat && t.layout() == torch::kStrided);
    };
    return xp.size(1) > 0 && plain_float_cpu(xp) && plain_float_cpu(h0) && plain_float_cpu(c0) &&
           plain_float_cpu(w_hh) && plain_float_cpu(masks);
}

std::vector<torch::Tensor> fused_lstm_recurrence(const torch::Tensor& xp, const torch::Tensor& h0,
                                                 const torch::Tensor& c0, const torch::Tensor& w_hh,
                                                 const torch::Tensor& masks) {
    TORCH_CHECK(fused_lstm_applies(xp, h0, c0, w_hh, masks),
                "fused_lstm_recurrence: needs float32 CPU tensors and at least one step");
    return FusedLstmRecurrence::apply(xp, h0, c0, w_hh,
                                      masks.defined() ? c10::optional<torch::Tensor>(masks) : c10::nullopt);
}

}  // namespace k2k::detail
