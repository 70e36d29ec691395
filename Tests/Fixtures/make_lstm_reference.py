#!/usr/bin/env python3
"""Writes Tests/LayersTests/Fixtures/lstm_reference.safetensors: PyTorch's `nn.LSTM` (batch first)
with deterministic weights, its outputs and final states from a non-zero initial state, the output
of a second chunk carried on from those states, and the gradients of `(output * w).sum()` with
respect to the input and every parameter. Two configurations: "a" (2 layers, input 5, hidden 7,
batch 3, 6 steps: hidden sizes below one vector) and "b" (1 layer, input 3, hidden 20, batch 2,
4 steps: a full vector and a tail). `LSTMTests` compares FastSwift's LSTM with them.

    ../ref-venv/bin/python Tests/Fixtures/make_lstm_reference.py
"""
import os

import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "LayersTests", "Fixtures", "lstm_reference.safetensors")


def config(name, inp, hid, layers, batch, steps, out):
    lstm = torch.nn.LSTM(inp, hid, layers, batch_first=True)
    with torch.no_grad():
        for p in lstm.parameters():
            p.copy_(torch.rand_like(p) - 0.5)
    x = torch.randn(batch, steps, inp, requires_grad=True)
    h0 = torch.randn(layers, batch, hid) * 0.5
    c0 = torch.randn(layers, batch, hid) * 0.5
    y, (hn, cn) = lstm(x, (h0, c0))
    w = torch.linspace(-1, 1, y.numel()).reshape(y.shape)
    (y * w).sum().backward()
    x2 = torch.randn(batch, steps, inp)
    with torch.no_grad():
        y2, _ = lstm(x2, (hn, cn))
    out[f"{name}.input"] = x.detach()
    out[f"{name}.h0"] = h0
    out[f"{name}.c0"] = c0
    out[f"{name}.output"] = y.detach()
    out[f"{name}.hn"] = hn.detach()
    out[f"{name}.cn"] = cn.detach()
    out[f"{name}.input_grad"] = x.grad
    out[f"{name}.input2"] = x2
    out[f"{name}.output2"] = y2
    for pname, p in lstm.named_parameters():
        out[f"{name}.{pname}"] = p.detach().clone()
        out[f"{name}.{pname}.grad"] = p.grad


def main():
    torch.manual_seed(0)
    out = {}
    config("a", 5, 7, 2, 3, 6, out)
    config("b", 3, 20, 1, 2, 4, out)
    save_file({k: v.contiguous() for k, v in out.items()}, OUT)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
