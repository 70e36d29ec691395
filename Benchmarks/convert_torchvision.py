"""Converts torchvision's ImageNet weights (a `.pth` state dict, as torchvision downloads them to
~/.cache/torch/hub/checkpoints/, e.g. resnet34-b627a593.pth) to a safetensors file FastSwift's
`visionLearner(dls, arch: .resnet34, pretrained: URL(fileURLWithPath: "resnet34.safetensors"), ...)`
loads key for key. Tensors are written as float32; batch norms' `num_batches_tracked` counters,
which FastSwift does not use, are left out.

    ../ref-venv/bin/python Benchmarks/convert_torchvision.py resnet34-b627a593.pth resnet34.safetensors
    ../ref-venv/bin/python Benchmarks/convert_torchvision.py --arch resnet18 --random out.safetensors   # untrained, for trying things
"""
import argparse
import torch
from safetensors.torch import save_file

parser = argparse.ArgumentParser()
parser.add_argument("source", nargs="?", help="a torchvision .pth state dict")
parser.add_argument("target", help="the safetensors file to write")
parser.add_argument("--arch", help="with --random: resnet18, resnet34 or resnet50")
parser.add_argument("--random", action="store_true", help="a randomly initialised torchvision model instead of a .pth")
args = parser.parse_args()
if args.random:
    import torchvision
    state = getattr(torchvision.models, args.arch)(weights=None).state_dict()
else:
    state = torch.load(args.source, map_location="cpu", weights_only=True)
    state = state.get("state_dict", state)
tensors = {k: v.detach().float().contiguous() for k, v in state.items() if not k.endswith("num_batches_tracked")}
save_file(tensors, args.target, metadata={"source": "torchvision", "arch": args.arch or ""})
print(f"{len(tensors)} tensors written to {args.target}")
