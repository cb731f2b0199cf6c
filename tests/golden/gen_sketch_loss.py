#!/usr/bin/python3
# Writes tests/fixtures/golden/sketch_loss.json: Sketch-RNN reconstruction losses and their gradients
# computed by PyTorch (Debian python3-torch, float64) for tests/models/sketch_loss_test.cpp, and
# magenta-style recurrent cell outputs for tests/models/rnn_cells_test.cpp.
# Run: /usr/bin/python3 tests/golden/gen_sketch_loss.py
#
# Independent re-statement of src/models/sketch_loss.cpp: the bivariate loss is written the way
# magenta's tf_2d_normal / get_lossfunc do it, in probability space (−log(Σ π·N2 + 1e-6)), which
# float64 evaluates accurately for these moderate inputs; the C++ code works in log space. The
# per-axis loss follows kanji2kanji's get_lossfunc. Both use the project's parameter transforms:
# log σ = 7·tanh(raw/7), ρ = tanh(raw)·(1 − 1e-5).
import json
import math
import os

import torch

LOG_SIGMA_LIMIT = 7.0
RHO_SCALE = 1.0 - 1e-5
EPS = 1e-6
B, T, M = 3, 6, 4


def make_inputs():
    g = torch.Generator().manual_seed(1234)
    raw = torch.randn(B, T, 3 + 6 * M, generator=g, dtype=torch.float64)
    raw[..., 3 + 3 * M:3 + 5 * M] *= 0.5  # raw log σ (bivariate columns): moderate widths
    # Targets: stroke-5 rows 1..T. Sketch b ends after n_b points (rows n_b.. are end padding with
    # non-zero offsets, which the loss must ignore).
    target = torch.zeros(B, T, 5, dtype=torch.float64)
    lengths = [6, 4, 2]
    for b in range(B):
        for t in range(T):
            target[b, t, 0] = 0.7 * math.sin(1.3 * t + b)
            target[b, t, 1] = 0.6 * math.cos(0.9 * t + 2 * b)
            if t < lengths[b]:
                pen = 3 if (t + b) % 3 == 2 else 2
                target[b, t, pen] = 1.0
            else:
                target[b, t, 4] = 1.0
    return raw, target


def bound_log_sigma(x):
    return LOG_SIGMA_LIMIT * torch.tanh(x / LOG_SIGMA_LIMIT)


def pen_loss(pen_logits, target):
    # magenta: softmax_cross_entropy_with_logits over all Nmax rows, mean over B·Nmax
    return -(target[..., 2:5] * torch.log_softmax(pen_logits, -1)).sum() / (B * T)


def bivariate_loss(raw, target):
    z_pen = raw[..., 0:3]
    z_pi, mu1, mu2, s1, s2, corr = torch.split(raw[..., 3:], M, -1)
    pi = torch.softmax(z_pi, -1)
    s1 = torch.exp(bound_log_sigma(s1))
    s2 = torch.exp(bound_log_sigma(s2))
    rho = torch.tanh(corr) * RHO_SCALE
    x1 = target[..., 0:1]
    x2 = target[..., 1:2]
    # magenta tf_2d_normal (Graves eqs. 24–25)
    norm1 = x1 - mu1
    norm2 = x2 - mu2
    z = (norm1 / s1) ** 2 + (norm2 / s2) ** 2 - 2 * rho * norm1 * norm2 / (s1 * s2)
    neg_rho = 1 - rho ** 2
    result = torch.exp(-z / (2 * neg_rho)) / (2 * math.pi * s1 * s2 * torch.sqrt(neg_rho))
    # magenta get_lossfunc: −log(Σ π N + ε), masked by fs = 1 − p_end, mean over B·Nmax
    result1 = -torch.log((result * pi).sum(-1) + EPS)
    fs = 1.0 - target[..., 4]
    ls = (result1 * fs).sum() / (B * T)
    lp = pen_loss(z_pen, target)
    return ls, lp


def per_axis_loss(raw, target):
    z_pen = raw[..., 0:3]
    params = raw[..., 3:].reshape(B, T, 2, 3, M)  # kanji2kanji: per axis [logmix, mean, logstd]
    logmix = torch.log_softmax(params[..., 0, :], -1)
    mean = params[..., 1, :]
    logstd = bound_log_sigma(params[..., 2, :])
    y = target[..., 0:2].unsqueeze(-1)
    lognormal = -0.5 * ((y - mean) / torch.exp(logstd)) ** 2 - logstd - math.log(math.sqrt(2.0 * math.pi))
    v = torch.logsumexp(logmix + lognormal, -1)  # (B,T,2)
    fs = (1.0 - target[..., 4]).unsqueeze(-1)
    ls = -(v * fs).sum() / (B * T)
    lp = pen_loss(z_pen, target)
    return ls, lp


