#!/usr/bin/python3
# Python PyTorch reference for bench/bench_sketch_rnn.cpp: the Sketch-RNN decoder with magenta's
# per-step cells ported line by line (rnn.py), same shapes, 2 threads, same figures and format.
# Run: /usr/bin/python3 bench/ref_sketch_rnn.py [--quick] [--only TEXT] [--threads N]
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2)

T, B, Z, M = 80, 32, 64, 20
LN_EPS = 1e-3


def ortho_blocks(w, blocks):
    rows = w.shape[0] // blocks
    for k in range(blocks):
        nn.init.orthogonal_(w.data[k * rows:(k + 1) * rows])


class LSTMCell(nn.Module):
    """magenta LSTMCell: concat([x, h]) @ [W_xh; W_hh] + bias, recurrent dropout on tanh(j)."""

    def __init__(self, x_size, h, keep):
        super().__init__()
        self.h, self.keep = h, keep
        self.w_xh = nn.Parameter(torch.empty(x_size, 4 * h).uniform_(-0.05, 0.05))
        self.w_hh = nn.Parameter(torch.empty(h, 4 * h))
        ortho_blocks(self.w_hh.data.t(), 4)
        self.bias = nn.Parameter(torch.zeros(4 * h))

    def forward(self, x, state):
        c, h = state
        concat = torch.cat([x, h], 1)
        w_full = torch.cat([self.w_xh, self.w_hh], 0)
        hidden = concat @ w_full + self.bias
        i, j, f, o = torch.split(hidden, self.h, 1)
        g = torch.tanh(j)
        if self.training and self.keep < 1.0:
            g = F.dropout(g, 1.0 - self.keep)
        new_c = c * torch.sigmoid(f + 1.0) + torch.sigmoid(i) * g
        new_h = torch.tanh(new_c) * torch.sigmoid(o)
        return new_h, (new_c, new_h)


class LayerNormLSTMCell(nn.Module):
    """magenta LayerNormLSTMCell (layer_norm_all over the 4 gate blocks, then LN(c))."""

    def __init__(self, x_size, h, keep):
        super().__init__()
        self.h, self.keep = h, keep
        self.w_xh = nn.Parameter(torch.empty(x_size, 4 * h).uniform_(-0.05, 0.05))
        self.w_hh = nn.Parameter(torch.empty(h, 4 * h))
        ortho_blocks(self.w_hh.data.t(), 4)
        self.ln_gamma = nn.Parameter(torch.ones(4 * h))
        self.ln_beta = nn.Parameter(torch.zeros(4 * h))
        self.ln_c_gamma = nn.Parameter(torch.ones(h))
        self.ln_c_beta = nn.Parameter(torch.zeros(h))

    def forward(self, x, state):
        h, c = state
        b = x.shape[0]
        concat = torch.cat([x, h], 1) @ torch.cat([self.w_xh, self.w_hh], 0)
        concat = F.layer_norm(concat.view(b, 4, self.h), (self.h,), eps=LN_EPS).view(b, 4 * self.h)
        concat = concat * self.ln_gamma + self.ln_beta
        i, j, f, o = torch.split(concat, self.h, 1)
        g = torch.tanh(j)
        if self.training and self.keep < 1.0:
            g = F.dropout(g, 1.0 - self.keep)
        new_c = c * torch.sigmoid(f + 1.0) + torch.sigmoid(i) * g
        new_h = torch.tanh(F.layer_norm(new_c, (self.h,), self.ln_c_gamma, self.ln_c_beta, LN_EPS)) * torch.sigmoid(o)
        return new_h, (new_h, new_c)


class SuperLinear(nn.Module):
    def __init__(self, n_in, n_out, init, start=0.0, bias=True, bias_start=0.0):
        super().__init__()
        w = torch.empty(n_in, n_out)
        if init == "constant":
            w.fill_(start)
        else:
            w.normal_(0.0, start)
        self.w = nn.Parameter(w)
        self.b = nn.Parameter(torch.full((n_out,), bias_start)) if bias else None

    def forward(self, x):
        y = x @ self.w
        return y + self.b if self.b is not None else y


