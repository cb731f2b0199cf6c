#!/usr/bin/python3
"""Side-by-side model benchmarks: C++ (bench_conv_vae, bench_mdn, bench_sketch_rnn) against the
Python PyTorch references (ref_*.py, Debian python3-torch, same libtorch 1.13), interleaved in one
run so that both see the same machine noise. Prints one markdown table: the median over rounds of
each side's per-run median, and the ratio Python / C++ (> 1: C++ faster).

Usage: /usr/bin/python3 bench/compare_models.py [--build build] [--rounds 3] [--threads 2] [--quick]
                                                 [--only models|classify]
(classify: bench_classify / ref_classify.py, the training steps of `k2k classify`'s networks.)
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    sys.stderr.write(out)
    return out


def parse_kv(text, key, side):
    """'key side=12.3' or 'key ... side mean=12.3' -> 12.3"""
    m = re.search(r"^%s %s=([0-9.]+)" % (re.escape(key), side), text, re.M)
    if not m:
        m = re.search(r"^%s %s mean=([0-9.]+)" % (re.escape(key), side), text, re.M)
    if not m:
        raise SystemExit("could not find %s %s in output" % (key, side))
    return float(m.group(1))


def parse_labels(text):
    """'<label>   median   12.34 ms  min ...' lines -> {label: median}"""
    out = {}
    for m in re.finditer(r"^(.*?)\s+median\s+([0-9.]+) ms", text, re.M):
        out[m.group(1).strip()] = float(m.group(2))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="fewer repeats inside the Sketch-RNN benches")
    ap.add_argument("--only", choices=["models", "classify"], help="one group of benchmarks (default both)")
    a = ap.parse_args()
    py = "/usr/bin/python3"
    t = ["--threads", str(a.threads)]
    rows = {}  # name -> (list cpp, list python)

    def add(name, cpp, python):
        r = rows.setdefault(name, ([], []))
        r[0].append(cpp)
        r[1].append(python)

    for rnd in range(a.rounds):
        sys.stderr.write("== round %d/%d\n" % (rnd + 1, a.rounds))
        if a.only != "models":
            c = parse_labels(run([os.path.join(a.build, "bench", "bench_classify"), "128", "3", str(a.threads)]))
            p = parse_labels(run([py, os.path.join(HERE, "ref_classify.py"), "128", "3", str(a.threads)]))
            for label, cv in c.items():
                if label in p:
                    add("classify %s, batch 128, 28x28" % label, cv, p[label])
        if a.only == "classify":
            continue
        c = run([os.path.join(a.build, "bench", "bench_conv_vae")] + t)
        p = run([py, os.path.join(HERE, "ref_conv_vae.py")] + t)
        m = re.search(r"^vae_step_ms native=([0-9.]+) fast=([0-9.]+)", c, re.M)
        pv = parse_kv(p, "vae_step_ms", "python")
        add("VAE train step, batch 64 (C++ native ConvTranspose2d)", float(m.group(1)), pv)
        add("VAE train step, batch 64 (C++ fast decoder, default on CPU)", float(m.group(2)), pv)

        c = run([os.path.join(a.build, "bench", "bench_mdn")] + t)
        p = run([py, os.path.join(HERE, "ref_mdn.py")] + t)
        add("MDN train step, batch 256, 3x1024, K=100 per dim",
            parse_kv(c, "mdn_step_ms", "cpp"), parse_kv(p, "mdn_step_ms", "python"))
        add("MDN sampling, 1 input -> 10 samples",
            parse_kv(c, "mdn_sample10_ms", "cpp"), parse_kv(p, "mdn_sample10_ms", "python"))
        c = run([os.path.join(a.build, "bench", "bench_mdn"), "--stage", "1"] + t)
        p = run([py, os.path.join(HERE, "ref_mdn.py"), "--stage", "1"] + t)
        add("MDN stage step of full.yaml (encoder fine-tuned, contrastive over 256), batch 64",
            parse_kv(c, "mdn_stage_step_ms", "cpp"), parse_kv(p, "mdn_stage_step_ms", "python"))

        q = ["--quick"] if a.quick else []
        c = parse_labels(run([os.path.join(a.build, "bench", "bench_sketch_rnn")] + q + t))
        env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
        p = parse_labels(subprocess.run([py, os.path.join(HERE, "ref_sketch_rnn.py")] + q, check=True,
                                        capture_output=True, text=True, env=env).stdout)
        for label, cv in c.items():
            if label in p:
                kind = "sampling" if label.startswith("sample") else "train step"
                add("Sketch-RNN %s %s" % (kind, label), cv, p[label])

    print("| benchmark | C++ ms | Python ms | Python / C++ |")
    print("|---|---|---|---|")
    for name, (cpp, python) in rows.items():
        cm, pm = statistics.median(cpp), statistics.median(python)
        print("| %s | %.2f | %.2f | **%.2fx** |" % (name, cm, pm, pm / cm))
    print("\n(median over %d interleaved rounds of each side's per-run median; %d threads)" % (a.rounds, a.threads))


if __name__ == "__main__":
    main()