def case(fn, raw, target):
    r = raw.clone().requires_grad_(True)
    ls, lp = fn(r, target)
    lr = ls + lp
    lr.backward()
    return {
        "ls": ls.item(),
        "lp": lp.item(),
        "lr": lr.item(),
        "grad_raw": [float(v) for v in r.grad.flatten().tolist()],
    }


# ---------------------------------------------------------------------------------------------
# Cells: magenta rnn.py's LayerNormLSTMCell and HyperLSTMCell (forget_bias 0: the project keeps
# the forget bias inside its parameters), evaluated with the parameters of src/models/rnn_cells.h
# mapped to magenta's layout. The project's gate order is (i, f, g, o); magenta's is (i, j, f, o).
CI, CH, CHY, CE, CB, CT = 3, 4, 3, 2, 2, 3  # input, hidden, hyper, embedding, batch, steps


def cell_param_shapes(kind):
    h, i, hy, e = CH, CI, CHY, CE
    if kind == "layer_norm":
        return [("weight_ih", (4 * h, i)), ("weight_hh", (4 * h, h)), ("ln_gamma", (4 * h,)), ("ln_beta", (4 * h,)),
                ("ln_c_gamma", (h,)), ("ln_c_beta", (h,))]
    ln = kind == "hyper"
    shapes = [("weight_ih", (4 * h, i)), ("weight_hh", (4 * h, h)), ("bias", (4 * h,))]
    if ln:
        shapes += [("ln_gamma", (4 * h,)), ("ln_beta", (4 * h,))]
    shapes += [("ln_c_gamma", (h,)), ("ln_c_beta", (h,)), ("hyper_weight_ih", (4 * hy, i)),
               ("hyper_weight_hh", (4 * hy, h)), ("hyper_weight_rec", (4 * hy, hy))]
    if ln:
        shapes += [("hyper_ln_gamma", (4 * hy,)), ("hyper_ln_beta", (4 * hy,)), ("hyper_ln_c_gamma", (hy,)),
                   ("hyper_ln_c_beta", (hy,))]
    else:
        shapes += [("hyper_bias", (4 * hy,))]
    shapes += [("embed_weight", (12 * e, hy)), ("embed_bias", (12 * e,)), ("scale_weight", (12, e, h))]
    return shapes


def magenta_order(w, n):
    """Last-dim blocks (i, f, g, o) -> magenta's (i, j, f, o)."""
    i, f, g, o = torch.split(w, n, -1)
    return torch.cat([i, g, f, o], -1)


def layer_norm_all(h, n, gamma, beta):  # magenta layer_norm_all, eps 1e-3
    b = h.shape[0]
    r = h.view(b, 4, n)
    mean = r.mean(2, keepdim=True)
    var = ((r - mean) ** 2).mean(2, keepdim=True)
    r = (r - mean) * torch.rsqrt(var + 1e-3)
    return gamma * r.view(b, 4 * n) + beta


def layer_norm(x, gamma, beta):  # magenta layer_norm, eps 1e-3
    mean = x.mean(1, keepdim=True)
    var = ((x - mean) ** 2).mean(1, keepdim=True)
    return gamma * (x - mean) * torch.rsqrt(var + 1e-3) + beta


def ln_lstm(x, h, c, w_xh, w_hh, gamma, beta, gc, bc, n):  # magenta LayerNormLSTMCell
    concat = torch.cat([x, h], 1) @ torch.cat([w_xh, w_hh], 0)
    concat = layer_norm_all(concat, n, gamma, beta)
    i, j, f, o = torch.split(concat, n, 1)
    new_c = c * torch.sigmoid(f) + torch.sigmoid(i) * torch.tanh(j)
    new_h = torch.tanh(layer_norm(new_c, gc, bc)) * torch.sigmoid(o)
    return new_h, new_c


def plain_lstm(x, h, c, w_xh, w_hh, bias, n):  # magenta LSTMCell
    hidden = torch.cat([x, h], 1) @ torch.cat([w_xh, w_hh], 0) + bias
    i, j, f, o = torch.split(hidden, n, 1)
    new_c = c * torch.sigmoid(f) + torch.sigmoid(i) * torch.tanh(j)
    return torch.tanh(new_c) * torch.sigmoid(o), new_c