class HyperNorm(nn.Module):
    """magenta HyperLSTMCell.hyper_norm: zw/alpha (and zb/beta) super_linears."""

    def __init__(self, hyper, embed, n, use_bias):
        super().__init__()
        self.zw = SuperLinear(hyper, embed, "constant", 0.0, True, 1.0)
        self.alpha = SuperLinear(embed, n, "constant", 0.1 / embed, False)
        self.use_bias = use_bias
        if use_bias:
            self.zb = SuperLinear(hyper, embed, "gaussian", 0.01, False)
            self.beta = SuperLinear(embed, n, "constant", 0.0, False)

    def forward(self, hyper_output, layer):
        result = self.alpha(self.zw(hyper_output)) * layer
        if self.use_bias:
            result = result + self.beta(self.zb(hyper_output))
        return result


class HyperLSTMCell(nn.Module):
    """magenta HyperLSTMCell with use_layer_norm=True, hyper 256 units, embedding 32."""

    def __init__(self, x_size, h, keep, hyper=256, embed=32):
        super().__init__()
        self.h, self.keep, self.hyper = h, keep, hyper
        self.hyper_cell = LayerNormLSTMCell(x_size + h, hyper, 1.0)
        self.w_xh = nn.Parameter(torch.empty(x_size, 4 * h).uniform_(-0.05, 0.05))
        self.w_hh = nn.Parameter(torch.empty(h, 4 * h))
        ortho_blocks(self.w_hh.data.t(), 4)
        self.bias = nn.Parameter(torch.zeros(4 * h))
        self.norms_x = nn.ModuleList([HyperNorm(hyper, embed, h, False) for _ in range(4)])
        self.norms_h = nn.ModuleList([HyperNorm(hyper, embed, h, True) for _ in range(4)])
        self.ln_gamma = nn.Parameter(torch.ones(4 * h))
        self.ln_beta = nn.Parameter(torch.zeros(4 * h))
        self.ln_c_gamma = nn.Parameter(torch.ones(h))
        self.ln_c_beta = nn.Parameter(torch.zeros(h))

    def forward(self, x, state):
        h, c, hy, cy = state
        b = x.shape[0]
        hyper_output, (hy, cy) = self.hyper_cell(torch.cat([x, h], 1), (hy, cy))
        xh = x @ self.w_xh
        hh = h @ self.w_hh
        xs = [n(hyper_output, part) for n, part in zip(self.norms_x, torch.split(xh, self.h, 1))]
        hs = [n(hyper_output, part) for n, part in zip(self.norms_h, torch.split(hh, self.h, 1))]
        bs = torch.split(self.bias, self.h, 0)
        gates = [xs[k] + hs[k] + bs[k] for k in range(4)]
        concat = torch.cat(gates, 1)
        concat = F.layer_norm(concat.view(b, 4, self.h), (self.h,), eps=LN_EPS).view(b, 4 * self.h)
        concat = concat * self.ln_gamma + self.ln_beta
        i, j, f, o = torch.split(concat, self.h, 1)
        g = torch.tanh(j)
        if self.training and self.keep < 1.0:
            g = F.dropout(g, 1.0 - self.keep)
        new_c = c * torch.sigmoid(f + 1.0) + torch.sigmoid(i) * g
        new_h = torch.tanh(F.layer_norm(new_c, (self.h,), self.ln_c_gamma, self.ln_c_beta, LN_EPS)) * torch.sigmoid(o)
        return new_h, (new_h, new_c, hy, cy)


CANVAS_FEATURES = 3 + 15 * 15 + 9 * 9 + 7 * 7  # src/data/canvas.h kCanvasFeatures


