"""Reference outputs of torchvision's ResNet-18, -34 and -50 for Tests/VisionTests/Fixtures/
torchvision_resnets.json (run once; the JSON is committed).

Each model's state dict is filled by a deterministic generator that the Swift test reproduces
exactly (no 100 MB weight files in the repository): for a tensor named `name`, element `i` is
c = ((splitmix64(fnv1a64(name) + i) >> 41) - 2^22) / 2^22, in [-1, 1), then scaled by kind (see
`value`). The JSON holds torchvision's own state-dict keys and shapes (so the test writes
exactly what torchvision would), the input (from the same generator, named "input"), and
PyTorch's outputs in eval mode: the logits and the body's features (every 4th value).

    ../ref-venv/bin/python Tests/Fixtures/make_torchvision_reference.py
"""
import json, math, os
import numpy as np
import torch, torchvision

M = np.uint64(0xFFFFFFFFFFFFFFFF)


def fnv1a(name):
    h = 0xCBF29CE484222325
    for b in name.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def uniform(name, count):
    with np.errstate(over="ignore"):
        x = np.uint64(fnv1a(name)) + np.arange(count, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = x
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(41)).astype(np.float64) - 2.0 ** 22) / 2.0 ** 22


def value(name, shape):
    c = uniform(name, int(np.prod(shape)) if shape else 1)
    if name.endswith("running_var"):
        v = 1 + 0.25 * (c + 1)
    elif name.endswith("running_mean"):
        v = 0.1 * c
    elif name == "fc.bias":
        v = 0.01 * c
    elif len(shape) == 1 and name.endswith("weight"):
        v = 1 + 0.1 * c
    elif len(shape) == 1:
        v = 0.1 * c
    else:
        fan_in = int(np.prod(shape[1:]))
        v = c * math.sqrt(3.0 / fan_in)
    return v.astype(np.float32).reshape(shape)


def main():
    reference = {"generator": "c = ((splitmix64(fnv1a64(name) + i) >> 41) - 2^22) / 2^22", "models": {}}
    x = torch.from_numpy(uniform("input", 2 * 3 * 64 * 64).astype(np.float32).reshape(2, 3, 64, 64))
    for arch in ["resnet18", "resnet34", "resnet50"]:
        model = getattr(torchvision.models, arch)(weights=None).eval()
        state = model.state_dict()
        filled = {k: (torch.from_numpy(value(k, list(t.shape))) if t.is_floating_point() else t) for k, t in state.items()}
        model.load_state_dict(filled)
        with torch.no_grad():
            logits = model(x)
            body = torch.nn.Sequential(*list(model.children())[:-2])(x)
        reference["models"][arch] = {
            "keys": [[k, list(t.shape), str(t.dtype).replace("torch.", "")] for k, t in state.items()],
            "logits": [float(f"{v:.7g}") for v in logits.flatten().tolist()],
            "features_shape": list(body.shape),
            "features_every_4th": [float(f"{v:.7g}") for v in body.flatten()[::4].tolist()],
        }
        print(arch, "logits", logits.shape, "range", float(logits.abs().max()), "features", tuple(body.shape))
    path = os.path.join(os.path.dirname(__file__), "..", "VisionTests", "Fixtures", "torchvision_resnets.json")
    json.dump(reference, open(path, "w"))
    print("written", os.path.abspath(path), os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
