#!/usr/bin/python3
# Python reference for bench_conv_vae: the same conv-VAE training step (native ConvTranspose2d
# decoder, batch 64, Adam) in PyTorch 1.13 with 2 threads. Run with Debian's /usr/bin/python3.
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvVae(nn.Module):
    def __init__(self, z_size=64, in_channels=1):
        super().__init__()
        self.enc_conv1 = nn.Conv2d(in_channels, 32, 4, stride=2)
        self.enc_conv2 = nn.Conv2d(32, 64, 4, stride=2)
        self.enc_conv3 = nn.Conv2d(64, 128, 4, stride=2)
        self.enc_conv4 = nn.Conv2d(128, 256, 4, stride=2)
        self.fc_mu = nn.Linear(1024, z_size)
        self.fc_logvar = nn.Linear(1024, z_size)
        self.dec_fc = nn.Linear(z_size, 1024)
        self.dec_deconv1 = nn.ConvTranspose2d(1024, 128, 5, stride=2)
        self.dec_deconv2 = nn.ConvTranspose2d(128, 64, 5, stride=2)
        self.dec_deconv3 = nn.ConvTranspose2d(64, 32, 6, stride=2)
        self.dec_deconv4 = nn.ConvTranspose2d(32, in_channels, 6, stride=2)

    def forward(self, x, eps):
        h = F.relu(self.enc_conv1(x))
        h = F.relu(self.enc_conv2(h))
        h = F.relu(self.enc_conv3(h))
        h = F.relu(self.enc_conv4(h)).flatten(1)
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)
        z = mu + torch.exp(0.5 * logvar) * eps
        h = self.dec_fc(z).view(-1, 1024, 1, 1)
        h = F.relu(self.dec_deconv1(h))
        h = F.relu(self.dec_deconv2(h))
        h = F.relu(self.dec_deconv3(h))
        return self.dec_deconv4(h), mu, logvar


def loss_fn(logits, x, mu, logvar, kl_tolerance=0.5):
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum((1, 2, 3)).mean()
    kl = -0.5 * (1 + logvar - mu.pow(2) - torch.exp(logvar)).sum(1)
    kl = torch.clamp(kl, min=kl_tolerance * mu.shape[1]).mean()
    return recon + kl


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = ConvVae()
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = (torch.rand(a.batch, 1, 64, 64) < 0.15).float()
    ms, cpu = [], []
    for i in range(a.warmup + a.steps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        adam.zero_grad()
        logits, mu, logvar = model(x, torch.randn(a.batch, 64))
        loss_fn(logits, x, mu, logvar).backward()
        adam.step()
        t1 = time.perf_counter()
        if i >= a.warmup:
            ms.append((t1 - t0) * 1000.0)
            cpu.append((time.process_time() - c0) * 1000.0)
    print("vae_step_ms python=%.2f (batch %d, %d threads, median of %d)"
          % (statistics.median(ms), a.batch, a.threads, a.steps))
    print("vae_step_cpu_ms python=%.2f" % statistics.median(cpu))


if __name__ == "__main__":
    main()