class Decoder(nn.Module):
    def __init__(self, cell, layers, hidden, keep, canvas=0):
        super().__init__()
        self.cell_kind, self.hidden, self.layers = cell, hidden, layers
        self.fused = None
        # canvas decoder (k2k's sketch.canvas_hidden): relu(Linear(features)) joins every step's input
        self.canvas_proj = nn.Linear(CANVAS_FEATURES, canvas) if canvas > 0 else None
        if cell == "fused":
            self.fused = nn.LSTM(5 + canvas + Z, hidden, layers, batch_first=True)
            self.state_sizes = [2 * hidden] * layers
        else:
            make = {"lstm": LSTMCell, "layer_norm": LayerNormLSTMCell, "hyper": HyperLSTMCell}[cell]
            self.cells = nn.ModuleList([make(5 + Z if l == 0 else hidden, hidden, keep) for l in range(layers)])
            per = 2 * (hidden + 256) if cell == "hyper" else 2 * hidden
            self.state_sizes = [per] * layers
        self.init_state = nn.Linear(Z, sum(self.state_sizes))
        nn.init.normal_(self.init_state.weight, 0.0, 0.001)
        nn.init.zeros_(self.init_state.bias)
        self.head = nn.Linear(hidden, 3 + 6 * M)

    def initial_state(self, z):
        flat = torch.tanh(self.init_state(z))
        states = []
        for part in torch.split(flat, self.state_sizes, 1):
            if self.cell_kind == "hyper":
                states.append(tuple(torch.split(part, [self.hidden, self.hidden, 256, 256], 1)))
            else:
                a, b = torch.split(part, self.hidden, 1)
                states.append((a, b))
        return states

    def forward(self, strokes, z, canvas=None):
        steps = strokes.shape[1] - 1
        parts = [strokes[:, :steps]]
        if self.canvas_proj is not None:
            parts.append(torch.relu(self.canvas_proj(canvas[:, :steps])))
        x = torch.cat(parts + [z.unsqueeze(1).expand(-1, steps, -1)], 2)
        states = self.initial_state(z)
        if self.fused is not None:
            h0 = torch.stack([s[0] for s in states])
            c0 = torch.stack([s[1] for s in states])
            out, _ = self.fused(x, (h0, c0))
            return self.head(out)
        outs = []
        for t in range(steps):
            h = x[:, t]
            for l, cell in enumerate(self.cells):
                h, states[l] = cell(h, states[l])
            outs.append(h)
        return self.head(torch.stack(outs, 1))

    def step(self, x, states):
        h = x
        for l, cell in enumerate(self.cells):
            h, states[l] = cell(h, states[l])
        return self.head(h)


def recon_loss(raw, target):
    """Log-space bivariate GMM NLL (ε inside) + pen cross-entropy, as src/models/sketch_loss.cpp."""
    pen = raw[..., :3]
    z_pi, mu1, mu2, s1, s2, corr = torch.split(raw[..., 3:], M, -1)
    log_pi = torch.log_softmax(z_pi, -1)
    ls1 = 7.0 * torch.tanh(s1 / 7.0)
    ls2 = 7.0 * torch.tanh(s2 / 7.0)
    rho = torch.tanh(corr) * (1 - 1e-5)
    zx = (target[..., 0:1] - mu1) * torch.exp(-ls1)
    zy = (target[..., 1:2] - mu2) * torch.exp(-ls2)
    omr = (1 - rho) * (1 + rho)
    zz = zx * zx + zy * zy - 2 * rho * zx * zy
    log_n = -0.5 * zz / omr - math.log(2 * math.pi) - ls1 - ls2 - 0.5 * torch.log(omr)
    log_p = torch.logaddexp(torch.logsumexp(log_pi + log_n, -1), torch.tensor(math.log(1e-6)))
    mask = target[..., 4] < 0.5
    n = raw.shape[0] * raw.shape[1]
    ls = -torch.where(mask, log_p, torch.zeros_like(log_p)).sum() / n
    lp = -(target[..., 2:] * torch.log_softmax(pen, -1)).sum() / n
    return ls + lp


def fake_batch(gen, batch=B, steps=T):
    strokes = torch.zeros(batch, steps + 1, 5)
    strokes[:, :, :2] = torch.randn(batch, steps + 1, 2, generator=gen)
    pen = torch.randint(0, 2, (batch, steps + 1), generator=gen)
    strokes[:, :, 2] = (pen == 0).float()
    strokes[:, :, 3] = (pen == 1).float()
    strokes[:, 0] = torch.tensor([0, 0, 1, 0, 0.0])
    for b in range(batch):  # lengths 60..80 of 80 (3/4 T .. T), end padding after
        n = steps * 3 // 4 + (b * 7) % (steps // 4 + 1)
        strokes[b, n + 1:] = torch.tensor([0, 0, 0, 0, 1.0])
    return strokes


ONLY = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else ""


