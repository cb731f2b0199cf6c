#!/usr/bin/env python3
"""Latency of `k2k serve`: median POST /api/read over real held-out Kuzushiji images, and the page
load (GET / and its two files). Starts the server itself, one request at a time.

  python3 bench/bench_serve.py --run runs/full [--k2k build/k2k] [--images DIR] [--samples 8]
         [--stroke-pool P]
         [--requests 50] [--threads 2]

--images: PNGs to send (default: 20 test-split images written by `k2k data samples` for the run's
config). Prints one line per figure and a JSON summary line (docs/BENCHMARKS.md)."""
import argparse
import glob
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time


def start_server(k2k, run, samples, threads, stroke_pool):
    env = dict(os.environ, K2K_THREADS=str(threads))
    pool = ["--stroke-pool", str(stroke_pool)] if stroke_pool >= 0 else []
    proc = subprocess.Popen([k2k, "serve", "--run", run, "--port", "0", "--samples", str(samples)] + pool,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    t0 = time.time()
    for line in proc.stdout:
        m = re.search(r"listening on http://[^:]+:(\d+)/", line)
        if m:
            return proc, int(m.group(1)), time.time() - t0
    proc.wait()
    sys.exit("bench_serve: k2k serve exited before listening (exit %s)" % proc.returncode)


def timed(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    t0 = time.perf_counter()
    conn.request(method, path, body=body, headers={"Content-Type": "application/octet-stream"})
    res = conn.getresponse()
    data = res.read()
    dt = time.perf_counter() - t0
    conn.close()
    if res.status != 200:
        sys.exit("bench_serve: %s %s -> HTTP %d %s" % (method, path, res.status, data[:200]))
    return dt, data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--k2k", default="build/k2k")
    ap.add_argument("--images")
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--stroke-pool", type=int, default=-1, help="k2k serve --stroke-pool (default: serve's own)")
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    images = a.images
    tmp = None
    if not images:
        tmp = tempfile.TemporaryDirectory()
        images = tmp.name
        subprocess.run([a.k2k, "data", "samples", "--config", os.path.join(a.run, "config.yaml"), "--split", "test",
                        "--count", "20", "--out", images], check=True, stdout=subprocess.DEVNULL)
    files = sorted(glob.glob(os.path.join(images, "*.png")))
    if not files:
        sys.exit("bench_serve: no .png in " + images)
    bodies = [open(f, "rb").read() for f in files]

    proc, port, startup = start_server(a.k2k, a.run, a.samples, a.threads, a.stroke_pool)
    try:
        page = []
        for _ in range(10):
            total = 0.0
            for path in ("/", "/app.js", "/style.css"):
                total += timed(port, "GET", path)[0]
            page.append(total)
        timed(port, "POST", "/api/read?samples=%d" % a.samples, bodies[0])  # warm-up
        lat = []
        seconds = []
        for k in range(a.requests):
            dt, data = timed(port, "POST", "/api/read?samples=%d&seed=%d" % (a.samples, k), bodies[k % len(bodies)])
            lat.append(dt)
            seconds.append(json.loads(data)["seconds"])
    finally:
        proc.terminate()
        proc.wait()
    lat_ms = sorted(x * 1000 for x in lat)
    summary = {
        "run": a.run, "samples": a.samples, "stroke_pool": a.stroke_pool, "requests": a.requests, "images": len(files), "threads": a.threads,
        "startup_s": round(startup, 2),
        "read_median_ms": round(statistics.median(lat_ms), 1),
        "read_p90_ms": round(lat_ms[int(0.9 * (len(lat_ms) - 1))], 1),
        "read_min_ms": round(lat_ms[0], 1),
        "engine_median_ms": round(1000 * statistics.median(seconds), 1),
        "page_median_ms": round(1000 * statistics.median(page), 2),
    }
    print("startup (models loaded, listening): %.2f s" % startup)
    print("POST /api/read, %d samples: median %.1f ms, p90 %.1f ms, min %.1f ms (server-side median %.1f ms) over %d requests"
          % (a.samples, summary["read_median_ms"], summary["read_p90_ms"], summary["read_min_ms"],
             summary["engine_median_ms"], a.requests))
    print("page (/, /app.js, /style.css): median %.2f ms over 10 loads" % summary["page_median_ms"])
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
