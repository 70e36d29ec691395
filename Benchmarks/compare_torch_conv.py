"""PyTorch's figures for `benchmarks conv` and `benchmarks resnet18`, measured the same way
(one warm-up, then repeated for at least --min-seconds, fastest run kept), next to FastSwift's.

    ../ref-venv/bin/python Benchmarks/compare_torch_conv.py [--threads 1 2] [--min-seconds 1] [--rounds 3]

With --rounds R the two sides run alternately R times and each keeps its best figure per case:
on a noisy machine a slow phase then hits both sides rather than one.
"""
import argparse
import os

import torch
import torchvision
from torch import nn

from timing import fastswift_suite, measure


def torch_figures(threads, min_seconds):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rows = {}
    for size in (28, 14):
        batch = 64
        x = torch.randn(batch, 64, size, size, requires_grad=True)
        conv = nn.Conv2d(64, 64, 3, padding=1, bias=False)
        flops = 2.0 * batch * 64 * size * size * 64 * 9
        with torch.no_grad():
            fwd = measure(lambda: conv(x), min_seconds)
        rows[f"3x3 64->64 {size}x{size} forward"] = flops / fwd / 1e9
        up = torch.randn(batch, 64, size, size)
        def both():
            conv(x).backward(up)
            conv.weight.grad = None
            x.grad = None
        rows[f"3x3 64->64 {size}x{size} fwd+bwd"] = 3 * flops / measure(both, min_seconds) / 1e9
    for batch in (64, 256):
        model = torchvision.models.resnet18(num_classes=10)
        model.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x = torch.randn(batch, 1, 28, 28)
        y = torch.arange(batch) % 10
        def step():
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            opt.zero_grad()
        rows[f"train {batch}"] = batch / measure(step, min_seconds)
        model.eval()
        with torch.no_grad():
            rows[f"inference {batch}"] = batch / measure(lambda: model(x), min_seconds)
    return rows


def fastswift_figures(threads, min_seconds):
    rows = {}
    for suite in ("conv", "resnet18"):
        for r in fastswift_suite(suite, threads, min_seconds):
            key = r["case"] if suite == "conv" else f"{r['case']} {r['batch']}"
            rows[key] = r.get("gflops", r.get("images_per_s"))
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, nargs="+", default=[os.cpu_count() or 1])
    parser.add_argument("--min-seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    print(f"torch {torch.__version__}; GFLOPS for conv, images/s for resnet18")
    print(f"{'case':<28} {'threads':>7} {'FastSwift':>10} {'PyTorch':>10} {'ratio':>6}")
    for threads in args.threads:
        ours, theirs = {}, {}
        for _ in range(args.rounds):
            for best, figures in ((ours, fastswift_figures), (theirs, torch_figures)):
                for key, value in figures(threads, args.min_seconds).items():
                    best[key] = max(best.get(key, 0.0), value)
        for key, value in theirs.items():
            mine = ours.get(key, float("nan"))
            print(f"{key:<28} {threads:>7} {mine:>10.1f} {value:>10.1f} {mine / value:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
