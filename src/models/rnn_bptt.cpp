// Hand-written BPTT: the LSTM core's forward and backward, and the LSTM and HyperLSTM recurrences
// as one autograd node each, so weight gradients are one matmul over all steps instead of T small ones.
#include "models/rnn_bptt.h"

#include <torch/torch.h>

#include "models/rnn_internal.h"

namespace k2k::detail {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr double kLayerNormEps = 1e-3;  // magenta layer_norm / layer_norm_all

}  // namespace

// ---------------------------------------------------------------------------------------------
// The LSTM core shared by all cells (CoreParams and the gate layouts: rnn_bptt.h).

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

namespace {

torch::Tensor block(const torch::Tensor& t, int64_t k, int64_t hidden, bool blocks_first) {
    return blocks_first ? t.select(0, k) : t.narrow(1, k * hidden, hidden);
}

// Shape of the per-block γ/β for broadcasting against a.
torch::Tensor gate_param_view(const torch::Tensor& p, int64_t hidden, bool blocks_first) {
    return blocks_first ? p.view({4, 1, hidden}) : p;
}

}  // namespace

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

namespace {

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

}  // namespace

std::vector<torch::Tensor> lstm_recurrence(const torch::Tensor& xp, const torch::Tensor& h0,
                                           const torch::Tensor& c0, const torch::Tensor& w_hh,
                                           const torch::Tensor& gamma, const torch::Tensor& beta,
                                           const torch::Tensor& c_gamma, const torch::Tensor& c_beta,
                                           const torch::Tensor& masks, bool layer_norm) {
    return LstmRecurrence::apply(xp, h0, c0, w_hh, opt(gamma), opt(beta), opt(c_gamma), opt(c_beta),
                                 opt(masks), layer_norm);
}

std::vector<torch::Tensor> hyper_recurrence(
    const torch::Tensor& xp, const torch::Tensor& h0, const torch::Tensor& c0, const torch::Tensor& hy0,
    const torch::Tensor& cy0, const torch::Tensor& w_hcat, const torch::Tensor& w_ycat,
    const torch::Tensor& embed_bias, const torch::Tensor& scale_weight, const torch::Tensor& bias,
    const torch::Tensor& gamma, const torch::Tensor& beta, const torch::Tensor& c_gamma,
    const torch::Tensor& c_beta, const torch::Tensor& y_gamma, const torch::Tensor& y_beta,
    const torch::Tensor& y_c_gamma, const torch::Tensor& y_c_beta, const torch::Tensor& masks,
    bool layer_norm) {
    return HyperRecurrence::apply(xp, h0, c0, hy0, cy0, w_hcat, w_ycat, embed_bias, scale_weight, bias,
                                  opt(gamma), opt(beta), c_gamma, c_beta, opt(y_gamma), opt(y_beta),
                                  opt(y_c_gamma), opt(y_c_beta), opt(masks), layer_norm);
}

}  // namespace k2k::detail
