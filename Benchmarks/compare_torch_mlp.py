"""PyTorch's time for the same loop as `benchmarks mlp`: one epoch of the MLP 784-128-64-10
(ReLU, LogSoftmax + NLLLoss, SGD momentum 0.9) over 60,000 in-memory images at batch 128,
batches cut beforehand, fastest of repeated epochs. Runs FastSwift's suite too and prints both.

    ../ref-venv/bin/python Benchmarks/compare_torch_mlp.py [--threads 1 2] [--min-seconds 2]
"""
import argparse
import os

import torch
from torch import nn

from timing import fastswift_suite, measure


def torch_epoch_seconds(threads, min_seconds):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    n, bs = 60_000, 128
    images = torch.rand(n, 784)
    labels = torch.randint(0, 10, (n,))
    batches = [(images[i:i + bs], labels[i:i + bs]) for i in range(0, n, bs)]
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10), nn.LogSoftmax(dim=1))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.NLLLoss()

    def epoch():
        for x, y in batches:
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            opt.zero_grad()

    return measure(epoch, min_seconds)


def fastswift_epoch_seconds(threads, min_seconds):
    return fastswift_suite("mlp", threads, min_seconds)[0]["seconds"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, nargs="+", default=[1, os.cpu_count() or 1])
    parser.add_argument("--min-seconds", type=float, default=2.0)
    args = parser.parse_args()
    print(f"torch {torch.__version__}")
    print(f"{'threads':>7} {'FastSwift s/epoch':>18} {'PyTorch s/epoch':>16} {'speed-up':>9}")
    for threads in sorted(set(args.threads)):
        ours = fastswift_epoch_seconds(threads, args.min_seconds)
        theirs = torch_epoch_seconds(threads, args.min_seconds)
        print(f"{threads:>7} {ours:>18.3f} {theirs:>16.3f} {theirs / ours:>8.2f}x", flush=True)


if __name__ == "__main__":
    main()