def time_ms(fn, repeats, warmup=1):
    """(median, min) of the repeats in ms, after warm-up."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times), min(times)


def report(label, t, repeats):
    print("%-36s median %9.2f ms  min %9.2f ms  over %d" % (label, t[0], t[1], repeats), flush=True)


def bench_train(name, cell, layers, hidden, keep, repeats, batch=B, steps=T, canvas=0):
    if ONLY not in "train " + name:
        return
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    model = Decoder(cell, layers, hidden, keep, canvas)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    strokes = fake_batch(gen, batch, steps)
    z = torch.randn(batch, Z, generator=gen)
    features = torch.rand(batch, steps, CANVAS_FEATURES, generator=gen) if canvas > 0 else None

    def step():
        opt.zero_grad()
        loss = recon_loss(model(strokes, z, features), strokes[:, 1:])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    report("train " + name, time_ms(step, repeats), repeats)


def bench_sample(name, cell, hidden, repeats, n=10, max_len=80, tau=0.25):
    if ONLY not in "sample " + name:
        return
    torch.manual_seed(0)
    model = Decoder(cell, 1, hidden, 1.0)
    model.eval()
    with torch.no_grad():
        model.head.bias[2] = -30.0  # no end token: every run is max_len steps, as in the C++ bench
    z = torch.randn(1, Z).expand(n, Z).contiguous()
    gen = torch.Generator().manual_seed(5)

    def run():
        with torch.no_grad():
            states = model.initial_state(z)
            s = torch.zeros(n, 5)
            s[:, 2] = 1.0
            done = torch.zeros(n, dtype=torch.bool)
            out = []
            for _ in range(max_len):
                raw = model.step(torch.cat([s, z], 1), states)
                pen_logits = raw[:, :3]
                z_pi, mu1, mu2, s1, s2, corr = torch.split(raw[:, 3:], M, 1)
                idx = torch.multinomial(torch.softmax(z_pi / tau, 1), 1, generator=gen)
                mx, my = mu1.gather(1, idx), mu2.gather(1, idx)
                sx = torch.exp(7.0 * torch.tanh(s1.gather(1, idx) / 7.0)) * math.sqrt(tau)
                sy = torch.exp(7.0 * torch.tanh(s2.gather(1, idx) / 7.0)) * math.sqrt(tau)
                rho = torch.tanh(corr.gather(1, idx)) * (1 - 1e-5)
                e = torch.randn(n, 2, generator=gen)
                dx = mx + sx * e[:, 0:1]
                dy = my + sy * (rho * e[:, 0:1] + torch.sqrt(1 - rho * rho) * e[:, 1:2])
                pen = torch.multinomial(torch.softmax(pen_logits / tau, 1), 1, generator=gen)
                s = torch.cat([dx, dy, F.one_hot(pen[:, 0], 3).float()], 1)
                out.append(s)
                done = done | (pen[:, 0] == 2)
                if bool(done.all()):
                    break
            return torch.stack(out, 1)

    report("sample " + name, time_ms(run, repeats), repeats)


def main():
    quick = "--quick" in sys.argv
    r = 2 if quick else 5
    print("Python PyTorch %s, threads %d, T=%d B=%d z=%d M=%d" % (torch.__version__, torch.get_num_threads(), T, B, Z, M))
    bench_train("lstm 1x512 dropout0.9", "lstm", 1, 512, 0.9, r)
    bench_train("layer_norm 1x512 dropout0.9", "layer_norm", 1, 512, 0.9, r)
    bench_train("hyper 1x512 dropout0.9", "hyper", 1, 512, 0.9, r)
    # Without dropout the natural Python choice is nn.LSTM (printed under both C++ labels).
    bench_train("lstm 1x512 nodropout", "fused", 1, 512, 1.0, r)
    bench_train("lstm 1x512 nodropout nn.LSTM", "fused", 1, 512, 1.0, r)
    # configs/full.yaml's Sketch-RNN stage: canvas decoder, LSTM 1x512, batch 64, max_seq_len 100
    bench_train("lstm 1x512 nodropout canvas128 B64 T100", "fused", 1, 512, 1.0, r, 64, 100, 128)
    # the same with sketch.trim_padding: 57 steps, the mean trimmed batch length (bench_trim_length --config configs/full.yaml)
    bench_train("lstm 1x512 nodropout canvas128 B64 T57", "fused", 1, 512, 1.0, r, 64, 57, 128)
    bench_train("lstm 3x1024 nodropout", "fused", 3, 1024, 1.0, 2 if quick else 3)
    bench_train("lstm 3x1024 nodropout nn.LSTM", "fused", 3, 1024, 1.0, 2 if quick else 3)
    for cell in ("lstm", "layer_norm", "hyper"):
        bench_sample("%s 1x512 10x80" % cell, cell, 512, 5 if quick else 20)


if __name__ == "__main__":
    main()
