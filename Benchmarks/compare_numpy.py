"""Compares FastSwift's SGEMM with numpy's float32 matmul (OpenBLAS) on this machine.

Both run in this session with the same sizes and thread counts, timed the same way (one
warm-up, then repeated for at least --min-seconds, fastest run kept). Prints GFLOPS and the
ratio FastSwift / numpy. Run from the repository root:

    python3 Benchmarks/compare_numpy.py [--threads 1 2] [--min-seconds 0.5]

OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, which some machines here set for old OpenBLAS builds,
slow a current numpy down; they are removed for the numpy runs only.
"""
import argparse
import json
import os
import subprocess
import sys

from timing import fastswift_suite

SIZES = [256, 512, 1024, 2048]

NUMPY_SNIPPET = r"""
import json, sys, time
import numpy as np
n, min_seconds = int(sys.argv[1]), float(sys.argv[2])
rng = np.random.default_rng(0)
a = rng.standard_normal((n, n), dtype=np.float32)
b = rng.standard_normal((n, n), dtype=np.float32)
c = np.empty((n, n), dtype=np.float32)
np.matmul(a, b, out=c)
best, total, runs = float("inf"), 0.0, 0
while runs < 3 or total < min_seconds:
    t0 = time.perf_counter(); np.matmul(a, b, out=c); dt = time.perf_counter() - t0
    best = min(best, dt); total += dt; runs += 1
print(json.dumps({"seconds": best, "gflops": 2 * n**3 / best / 1e9}))
"""


def numpy_gflops(n, threads, min_seconds):
    env = dict(os.environ)
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(key, None)
    for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[key] = str(threads)
    out = subprocess.run([sys.executable, "-c", NUMPY_SNIPPET, str(n), str(min_seconds)],
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out)["gflops"]


def fastswift_gflops(threads, min_seconds):
    return {row["case"]: row["gflops"] for row in fastswift_suite("gemm", threads, min_seconds)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, nargs="+", default=[1, os.cpu_count() or 1])
    parser.add_argument("--min-seconds", type=float, default=0.5)
    args = parser.parse_args()
    print(f"{'size':>6} {'threads':>7} {'FastSwift':>10} {'numpy':>10} {'ratio':>6}")
    for threads in sorted(set(args.threads)):
        ours = fastswift_gflops(threads, args.min_seconds)
        for n in SIZES:
            theirs = numpy_gflops(n, threads, args.min_seconds)
            mine = ours[f"{n}x{n}x{n}"]
            print(f"{n:>6} {threads:>7} {mine:>10.1f} {theirs:>10.1f} {mine / theirs:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