def run_cell(kind, p, x, state):
    h, c = state[:, :CH], state[:, CH:2 * CH]
    outs = []
    if kind == "layer_norm":
        w_xh, w_hh = magenta_order(p["weight_ih"].t(), CH), magenta_order(p["weight_hh"].t(), CH)
        g, b = magenta_order(p["ln_gamma"], CH), magenta_order(p["ln_beta"], CH)
        for t in range(CT):
            h, c = ln_lstm(x[:, t], h, c, w_xh, w_hh, g, b, p["ln_c_gamma"], p["ln_c_beta"], CH)
            outs.append(h)
        return torch.stack(outs, 1), c
    ln = kind == "hyper"
    hy, cy = state[:, 2 * CH:2 * CH + CHY], state[:, 2 * CH + CHY:]
    y_xh = magenta_order(torch.cat([p["hyper_weight_ih"], p["hyper_weight_hh"]], 1).t(), CHY)
    y_hh = magenta_order(p["hyper_weight_rec"].t(), CHY)
    e = CE
    # magenta hyper_norm pieces, one per gate block k of (i, f, g, o) and per source (x, h)
    zw = lambda out, k: out @ p["embed_weight"][k * e:(k + 1) * e].t() + p["embed_bias"][k * e:(k + 1) * e]
    zb = lambda out, k: out @ p["embed_weight"][(8 + k) * e:(9 + k) * e].t() + p["embed_bias"][(8 + k) * e:(9 + k) * e]
    for t in range(CT):
        xt = x[:, t]
        if ln:
            hy, cy = ln_lstm(torch.cat([xt, h], 1), hy, cy, y_xh, y_hh, magenta_order(p["hyper_ln_gamma"], CHY),
                             magenta_order(p["hyper_ln_beta"], CHY), p["hyper_ln_c_gamma"], p["hyper_ln_c_beta"], CHY)
        else:
            hy, cy = plain_lstm(torch.cat([xt, h], 1), hy, cy, y_xh, y_hh, magenta_order(p["hyper_bias"], CHY), CHY)
        xh = torch.split(xt @ p["weight_ih"].t(), CH, 1)
        hh = torch.split(h @ p["weight_hh"].t(), CH, 1)
        bs = torch.split(p["bias"], CH, 0)
        gates = []
        for k in range(4):
            ax = zw(hy, k) @ p["scale_weight"][k]
            ah = zw(hy, 4 + k) @ p["scale_weight"][4 + k]
            beta = zb(hy, k) @ p["scale_weight"][8 + k]
            gates.append(ax * xh[k] + ah * hh[k] + beta + bs[k])
        i, f, g, o = gates
        if ln:
            concat = layer_norm_all(torch.cat([i, g, f, o], 1), CH, magenta_order(p["ln_gamma"], CH),
                                    magenta_order(p["ln_beta"], CH))
            i, g, f, o = torch.split(concat, CH, 1)
        c = c * torch.sigmoid(f) + torch.sigmoid(i) * torch.tanh(g)
        h = torch.tanh(layer_norm(c, p["ln_c_gamma"], p["ln_c_beta"])) * torch.sigmoid(o)
        outs.append(h)
    return torch.stack(outs, 1), c


def cell_case(kind, seed):
    g = torch.Generator().manual_seed(seed)
    params = {name: torch.randn(*shape, generator=g) * 0.5 for name, shape in cell_param_shapes(kind)}
    width = 2 * CH if kind == "layer_norm" else 2 * (CH + CHY)
    x = torch.randn(CB, CT, CI, generator=g)
    state = torch.randn(CB, width, generator=g) * 0.5
    hs, c = run_cell(kind, params, x, state)
    flat = lambda t: [float(v) for v in t.flatten().tolist()]
    return {
        "params": {k: flat(v) for k, v in params.items()},
        "x": flat(x),
        "state": flat(state),
        "hs": flat(hs),
        "c_final": flat(c),
    }


def main():
    torch.set_default_dtype(torch.float64)
    raw, target = make_inputs()
    out = {
        "about": "Sketch-RNN reconstruction losses (Lr = Ls + Lp) and dLr/draw; "
                 "written by tests/golden/gen_sketch_loss.py",
        "B": B,
        "T": T,
        "M": M,
        "raw": [float(v) for v in raw.flatten().tolist()],
        "target": [float(v) for v in target.flatten().tolist()],
        "bivariate": case(bivariate_loss, raw, target),
        "per_axis": case(per_axis_loss, raw, target),
        # magenta-style cell outputs for tests/models/rnn_cells_test.cpp (sizes I, H, Hh, E, B, T)
        "cells": {
            "sizes": [CI, CH, CHY, CE, CB, CT],
            "layer_norm": cell_case("layer_norm", 11),
            "hyper": cell_case("hyper", 12),
            "hyper_plain": cell_case("hyper_plain", 13),
        },
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "golden", "sketch_loss.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, default=repr)
        f.write("\n")
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
