// Recurrent cells of the Sketch-RNN decoder: per-step maths, hand-written BPTT for whole
// sequences, initialisation as magenta, and the layer stack. See rnn_cells.h for the equations.
#include "models/rnn_cells.h"

#include <torch/torch.h>

#include <cmath>

namespace k2k {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr double kLayerNormEps = 1e-3;  // magenta layer_norm / layer_norm_all

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

// ---------------------------------------------------------------------------------------------
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

// Everything the hand-written backward needs from one step.
struct CoreCache {
    torch::Tensor a;       // pre-activations before the gate LN (ln_gates only)
    torch::Tensor mean;    // gate LN mean (ln_gates only)
    torch::Tensor rstd;    // gate LN 1/std (ln_gates only)
    torch::Tensor s;       // σ of the final gate pre-activations, same layout as a (g block unused)
    torch::Tensor g;       // (B,H) tanh of the g block, before the dropout mask
    torch::Tensor gm;      // (B,H) g·mask (= g without mask)
    torch::Tensor c_prev;  // (B,H)
    torch::Tensor c;       // (B,H) new memory, before LN
    torch::Tensor cmean;   // LN(c) mean (ln_c only)
    torch::Tensor crstd;   // LN(c) 1/std (ln_c only)
    torch::Tensor tc;      // (B,H) tanh(LN(c)) or tanh(c)
};

torch::Tensor block(const torch::Tensor& t, int64_t k, int64_t hidden, bool blocks_first) {
    return blocks_first ? t.select(0, k) : t.narrow(1, k * hidden, hidden);
}

// Shape of the per-block γ/β for broadcasting against a.
torch::Tensor gate_param_view(const torch::Tensor& p, int64_t hidden, bool blocks_first) {
    return blocks_first ? p.view({4, 1, hidden}) : p;
}

// a: gate pre-activations; c_prev (B,H); mask (B,H) or undefined. Differentiable when cache is
// null (step path); fills cache otherwise (run under no-grad by the sequence functions).
// Returns (h, c).
std::pair<torch::Tensor, torch::Tensor> core_forward(const torch::Tensor& a, const torch::Tensor& c_prev,
                                                     const torch::Tensor& mask, const CoreParams& p,
                                                     CoreCache* cache) {
    const int64_t hidden = c_prev.size(1);
    torch::Tensor ag = a;
    if (p.ln_gates) {
        const torch::Tensor a3 = p.blocks_first ? a : a.view({a.size(0), 4, hidden});
        auto ln = at::native_layer_norm(a3, {hidden}, c10::nullopt, c10::nullopt, kLayerNormEps);
        const torch::Tensor an = p.blocks_first ? std::get<0>(ln) : std::get<0>(ln).view_as(a);
        ag = torch::addcmul(gate_param_view(p.beta, hidden, p.blocks_first), an,
                            gate_param_view(p.gamma, hidden, p.blocks_first));
        if (cache) {
            cache->a = a;
            cache->mean = std::get<1>(ln);
            cache->rstd = std::get<2>(ln);
        }
    }
    const torch::Tensor s = torch::sigmoid(ag);
    const torch::Tensor g = torch::tanh(block(ag, 2, hidden, p.blocks_first));
    const torch::Tensor gm = mask.defined() ? g * mask : g;
    const torch::Tensor c =
        torch::addcmul(c_prev * block(s, 1, hidden, p.blocks_first), block(s, 0, hidden, p.blocks_first), gm);
    torch::Tensor tc;
    if (p.ln_c) {
        auto ln = at::native_layer_norm(c, {hidden}, p.c_gamma, p.c_beta, kLayerNormEps);
        tc = torch::tanh(std::get<0>(ln));
        if (cache) {
            cache->cmean = std::get<1>(ln);
            cache->crstd = std::get<2>(ln);
        }
    } else {
        tc = torch::tanh(c);
    }
    const torch::Tensor h = tc * block(s, 3, hidden, p.blocks_first);
    if (cache) {
        cache->s = s;
        cache->g = g;
        cache->gm = gm;
        cache->c_prev = c_prev;
        cache->c = c;
        cache->tc = tc;
    }
    return {h, c};
}

struct CoreGrads {
    torch::Tensor da;       // gradient of a (a's layout)
    torch::Tensor dc_prev;  // (B,H)
    torch::Tensor dag;      // gradient of the gates after LN (ln_gates only): for γ, β
    torch::Tensor dchat;    // gradient of LN(c) (ln_c only): for c_gamma, c_beta
};

// Backward of core_forward. dh (B,H) is the total gradient of h_t; dc (B,H) that of c_t coming
// from step t+1 (undefined = zero); mask as in the forward.
CoreGrads core_backward(const torch::Tensor& dh, const torch::Tensor& dc, const torch::Tensor& mask,
                        const CoreCache& k, const CoreParams& p) {
    const int64_t hidden = dh.size(1);
    const bool bf = p.blocks_first;
    CoreGrads out;
    // h = tc·σo, tc = tanh(ĉ), ĉ = LN(c) or c
    torch::Tensor dchat = at::tanh_backward(dh * block(k.s, 3, hidden, bf), k.tc);
    torch::Tensor dct;
    if (p.ln_c) {
        dct = std::get<0>(at::native_layer_norm_backward(dchat, k.c, {hidden}, k.cmean, k.crstd, p.c_gamma,
                                                         p.c_beta, {true, false, false}));
        out.dchat = dchat;
    } else {
        dct = dchat;
    }
    if (dc.defined()) dct = dct + dc;
    // c = c_prev·σf + σi·gm, gm = tanh(g)·mask
    torch::Tensor dact = torch::empty_like(k.s);  // gradient of the activated gates
    torch::Tensor d_i = block(dact, 0, hidden, bf), d_f = block(dact, 1, hidden, bf);
    torch::Tensor d_o = block(dact, 3, hidden, bf);
    at::mul_out(d_i, dct, k.gm);
    at::mul_out(d_f, dct, k.c_prev);
    at::mul_out(d_o, dh, k.tc);
    torch::Tensor dgm = dct * block(k.s, 0, hidden, bf);
    if (mask.defined()) dgm.mul_(mask);
    // The g block of dact is uninitialised; its σ' result is overwritten by tanh' just below.
    torch::Tensor dag = at::sigmoid_backward(dact, k.s);
    torch::Tensor dag_g = block(dag, 2, hidden, bf);
    at::tanh_backward_out(dag_g, dgm, k.g);
    out.dc_prev = dct * block(k.s, 1, hidden, bf);
    if (p.ln_gates) {
        torch::Tensor dan = dag * gate_param_view(p.gamma, hidden, bf);
        if (bf) {
            out.da = std::get<0>(at::native_layer_norm_backward(
                dan, k.a, {hidden}, k.mean, k.rstd, c10::nullopt, c10::nullopt, {true, false, false}));
        } else {
            const int64_t b = dh.size(0);
            out.da = std::get<0>(at::native_layer_norm_backward(
                                     dan.view({b, 4, hidden}), k.a.view({b, 4, hidden}), {hidden}, k.mean,
                                     k.rstd, c10::nullopt, c10::nullopt, {true, false, false}))
                         .view({b, 4 * hidden});
        }
        out.dag = dag;
    } else {
        out.da = dag;
    }
    return out;
}

// Normalised values (x − mean)·rstd from stacked statistics (for deferred γ gradients).
torch::Tensor normalised(const torch::Tensor& x, const torch::Tensor& mean, const torch::Tensor& rstd) {
    return (x - mean) * rstd;
}

// The per-step caches flattened into one tensor list for ctx->saved_data.
constexpr int kCacheFields = 11;

void push_cache(std::vector<torch::Tensor>& out, const CoreCache& k) {
    out.push_back(k.a);
    out.push_back(k.mean);
    out.push_back(k.rstd);
    out.push_back(k.s);
    out.push_back(k.g);
    out.push_back(k.gm);
    out.push_back(k.c_prev);
    out.push_back(k.c);
    out.push_back(k.cmean);
    out.push_back(k.crstd);
    out.push_back(k.tc);
}

CoreCache read_cache(const std::vector<torch::Tensor>& v, size_t at) {
    CoreCache k;
    k.a = v[at + 0];
    k.mean = v[at + 1];
    k.rstd = v[at + 2];
    k.s = v[at + 3];
    k.g = v[at + 4];
    k.gm = v[at + 5];
    k.c_prev = v[at + 6];
    k.c = v[at + 7];
    k.cmean = v[at + 8];
    k.crstd = v[at + 9];
    k.tc = v[at + 10];
    return k;
}

// Deferred γ/β gradients of the gate LN of a (B,4H)-layout core: dag_steps and caches per step.
// Returns (dgamma (4H), dbeta (4H)).
std::pair<torch::Tensor, torch::Tensor> gate_ln_param_grads(const std::vector<torch::Tensor>& dag_steps,
                                                            const std::vector<CoreCache>& caches,
                                                            int64_t hidden, bool blocks_first) {
    std::vector<torch::Tensor> a_steps, mean_steps, rstd_steps;
    for (const CoreCache& k : caches) {
        a_steps.push_back(k.a);
        mean_steps.push_back(k.mean);
        rstd_steps.push_back(k.rstd);
    }
    torch::Tensor dag = torch::stack(dag_steps);  // (T,B,4H) or (T,4,B,H)
    torch::Tensor an;
    if (blocks_first) {
        an = normalised(torch::stack(a_steps), torch::stack(mean_steps), torch::stack(rstd_steps));
        return {(dag * an).sum(torch::IntArrayRef{0, 2}).view({4 * hidden}),
                dag.sum(torch::IntArrayRef{0, 2}).view({4 * hidden})};
    }
    const int64_t t = int64_t(caches.size()), b = dag.size(1);
    an = normalised(torch::stack(a_steps).view({t, b, 4, hidden}), torch::stack(mean_steps),
                    torch::stack(rstd_steps))
             .view({t, b, 4 * hidden});
    return {(dag * an).sum(torch::IntArrayRef{0, 1}), dag.sum(torch::IntArrayRef{0, 1})};
}

// Deferred gradients of LN(c)'s γ and β. Returns (dc_gamma (H), dc_beta (H)).
std::pair<torch::Tensor, torch::Tensor> c_ln_param_grads(const std::vector<torch::Tensor>& dchat_steps,
                                                         const std::vector<CoreCache>& caches) {
    std::vector<torch::Tensor> c_steps, mean_steps, rstd_steps;
    for (const CoreCache& k : caches) {
        c_steps.push_back(k.c);
        mean_steps.push_back(k.cmean);
        rstd_steps.push_back(k.crstd);
    }
    torch::Tensor dchat = torch::stack(dchat_steps);  // (T,B,H)
    torch::Tensor cn = normalised(torch::stack(c_steps), torch::stack(mean_steps), torch::stack(rstd_steps));
    return {(dchat * cn).sum(torch::IntArrayRef{0, 1}), dchat.sum(torch::IntArrayRef{0, 1})};
}

// Optional tensors cross the custom autograd Function as c10::optional: an undefined Tensor
// argument is not allowed there.
using OptTensor = c10::optional<torch::Tensor>;
OptTensor opt(const torch::Tensor& t) {
    return t.defined() ? OptTensor(t) : OptTensor();
}
torch::Tensor val(const OptTensor& t) {
    return t.has_value() ? *t : torch::Tensor();
}

torch::Tensor mask_at(const torch::Tensor& masks, int64_t t) {
    return masks.defined() ? masks.select(0, t) : torch::Tensor();
}

// ---------------------------------------------------------------------------------------------
// LSTM / layer-norm LSTM recurrence as one autograd node.
//   forward inputs: xp (B,T,4H) projected inputs (bias included for the plain LSTM),
//   h0, c0 (B,H), w_hh (4H,H), LN params (undefined for the plain LSTM), masks (T,B,H) or undefined.
//   outputs: hs (B,T,H), h_T, c_T.
struct LstmRecurrence : public torch::autograd::Function<LstmRecurrence> {
    static variable_list forward(AutogradContext* ctx, const torch::Tensor& xp, const torch::Tensor& h0,
                                 const torch::Tensor& c0, const torch::Tensor& w_hh, const OptTensor& gamma_o,
                                 const OptTensor& beta_o, const OptTensor& c_gamma_o,
                                 const OptTensor& c_beta_o, const OptTensor& masks_o, bool layer_norm) {
        const torch::Tensor gamma = val(gamma_o), beta = val(beta_o), c_gamma = val(c_gamma_o);
        const torch::Tensor c_beta = val(c_beta_o), masks = val(masks_o);
        const int64_t steps = xp.size(1);
        CoreParams p;
        p.ln_gates = p.ln_c = layer_norm;
        p.gamma = gamma;
        p.beta = beta;
        p.c_gamma = c_gamma;
        p.c_beta = c_beta;
        const torch::Tensor w_t = w_hh.t();
        torch::Tensor h = h0, c = c0;
        std::vector<torch::Tensor> hs, saved;
        hs.reserve(size_t(steps));
        saved.reserve(size_t(steps) * (kCacheFields + 1));
        for (int64_t t = 0; t < steps; t++) {
            saved.push_back(h);  // h_{t-1}
            const torch::Tensor a = torch::addmm(xp.select(1, t), h, w_t);
            CoreCache k;
            std::tie(h, c) = core_forward(a, c, mask_at(masks, t), p, &k);
            push_cache(saved, k);
            hs.push_back(h);
        }
        ctx->save_for_backward({w_hh, gamma, beta, c_gamma, c_beta, masks});
        ctx->saved_data["steps"] = saved;
        ctx->saved_data["layer_norm"] = layer_norm;
        // Outputs are fresh tensors: the saved ones must not become outputs (reference cycle).
        return {torch::stack(hs, 1), h.clone(), c.clone()};
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const variable_list vars = ctx->get_saved_variables();
        const torch::Tensor &w_hh = vars[0], &masks = vars[5];
        CoreParams p;
        p.ln_gates = p.ln_c = ctx->saved_data["layer_norm"].toBool();
        p.gamma = vars[1];
        p.beta = vars[2];
        p.c_gamma = vars[3];
        p.c_beta = vars[4];
        const std::vector<torch::Tensor> saved = ctx->saved_data["steps"].toTensorVector();
        const size_t stride = kCacheFields + 1;
        const int64_t steps = int64_t(saved.size() / stride);
        const size_t n_steps = size_t(steps);
        const torch::Tensor& dhs = grads[0];  // (B,T,H)
        const int64_t b = dhs.size(0), hidden = dhs.size(2);

        std::vector<CoreCache> caches(n_steps);
        std::vector<torch::Tensor> h_prev(n_steps), da(n_steps), dag, dchat;
        if (p.ln_gates) dag.resize(n_steps);
        if (p.ln_c) dchat.resize(n_steps);
        torch::Tensor dh = grads[1], dc = grads[2];
        for (int64_t t = steps - 1; t >= 0; t--) {
            h_prev[size_t(t)] = saved[size_t(t) * stride];
            caches[size_t(t)] = read_cache(saved, size_t(t) * stride + 1);
            CoreGrads g = core_backward(dh + dhs.select(1, t), dc, mask_at(masks, t), caches[size_t(t)], p);
            da[size_t(t)] = g.da;
            if (p.ln_gates) dag[size_t(t)] = g.dag;
            if (p.ln_c) dchat[size_t(t)] = g.dchat;
            dh = g.da.mm(w_hh);
            dc = g.dc_prev;
        }
        variable_list out(10);
        const torch::Tensor dxp = torch::stack(da, 1);  // (B,T,4H)
        out[0] = dxp;
        out[1] = dh;
        out[2] = dc;
        if (ctx->needs_input_grad(3))
            out[3] = dxp.reshape({b * steps, 4 * hidden})
                         .t()
                         .mm(torch::stack(h_prev, 1).reshape({b * steps, hidden}));
        if (p.ln_gates) std::tie(out[4], out[5]) = gate_ln_param_grads(dag, caches, hidden, false);
        if (p.ln_c) std::tie(out[6], out[7]) = c_ln_param_grads(dchat, caches);
        return out;
    }
};

// ---------------------------------------------------------------------------------------------
// HyperLSTM recurrence as one autograd node.
//   xp (B,T,4H+4Hh): [W_x x (main, no bias), hyper-cell input projection of x (+ its bias)]
//   h0, c0 (B,H); hy0, cy0 (B,Hh)
//   w_hcat (4H+4Hh, H) = [main W_h; hyper W for h]: one matmul per step serves both cells
//   w_ycat (12E+4Hh, Hh) = [embedding W_z; hyper recurrent W]: one matmul per step gives this
//     step's embeddings and the next step's hyper recurrence
//   embed_bias (12E), scale_weight (12,E,H), bias (4H), main LN params (gates LN undefined
//   without layer norm), hyper LN params (undefined without layer norm), masks (T,B,H).
//   outputs: hs (B,T,H), h_T, c_T, hy_T, cy_T.
struct HyperRecurrence : public torch::autograd::Function<HyperRecurrence> {
    static variable_list forward(AutogradContext* ctx, const torch::Tensor& xp, const torch::Tensor& h0,
                                 const torch::Tensor& c0, const torch::Tensor& hy0, const torch::Tensor& cy0,
                                 const torch::Tensor& w_hcat, const torch::Tensor& w_ycat,
                                 const torch::Tensor& embed_bias, const torch::Tensor& scale_weight,
                                 const torch::Tensor& bias, const OptTensor& gamma_o, const OptTensor& beta_o,
                                 const torch::Tensor& c_gamma, const torch::Tensor& c_beta,
                                 const OptTensor& y_gamma_o, const OptTensor& y_beta_o,
                                 const OptTensor& y_c_gamma_o, const OptTensor& y_c_beta_o,
                                 const OptTensor& masks_o, bool layer_norm) {
        const torch::Tensor gamma = val(gamma_o), beta = val(beta_o), y_gamma = val(y_gamma_o);
        const torch::Tensor y_beta = val(y_beta_o), y_c_gamma = val(y_c_gamma_o), y_c_beta = val(y_c_beta_o);
        const torch::Tensor masks = val(masks_o);
        const int64_t b = xp.size(0), steps = xp.size(1), hidden = h0.size(1), hyper = hy0.size(1);
        const int64_t e12 = embed_bias.size(0), e = e12 / 12;
        CoreParams pm, py;
        pm.blocks_first = true;
        pm.ln_gates = layer_norm;
        pm.ln_c = true;
        pm.gamma = gamma;
        pm.beta = beta;
        pm.c_gamma = c_gamma;
        pm.c_beta = c_beta;
        py.ln_gates = py.ln_c = layer_norm;
        py.gamma = y_gamma;
        py.beta = y_beta;
        py.c_gamma = y_c_gamma;
        py.c_beta = y_c_beta;
        const torch::Tensor wh_t = w_hcat.t(), wy_t = w_ycat.t();
        const torch::Tensor bias4 = bias.view({4, 1, hidden});
        torch::Tensor h = h0, c = c0, hy = hy0, cy = cy0;
        torch::Tensor yr = hy0.mm(w_ycat.narrow(0, e12, 4 * hyper).t());  // hyper recurrence term
        std::vector<torch::Tensor> hs, saved;
        for (int64_t t = 0; t < steps; t++) {
            const torch::Tensor xpt = xp.select(1, t);
            const torch::Tensor rec = h.mm(wh_t);  // (B, 4H+4Hh)
            const torch::Tensor ya =
                torch::add(xpt.narrow(1, 4 * hidden, 4 * hyper), rec.narrow(1, 4 * hidden, 4 * hyper))
                    .add_(yr);
            CoreCache ky, km;
            std::tie(hy, cy) = core_forward(ya, cy, torch::Tensor(), py, &ky);
            const torch::Tensor r = hy.mm(wy_t);                                   // (B, 12E+4Hh)
            const torch::Tensor zz = torch::add(r.narrow(1, 0, e12), embed_bias);  // (B,12E)
            yr = r.narrow(1, e12, 4 * hyper);
            const torch::Tensor sc =
                torch::bmm(zz.view({b, 12, e}).transpose(0, 1), scale_weight);  // (12,B,H)
            const torch::Tensor xh4 = xpt.narrow(1, 0, 4 * hidden).view({b, 4, hidden}).transpose(0, 1);
            const torch::Tensor gh4 = rec.narrow(1, 0, 4 * hidden).view({b, 4, hidden}).transpose(0, 1);
            torch::Tensor a = torch::addcmul(sc.narrow(0, 8, 4) + bias4, sc.narrow(0, 0, 4), xh4);
            a.addcmul_(sc.narrow(0, 4, 4), gh4);  // (4,B,H)
            std::tie(h, c) = core_forward(a.contiguous(), c, mask_at(masks, t), pm, &km);
            // per step: h_{t-1}, hy_t, zz_t, sc_t, xh4_t, gh4_t, then the two caches
            saved.push_back(hs.empty() ? h0 : hs.back());
            saved.push_back(hy);
            saved.push_back(zz);
            saved.push_back(sc);
            saved.push_back(gh4);
            push_cache(saved, ky);
            push_cache(saved, km);
            hs.push_back(h);
        }
        ctx->save_for_backward({xp, hy0, w_hcat, w_ycat, scale_weight, gamma, beta, c_gamma, c_beta, y_gamma,
                                y_beta, y_c_gamma, y_c_beta, masks});
        ctx->saved_data["steps"] = saved;
        ctx->saved_data["layer_norm"] = layer_norm;
        return {torch::stack(hs, 1), h.clone(), c.clone(), hy.clone(), cy.clone()};
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const variable_list v = ctx->get_saved_variables();
        const torch::Tensor &xp = v[0], &hy0 = v[1], &w_hcat = v[2], &w_ycat = v[3], &scale_weight = v[4],
                            &masks = v[13];
        const bool layer_norm = ctx->saved_data["layer_norm"].toBool();
        CoreParams pm, py;
        pm.blocks_first = true;
        pm.ln_gates = layer_norm;
        pm.ln_c = true;
        pm.gamma = v[5];
        pm.beta = v[6];
        pm.c_gamma = v[7];
        pm.c_beta = v[8];
        py.ln_gates = py.ln_c = layer_norm;
        py.gamma = v[9];
        py.beta = v[10];
        py.c_gamma = v[11];
        py.c_beta = v[12];
        const std::vector<torch::Tensor> saved = ctx->saved_data["steps"].toTensorVector();
        const size_t stride = 5 + 2 * kCacheFields;
        const int64_t steps = int64_t(saved.size() / stride);
        const size_t n_steps = size_t(steps);
        const torch::Tensor& dhs = grads[0];
        const int64_t b = dhs.size(0), hidden = dhs.size(2), hyper = hy0.size(1);
        const int64_t e12 = w_ycat.size(0) - 4 * hyper;
        const torch::Tensor w_rec = w_ycat.narrow(0, e12, 4 * hyper);  // (4Hh, Hh)
        const torch::Tensor scale_t = scale_weight.transpose(1, 2);    // (12,H,E)

        std::vector<CoreCache> cy_caches(n_steps), cm_caches(n_steps);
        std::vector<torch::Tensor> h_prev(n_steps), hy_steps(n_steps), zz_steps(n_steps);
        std::vector<torch::Tensor> dcat(n_steps), dzz(n_steps), dsc(n_steps), dxh(n_steps);
        std::vector<torch::Tensor> dgates(n_steps), dag_m, dchat_m(n_steps), dag_y, dchat_y;
        if (layer_norm) {
            dag_m.resize(n_steps);
            dag_y.resize(n_steps);
            dchat_y.resize(n_steps);
        }
        torch::Tensor dh = grads[1], dc = grads[2], dcy = grads[4];
        torch::Tensor dya_next = torch::zeros({b, 4 * hyper}, dhs.options());
        torch::Tensor dhy_extra = grads[3];  // gradient of hy_T from outside
        for (int64_t t = steps - 1; t >= 0; t--) {
            const size_t at = size_t(t) * stride;
            h_prev[size_t(t)] = saved[at];
            hy_steps[size_t(t)] = saved[at + 1];
            zz_steps[size_t(t)] = saved[at + 2];
            const torch::Tensor& sc = saved[at + 3];
            const torch::Tensor& gh4 = saved[at + 4];
            cy_caches[size_t(t)] = read_cache(saved, at + 5);
            cm_caches[size_t(t)] = read_cache(saved, at + 5 + kCacheFields);
            const CoreCache& km = cm_caches[size_t(t)];
            const CoreCache& ky = cy_caches[size_t(t)];

            // main cell
            CoreGrads gm = core_backward(dh + dhs.select(1, t), dc, mask_at(masks, t), km, pm);
            const torch::Tensor& dg4 = gm.da;  // (4,B,H) gradient of the main gate pre-activations
            dgates[size_t(t)] = dg4;
            if (layer_norm) dag_m[size_t(t)] = gm.dag;
            dchat_m[size_t(t)] = gm.dchat;
            const torch::Tensor xh4 =
                xp.select(1, t).narrow(1, 0, 4 * hidden).view({b, 4, hidden}).transpose(0, 1);
            dxh[size_t(t)] = dg4 * sc.narrow(0, 0, 4);
            torch::Tensor dgh4 = dg4 * sc.narrow(0, 4, 4);
            torch::Tensor dsct = torch::empty_like(sc);
            torch::Tensor dsc_x = dsct.narrow(0, 0, 4), dsc_h = dsct.narrow(0, 4, 4);
            at::mul_out(dsc_x, dg4, xh4);
            at::mul_out(dsc_h, dg4, gh4);
            dsct.narrow(0, 8, 4).copy_(dg4);
            dsc[size_t(t)] = dsct;
            const torch::Tensor dzzt = torch::bmm(dsct, scale_t).transpose(0, 1).reshape({b, e12});
            dzz[size_t(t)] = dzzt;

            // hyper cell: hy_t feeds this step's embeddings and step t+1's hyper recurrence
            torch::Tensor dhy = torch::cat({dzzt, dya_next}, 1).mm(w_ycat);
            if (t == steps - 1) dhy.add_(dhy_extra);
            CoreGrads gy = core_backward(dhy, dcy, torch::Tensor(), ky, py);
            if (layer_norm) {
                dag_y[size_t(t)] = gy.dag;
                dchat_y[size_t(t)] = gy.dchat;
            }
            dcy = gy.dc_prev;
            dya_next = gy.da;

            // h_{t-1} feeds both cells through w_hcat
            const torch::Tensor dc_t = torch::cat({dgh4.transpose(0, 1).reshape({b, 4 * hidden}), gy.da}, 1);
            dcat[size_t(t)] = dc_t;
            dh = dc_t.mm(w_hcat);
            dc = gm.dc_prev;
        }
        variable_list out(20);
        const torch::Tensor dcat_all = torch::stack(dcat, 1);  // (B,T,4H+4Hh)
        // dxp: main part is dg4·α^x (block-major per step), hyper part is the hyper gate gradient
        const torch::Tensor dxh_all = torch::stack(dxh).permute({2, 0, 1, 3}).reshape({b, steps, 4 * hidden});
        out[0] = torch::cat({dxh_all, dcat_all.narrow(2, 4 * hidden, 4 * hyper)}, 2);
        out[1] = dh;
        out[2] = dc;
        out[3] = dya_next.mm(w_rec);  // hy0 fed the first hyper recurrence
        out[4] = dcy;
        const int64_t bt = b * steps;
        const torch::Tensor hy_all = torch::stack(hy_steps, 1).reshape({bt, hyper});
        if (ctx->needs_input_grad(5))
            out[5] = dcat_all.reshape({bt, -1}).t().mm(torch::stack(h_prev, 1).reshape({bt, hidden}));
        const torch::Tensor dzz_all = torch::stack(dzz, 1).reshape({bt, e12});
        if (ctx->needs_input_grad(6)) {
            // rows [0,12E): Σ dzz_t^T hy_t; rows [12E,..): Σ dya_t^T hy_{t-1}
            std::vector<torch::Tensor> hy_prev(hy_steps.begin(), hy_steps.end() - 1);
            hy_prev.insert(hy_prev.begin(), hy0);
            const torch::Tensor dya_all = dcat_all.narrow(2, 4 * hidden, 4 * hyper).reshape({bt, 4 * hyper});
            out[6] = torch::cat(
                {dzz_all.t().mm(hy_all), dya_all.t().mm(torch::stack(hy_prev, 1).reshape({bt, hyper}))}, 0);
        }
        out[7] = dzz_all.sum(0);
        if (ctx->needs_input_grad(8)) {
            // Σ_t zz_t(12,E,B) · dsc_t(12,B,H) over t and B as one bmm
            const int64_t e = e12 / 12;
            const torch::Tensor zz_all =
                torch::stack(zz_steps).view({steps, b, 12, e}).permute({2, 3, 0, 1}).reshape({12, e, bt});
            const torch::Tensor dsc_all = torch::stack(dsc).permute({1, 0, 2, 3}).reshape({12, bt, hidden});
            out[8] = torch::bmm(zz_all, dsc_all);
        }
        out[9] = torch::stack(dgates).sum(torch::IntArrayRef{0, 2}).view({4 * hidden});
        if (layer_norm) {
            std::tie(out[10], out[11]) = gate_ln_param_grads(dag_m, cm_caches, hidden, true);
            std::tie(out[14], out[15]) = gate_ln_param_grads(dag_y, cy_caches, hyper, false);
            std::tie(out[16], out[17]) = c_ln_param_grads(dchat_y, cy_caches);
        }
        std::tie(out[12], out[13]) = c_ln_param_grads(dchat_m, cm_caches);
        return out;
    }
};

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
    variable_list r = LstmRecurrence::apply(xp.contiguous(), state.h, state.c, weight_hh, OptTensor(),
                                            OptTensor(), OptTensor(), OptTensor(), opt(masks), false);
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
    variable_list r = LstmRecurrence::apply(xp.contiguous(), state.h, state.c, weight_hh, opt(ln_gamma),
                                            opt(ln_beta), opt(ln_c_gamma), opt(ln_c_beta), opt(masks), true);
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
    variable_list r = HyperRecurrence::apply(xp.contiguous(), state.h, state.c, state.hyper_h, state.hyper_c,
                                             w_hcat, w_ycat, embed_bias, scale_weight, bias, opt(ln_gamma),
                                             opt(ln_beta), ln_c_gamma, ln_c_beta, opt(hyper_ln_gamma),
                                             opt(hyper_ln_beta), opt(hyper_ln_c_gamma), opt(hyper_ln_c_beta),
                                             opt(masks), options.hyper_layer_norm());
    state.h = r[1];
    state.c = r[2];
    state.hyper_h = r[3];
    state.hyper_c = r[4];
    return r[0];
}

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

