#!/usr/bin/python3
# The matrix products one Sketch-RNN training step of configs/full.yaml cannot avoid, timed alone on
# this CPU with the same libtorch and BLAS both k2k and the Python reference use: their sum is a
# floor for the step (no elementwise work, no loss, no optimiser, no autograd counted).
#
# The step (bench_sketch_rnn.cpp / ref_sketch_rnn.py "canvas128 B64"): canvas projection 358 -> 128,
# LSTM 1x512 on [stroke 5 | canvas 128] (z's share of the input projection is computed once per
# sketch, not per step: left out), head 512 -> 3 + 6·20. Products, forward then backward:
#   canvas   (B·T x 358) (358 x 128)                      forward, and its weight gradient
#   input    (B·T x 133) (133 x 2048)                     forward, weight gradient, canvas gradient
#   recur    T sequential (B x 512) (512 x 2048)          forward: step t needs h of step t-1
#   recur_dh T sequential (B x 2048) (2048 x 512)         backward: the gradient of h, also sequential
#   recur_dw (512 x B·T) (B·T x 2048)                     gradient of W_hh, one product for all steps
#   head     (B·T x 512) (512 x 123)                      forward, weight gradient, input gradient
# Run: OMP_NUM_THREADS=2 /usr/bin/python3 bench/sketch_step_floor.py [--threads N] [--steps T ...]
import statistics
import sys
import time

import torch

THREADS = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2
torch.set_num_threads(THREADS)
B, H, CANVAS_IN, CANVAS, STROKE, OUT = 64, 512, 358, 128, 5, 3 + 6 * 20
REPEATS = 7


def steps_arg():
    if "--steps" not in sys.argv:
        return [57, 100]
    i = sys.argv.index("--steps") + 1
    out = []
    while i < len(sys.argv) and not sys.argv[i].startswith("--"):
        out.append(int(sys.argv[i]))
        i += 1
    return out


def median_ms(fn):
    fn()
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def products(t):
    """(name, flops, function) of every product the step needs at T = t."""
    n = B * t
    g = torch.Generator().manual_seed(0)
    r = lambda *s: torch.randn(*s, generator=g)
    feats, w_canvas, d_canvas = r(n, CANVAS_IN), r(CANVAS_IN, CANVAS), r(n, CANVAS)
    x, w_x, d_gates = r(n, STROKE + CANVAS), r(STROKE + CANVAS, 4 * H), r(n, 4 * H)
    h_all, w_hh, w_head, d_out = r(n, H), r(H, 4 * H), r(H, OUT), r(n, OUT)
    h_step, dg_step = r(B, H), r(B, 4 * H)
    out_step, out_dh = torch.empty(B, 4 * H), torch.empty(B, H)

    def recur():
        for _ in range(t):
            torch.mm(h_step, w_hh, out=out_step)

    def recur_dh():
        for _ in range(t):
            torch.mm(dg_step, w_hh.t(), out=out_dh)

    f = lambda m, k, nn_: 2.0 * m * k * nn_
    # every product writes into a buffer allocated once (as k2k's fused LSTM does): no allocation or
    # page faults are timed, only the products
    o_canvas, o_canvas_dw = torch.empty(n, CANVAS), torch.empty(CANVAS_IN, CANVAS)
    o_gates, o_x_dw, o_dcanvas = torch.empty(n, 4 * H), torch.empty(STROKE + CANVAS, 4 * H), torch.empty(n, CANVAS)
    o_hh_dw, o_head = torch.empty(H, 4 * H), torch.empty(n, OUT)
    o_head_dw, o_head_dh = torch.empty(H, OUT), torch.empty(n, H)
    return [
        ("canvas fwd", f(n, CANVAS_IN, CANVAS), lambda: torch.mm(feats, w_canvas, out=o_canvas)),
        ("canvas dW", f(CANVAS_IN, n, CANVAS), lambda: torch.mm(feats.t(), d_canvas, out=o_canvas_dw)),
        ("input fwd", f(n, STROKE + CANVAS, 4 * H), lambda: torch.mm(x, w_x, out=o_gates)),
        ("input dW", f(STROKE + CANVAS, n, 4 * H), lambda: torch.mm(x.t(), d_gates, out=o_x_dw)),
        ("input dcanvas", f(n, 4 * H, CANVAS), lambda: torch.mm(d_gates, w_x[STROKE:].t(), out=o_dcanvas)),
        ("recur fwd (T seq.)", t * f(B, H, 4 * H), recur),
        ("recur dh (T seq.)", t * f(B, 4 * H, H), recur_dh),
        ("recur dW_hh", f(H, n, 4 * H), lambda: torch.mm(h_all.t(), d_gates, out=o_hh_dw)),
        ("head fwd", f(n, H, OUT), lambda: torch.mm(h_all, w_head, out=o_head)),
        ("head dW", f(H, n, OUT), lambda: torch.mm(h_all.t(), d_out, out=o_head_dw)),
        ("head dh", f(n, OUT, H), lambda: torch.mm(d_out, w_head.t(), out=o_head_dh)),
    ]


def main():
    print("Python PyTorch %s, threads %d, B %d, H %d; median of %d runs per product"
          % (torch.__version__, torch.get_num_threads(), B, H, REPEATS))
    big, big_out = torch.randn(2048, 2048), torch.empty(2048, 2048)
    peak_ms = median_ms(lambda: torch.mm(big, big, out=big_out))
    print("peak: (2048 x 2048) (2048 x 2048) %.2f ms, %.1f GFLOP/s" % (peak_ms, 2 * 2048 ** 3 / peak_ms / 1e6))
    for t in steps_arg():
        total_ms, total_flop = 0.0, 0.0
        for name, flop, fn in products(t):
            ms = median_ms(fn)
            total_ms += ms
            total_flop += flop
            print("  T %3d  %-20s %7.2f ms  %6.2f GFLOP  %6.1f GFLOP/s" % (t, name, ms, flop / 1e9, flop / ms / 1e6))
        print("T %3d floor: %.2f ms for %.2f GFLOP of products (%.1f GFLOP/s)"
              % (t, total_ms, total_flop / 1e9, total_flop / total_ms / 1e6), flush=True)


if __name__ == "__main__":
    main()
