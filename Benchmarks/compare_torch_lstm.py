"""PyTorch's `nn.LSTM` at AWD-LSTM's sizes next to `benchmarks lstm`, measured the same way (one
warm-up, then repeated for at least --min-seconds, fastest run kept): three single-layer LSTMs
400->1152, 1152->1152, 1152->400 (as fastai's AWD_LSTM stacks them), batch-first, sequence 72,
batch 64; forward, and forward + backward.

    ../ref-venv/bin/python Benchmarks/compare_torch_lstm.py [--threads 1 2] [--min-seconds 1] [--rounds 3]
"""
import argparse
import os

import torch

from timing import fastswift_suite, measure


def torch_figures(threads, min_seconds):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    batch, steps = 64, 72
    layers = [torch.nn.LSTM(i, o, batch_first=True) for i, o in ((400, 1152), (1152, 1152), (1152, 400))]
    x = torch.randn(batch, steps, 400, requires_grad=True)

    def run():
        out = x
        for layer in layers:
            out, _ = layer(out)
        return out

    rows = {}
    with torch.no_grad():
        rows["3 layers 400-1152-400, 72 steps forward"] = batch / measure(run, min_seconds)
    up = torch.randn(batch, steps, 400)

    def both():
        run().backward(up)
        for layer in layers:
            layer.zero_grad(set_to_none=True)
        x.grad = None

    rows["3 layers 400-1152-400, 72 steps fwd+bwd"] = batch / measure(both, min_seconds)
    return rows


def fastswift_figures(threads, min_seconds):
    return {r["case"]: r["sequences_per_s"] for r in fastswift_suite("lstm", threads, min_seconds)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, nargs="+", default=[os.cpu_count() or 1])
    parser.add_argument("--min-seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    print(f"torch {torch.__version__}; sequences/s")
    print(f"{'case':<42} {'threads':>7} {'FastSwift':>10} {'PyTorch':>10} {'ratio':>6}")
    for threads in args.threads:
        ours, theirs = {}, {}
        for _ in range(args.rounds):
            for best, figures in ((ours, fastswift_figures), (theirs, torch_figures)):
                for key, value in figures(threads, args.min_seconds).items():
                    best[key] = max(best.get(key, 0.0), value)
        for key, value in theirs.items():
            mine = ours.get(key, float("nan"))
            print(f"{key:<42} {threads:>7} {mine:>10.1f} {value:>10.1f} {mine / value:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
