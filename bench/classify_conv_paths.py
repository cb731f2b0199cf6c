#!/usr/bin/python3
"""Where a PreActResNet-18 training step spends its time on the CPU, and whether another way of
running its 3x3 convolutions is faster (the same libtorch as k2k: Debian python3-torch 1.13).

1. The whole step (batch 128 of 28x28, manifold mixup at block 1, SGD), NCHW against channels-last.
2. The step's operators (torch.profiler, self time), top 6.
3. Each 3x3 convolution shape of the network, forward + backward (input and weight gradients):
   oneDNN (PyTorch's default), oneDNN channels-last, the native convolution (oneDNN off) and
   unfold + matmul (im2col written with torch ops).

Usage: /usr/bin/python3 bench/classify_conv_paths.py [repeats=3] [threads=2]
"""
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref_classify import PreActResNet18  # noqa: E402

REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
torch.manual_seed(0)


def median_ms(fn, repeats=REPEATS):
    fn()  # warm-up
    ms = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ms)


def step_fn(channels_last):
    net = PreActResNet18()
    x, y = torch.rand(128, 1, 28, 28), torch.randint(0, 10, (128,))
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)

    def step():
        loss = F.cross_entropy(net(x, 1, 0.7, torch.randperm(128)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def conv_unfold(x, w):
    b, c, h, wd = x.shape
    cols = F.unfold(x, 3, padding=1)  # (B, C*9, H*W)
    return (w.reshape(w.shape[0], -1) @ cols).reshape(b, w.shape[0], h, wd)


def conv_fn(x, w, conv):
    def run():
        x.grad = w.grad = None
        y = conv(x, w)
        y.backward(torch.ones_like(y))
    return run


def main():
    print("torch %s, %d threads" % (torch.__version__, torch.get_num_threads()), flush=True)
    print("1. training step, batch 128, median of %d (ms): NCHW %.1f, channels-last %.1f" %
          (REPEATS, median_ms(step_fn(False)), median_ms(step_fn(True))), flush=True)

    step = step_fn(False)
    step()
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    rows = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in rows)
    print("2. one profiled step: %.0f ms of self time; " % (total / 1000) +
          ", ".join("%s %.1f %%" % (e.key, 100 * e.self_cpu_time_total / total) for e in rows[:6]), flush=True)

    print("3. 3x3 convolution, stride 1, batch 128, forward + backward, median of %d (ms):" % REPEATS)
    print("   shape            oneDNN  oneDNN-CL  native  unfold+matmul  max |diff| vs oneDNN")
    for c, s in [(64, 28), (128, 14), (256, 7), (512, 4)]:
        x = torch.rand(128, c, s, s, requires_grad=True)
        w = (torch.rand(c, c, 3, 3) * 0.01).requires_grad_()
        xc = x.detach().contiguous(memory_format=torch.channels_last).requires_grad_()
        wc = w.detach().contiguous(memory_format=torch.channels_last).requires_grad_()
        same = lambda a, b: F.conv2d(a, b, padding=1)  # noqa: E731
        onednn = median_ms(conv_fn(x, w, same))
        onednn_cl = median_ms(conv_fn(xc, wc, same))
        torch.backends.mkldnn.enabled = False
        native = median_ms(conv_fn(x, w, same))
        torch.backends.mkldnn.enabled = True
        unfold = median_ms(conv_fn(x, w, conv_unfold))
        with torch.no_grad():
            diff = (conv_unfold(x, w) - F.conv2d(x, w, padding=1)).abs().max().item()
        print("   %3d x %2d x %-2d  %7.1f  %9.1f  %6.1f  %13.1f  %.1e" %
              (c, s, s, onednn, onednn_cl, native, unfold, diff), flush=True)


if __name__ == "__main__":
    main()