torch::Tensor RnnStackImpl::forward(const torch::Tensor& x, RnnState& state, RnnPath path) {
    // x is (B,T,I) -> (B,T,H)
    TORCH_CHECK(x.dim() == 3 && x.size(2) == options.input_size() && x.size(1) > 0,
                "RnnStack::forward: x must be (B, T>0, ", options.input_size(), "), got ", x.sizes());
    TORCH_CHECK(state.size() == layers.size(), "RnnStack::forward: expected ", layers.size(),
                " layer states, got ", state.size());
    const bool dropout = is_training() && options.recurrent_dropout_keep() < 1.0;
    if (path == RnnPath::Auto) {
        // Measured (bench/bench_sketch_rnn.cpp, CPU, 1x512, T=80, B=32): torch's CPU LSTM builds an
        // autograd graph per step and was ~1.4x slower to train than the hand-written BPTT, but
        // slightly faster without autograd; on CUDA the fused path is cuDNN.
        const bool fused_wins = x.is_cuda() || !torch::GradMode::is_enabled();
        path = (options.cell() == "lstm" && !dropout && fused_wins) ? RnnPath::Fused : RnnPath::PerStep;
    }
    TORCH_CHECK(path != RnnPath::Fused || (options.cell() == "lstm" && !dropout),
                "RnnStack::forward: the fused path needs cell \"lstm\" without active recurrent dropout");
    const int64_t b = x.size(0), steps = x.size(1), hd = options.hidden_size();

    if (path == RnnPath::Fused) {
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

    torch::Tensor seq = x;
    for (size_t l = 0; l < layers.size(); l++) {
        RecurrentCellImpl& cell = *layers[l];
        torch::Tensor masks;
        if (dropout) {
            const double keep = options.recurrent_dropout_keep();
            masks = torch::empty({steps, b, hd}, x.options()).bernoulli_(keep).div_(keep);
        }
        const torch::Tensor xp = cell.project_input(seq);  // (B,T,P): all steps in one matmul
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
