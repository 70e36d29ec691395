"""Proves that FastSwift's weight files open in PyTorch: loads a file written by
`swift run -c release mnist --export FILE` with Hugging Face's `safetensors` package, loads it
into fastai's own model for the same data (`create_vision_model(resnet18, n_out=10, n_in=1)`:
PyTorch's names, key for key; files from before FastSwift used them are renamed), and
prints the class probabilities for a uniform 0.5 image, to compare with the probe FastSwift
printed. Then writes the weights back from PyTorch (`FILE.torch.safetensors`) for FastSwift to read.

    ../ref-venv/bin/python Tests/Fixtures/check_safetensors.py FILE
"""
import json
import sys

import torch
from fastai.vision.all import create_vision_model, resnet18
from safetensors import safe_open
from safetensors.torch import load_file, save_file

path = sys.argv[1]
with safe_open(path, framework="pt") as f:
    metadata = f.metadata()
tensors = load_file(path)
print(f"{len(tensors)} tensors, all float32: {all(t.dtype == torch.float32 for t in tensors.values())}; "
      f"metadata: arch={metadata.get('arch')} vocab={json.loads(metadata['vocab'])}")
renamed = {k.replace("runningMean", "running_mean").replace("runningVar", "running_var"): v for k, v in tensors.items()}
model = create_vision_model(resnet18, n_out=10, pretrained=False, n_in=1)
missing, unexpected = model.load_state_dict(renamed, strict=False)
print("missing:", [m for m in missing if not m.endswith("num_batches_tracked")], "unexpected:", unexpected)
model.eval()
with torch.no_grad():
    probe = model(torch.full((1, 1, 28, 28), 0.5)).softmax(-1)[0]
print("PyTorch probe probabilities:", [round(float(p), 4) for p in probe])
save_file(tensors, path + ".torch.safetensors", metadata=metadata)
print("wrote", path + ".torch.safetensors")
