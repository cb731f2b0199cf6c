#!/usr/bin/python3
# Python reference for bench_mdn: the same MDN training step (3x1024 leaky-ReLU, K per-dim mixtures,
# batch 256, Adam) and 10-sample draw in PyTorch 1.13 with 2 threads. Run with /usr/bin/python3.
import argparse
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)

# The conv VAE of the golden-value script (the network tests/golden checks), for the stage row.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden"))
from gen_conv_vae import ConvVaeRef  # noqa: E402


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


def nll_rows(logit_pi, mu, log_sigma, y):
    z = (y.unsqueeze(2) - mu) * torch.exp(-log_sigma)
    log_n = -0.5 * z * z - log_sigma - HALF_LOG_2PI
    return -torch.logsumexp(torch.log_softmax(logit_pi, 2) + log_n, 2).sum(1)


def nll(logit_pi, mu, log_sigma, y):
    return nll_rows(logit_pi, mu, log_sigma, y).mean()


def log_prob_matrix(logit_pi, mu, log_sigma, latents):
    """log p(latent_c) under every row's mixture: (B, C), by broadcasting (B, C, D, K)."""
    z = (latents[None, :, :, None] - mu[:, None]) * torch.exp(-log_sigma[:, None])
    log_n = -0.5 * z * z - log_sigma[:, None] - HALF_LOG_2PI
    return torch.logsumexp(torch.log_softmax(logit_pi, 2)[:, None] + log_n, 3).sum(2)


def stage_step_ms(a):
    """configs/full.yaml's MDN stage step on a ready batch (as bench_mdn --stage 1): vae_old's
    encoder fine-tuned on 64 images (z_old sampled), MDN 2x256 with 5 mixtures per dimension, NLL
    plus the contrastive term over the true character and 256 random ones of 6,703, Adam."""
    b, negatives, candidates = 64, 256, 6703
    torch.manual_seed(0)
    vae = ConvVaeRef(64)
    mdn = Mdn(hidden=(256, 256), k=5)
    adam = torch.optim.Adam(list(vae.parameters()) + list(mdn.parameters()), lr=1e-3)
    x = (torch.rand(b, 1, 64, 64) < 0.15).float()
    z_new, cand = torch.randn(b, 64), torch.randn(candidates, 64)
    own = torch.randint(candidates, (b,))
    ms = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        h = F.relu(vae.enc_conv1(x))
        h = F.relu(vae.enc_conv2(h))
        h = F.relu(vae.enc_conv3(h))
        h = F.relu(vae.enc_conv4(h)).flatten(1)
        mu, logvar = vae.fc_mu(h), vae.fc_logvar(h)
        z_old = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape)
        mixture = mdn(z_old)
        loss_nll = nll(*mixture, z_new)
        neg = torch.randint(candidates, (negatives,))
        ll_own = -nll_rows(*mixture, cand[own])
        ll_neg = log_prob_matrix(*mixture, cand[neg]).masked_fill(own[:, None] == neg[None, :], -1e9)
        ce = F.cross_entropy(torch.cat([ll_own[:, None], ll_neg], 1), torch.zeros(b, dtype=torch.long))
        adam.zero_grad()
        (loss_nll + ce).backward()
        adam.step()
        if i >= a.warmup:
            ms.append((time.perf_counter() - t0) * 1000.0)
    return ms


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
    ap.add_argument("--stage", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.stage:
        print("mdn_stage_step_ms python=%.2f (full.yaml's MDN stage: encoder fine-tuned, B 64, 2x256, "
              "K=5 per_dim, contrastive over 256 of 6703, %d threads, median of %d)"
              % (statistics.median(stage_step_ms(a)), a.threads, a.steps))
        return
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
