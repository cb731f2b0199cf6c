#!/usr/bin/python3
# Python reference for bench_mdn: the same MDN training step (3x1024 leaky-ReLU, K per-dim mixtures,
# batch 256, Adam) and 10-sample draw in PyTorch 1.13 with 2 threads. Run with /usr/bin/python3.
import argparse
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


class Mdn(nn.Module):
    """per_dim MDN as in src/models/mdn.cpp: head = [logits | mu | raw log sigma], each (D,K)."""

    def __init__(self, in_size=64, out_size=64, hidden=(1024, 1024, 1024), k=100,
                 log_sigma_min=-7.0, log_sigma_max=7.0):
        super().__init__()
        layers, width = [], in_size
        for h in hidden:
            layers.append(nn.Linear(width, h))
            width = h
        self.fcs = nn.ModuleList(layers)
        self.head = nn.Linear(width, 3 * out_size * k)
        self.d, self.k = out_size, k
        self.mid = 0.5 * (log_sigma_max + log_sigma_min)
        self.half = 0.5 * (log_sigma_max - log_sigma_min)

    def forward(self, x):
        h = x
        for layer in self.fcs:
            h = F.leaky_relu(layer(h), 0.01)
        parts = self.head(h).view(x.shape[0], 3, self.d, self.k)
        log_sigma = self.mid + self.half * torch.tanh((parts[:, 2] - self.mid) / self.half)
        return parts[:, 0], parts[:, 1], log_sigma


def nll(logit_pi, mu, log_sigma, y):
    z = (y.unsqueeze(2) - mu) * torch.exp(-log_sigma)
    log_n = -0.5 * z * z - log_sigma - HALF_LOG_2PI
    return -torch.logsumexp(torch.log_softmax(logit_pi, 2) + log_n, 2).sum(1).mean()


def sample(logit_pi, mu, log_sigma, tau, gen, component_mean):
    scaled = (logit_pi - logit_pi.max(2, keepdim=True)[0]) / tau
    u = torch.rand(logit_pi.shape, generator=gen).clamp_min(torch.finfo(torch.float32).tiny)
    k = (scaled - torch.log(-torch.log(u))).argmax(2, keepdim=True)
    m = mu.gather(2, k).squeeze(2)
    if component_mean:
        return m
    s = torch.exp(log_sigma.gather(2, k).squeeze(2))
    return m + s * math.sqrt(tau) * torch.randn(m.shape, generator=gen)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--mixtures", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Mdn(k=a.mixtures)
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(a.batch, 64), torch.randn(a.batch, 64)
    step_ms = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        adam.zero_grad()
        nll(*model(x), y).backward()
        adam.step()
        if i >= a.warmup:
            step_ms.append((time.perf_counter() - t0) * 1000.0)

    gen = torch.Generator().manual_seed(1)
    one = torch.randn(1, 64)
    mean_ms, noise_ms = [], []
    with torch.no_grad():
        for i in range(a.warmup + a.samples):
            for component_mean in (True, False):
                t0 = time.perf_counter()
                out = [t.expand(10, 64, a.mixtures) for t in model(one)]
                sample(*out, 0.25, gen, component_mean)
                if i >= a.warmup:
                    ms = (time.perf_counter() - t0) * 1000.0
                    (mean_ms if component_mean else noise_ms).append(ms)
    print("mdn_step_ms python=%.2f (batch %d, hidden 3x1024, K=%d per_dim, %d threads, "
          "median of %d)"
          % (statistics.median(step_ms), a.batch, a.mixtures, a.threads, a.steps))
    print("mdn_sample10_ms python mean=%.3f noise=%.3f (1 input, 10 samples, tau 0.25, "
          "median of %d)"
          % (statistics.median(mean_ms), statistics.median(noise_ms), a.samples))


if __name__ == "__main__":
    main()
