#!/usr/bin/env python3
"""Writes Tests/LayersTests/Fixtures/unet_reference.safetensors: fastai's own `DynamicUnet` over a
small convolutional encoder, with deterministic random weights and batch-norm statistics, its
eval-mode output for a fixed input of an odd size, and the gradient of `(output * w).sum()` with
respect to the input and to every parameter (training mode). `UnetTests` builds the same U-Net
in FastSwift, loads these weights in order and compares.

    ../ref-venv/bin/python Tests/Fixtures/make_unet_reference.py
"""
import os

import torch
from fastai.vision.all import DynamicUnet, nn
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "LayersTests", "Fixtures", "unet_reference.safetensors")


def main():
    torch.manual_seed(0)
    encoder = nn.Sequential(
        nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1))
    model = DynamicUnet(encoder, 3, (16, 16))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn_like(p) * 0.2)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn_like(m.running_mean) * 0.1)
                m.running_var.copy_(torch.rand_like(m.running_var) + 0.5)
    tensors = {}
    for i, p in enumerate(model.parameters()):
        tensors[f"param.{i:03d}"] = p.detach().clone()
    stats = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for i, m in enumerate(stats):
        tensors[f"running_mean.{i:02d}"] = m.running_mean.clone()
        tensors[f"running_var.{i:02d}"] = m.running_var.clone()
    x = torch.randn(2, 1, 15, 17)
    model.eval()
    with torch.no_grad():
        tensors["input"] = x
        tensors["eval_output"] = model(x).clone()
    model.train()
    xg = x.clone().requires_grad_(True)
    out = model(xg)
    w = torch.linspace(-1, 1, out.numel()).reshape(out.shape)
    (out * w).sum().backward()
    tensors["train_output"] = out.detach().clone()
    tensors["input_grad"] = xg.grad.clone()
    for i, p in enumerate(model.parameters()):
        tensors[f"grad.{i:03d}"] = p.grad.clone()
    save_file({k: v.contiguous() for k, v in tensors.items()}, OUT)
    print(f"{len(list(model.parameters()))} parameters, {len(stats)} batch norms: {OUT}")


if __name__ == "__main__":
    main()
