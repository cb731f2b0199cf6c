#!/usr/bin/python3
# Python reference for bench_conv_vae: the same conv-VAE training step (native ConvTranspose2d
# decoder, batch 64, Adam) in PyTorch 1.13 with 2 threads. Run with Debian's /usr/bin/python3.
import argparse
import os
import sys
import statistics
import time

import torch


# The model is the golden-value script's re-statement of src/models/conv_vae.cpp (native
# ConvTranspose2d decoder), so the benchmark times the very network the tests check.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden"))
from gen_conv_vae import ConvVaeRef, vae_loss  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = ConvVaeRef(64)
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = (torch.rand(a.batch, 1, 64, 64) < 0.15).float()
    ms, cpu = [], []
    for i in range(a.warmup + a.steps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        adam.zero_grad()
        logits, mu, logvar, _ = model(x, torch.randn(a.batch, 64))
        vae_loss(logits, x, mu, logvar, 0.5, "bce")[0]["total"].backward()
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
