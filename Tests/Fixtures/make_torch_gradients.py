"""PyTorch's gradients and optimizer steps for Tests/LayersTests/Fixtures/torch_gradients.json
(run once; committed): convolution (strided, padded, with bias), max and average pooling, batch
norm in training mode (with the running statistics after the step), cross-entropy, and three
steps of SGD (momentum, Nesterov, weight decay) and of AdamW with fastai's hyper-parameters.
Every backward is of `(output * G).sum()` with a fixed random `G`, so every element of the
output's gradient differs.

    ../ref-venv/bin/python Tests/Fixtures/make_torch_gradients.py
"""
import json, os
import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(7)


def t(*shape, low=-1.0, high=1.0, grad=False):
    x = torch.tensor(rng.uniform(low, high, size=shape).astype(np.float32))
    return x.requires_grad_(grad)


def flat(x):
    return {"shape": list(x.shape), "values": [float(v) for v in x.detach().reshape(-1).tolist()]}


cases = {}
x, w, b = t(2, 3, 7, 6, grad=True), t(4, 3, 3, 3, grad=True), t(4, grad=True)
y = F.conv2d(x, w, b, stride=2, padding=1)
g = t(*y.shape)
(y * g).sum().backward()
cases["conv2d"] = {"x": flat(x), "w": flat(w), "b": flat(b), "g": flat(g), "y": flat(y), "dx": flat(x.grad), "dw": flat(w.grad), "db": flat(b.grad)}

for name, fn in [("max_pool2d", lambda v: F.max_pool2d(v, 3, 2, 1)), ("avg_pool2d", lambda v: F.avg_pool2d(v, 2, 2)),
                 ("adaptive_avg_pool2d", lambda v: F.adaptive_avg_pool2d(v, 1))]:
    x = t(2, 3, 7, 7, grad=True)
    y = fn(x)
    g = t(*y.shape)
    (y * g).sum().backward()
    cases[name] = {"x": flat(x), "g": flat(g), "y": flat(y), "dx": flat(x.grad)}

x, w, b = t(4, 3, 5, 5, grad=True), t(3, low=0.5, high=1.5, grad=True), t(3, grad=True)
rm, rv = torch.zeros(3), torch.ones(3)
y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)
g = t(*y.shape)
(y * g).sum().backward()
cases["batch_norm"] = {"x": flat(x), "w": flat(w), "b": flat(b), "g": flat(g), "y": flat(y), "dx": flat(x.grad), "dw": flat(w.grad),
                       "db": flat(b.grad), "running_mean": flat(rm), "running_var": flat(rv)}

logits, targets = t(5, 4, low=-3, high=3, grad=True), torch.tensor([0, 3, 1, 1, 2])
loss = F.cross_entropy(logits, targets)
loss.backward()
cases["cross_entropy"] = {"logits": flat(logits), "targets": targets.tolist(), "loss": float(loss.detach()), "dlogits": flat(logits.grad)}

start, grads = t(6), [t(6) for _ in range(3)]
for name, make in [("sgd", lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
                   ("adamw", lambda p: torch.optim.AdamW([p], lr=0.01, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01))]:
    p = start.clone().requires_grad_(True)
    opt = make(p)
    for gr in grads:
        p.grad = gr.clone()
        opt.step()
    cases[name] = {"start": flat(start), "grads": [flat(gr) for gr in grads], "final": flat(p)}

path = os.path.join(os.path.dirname(__file__), "..", "LayersTests", "Fixtures", "torch_gradients.json")
json.dump(cases, open(path, "w"))
print("written", os.path.abspath(path), os.path.getsize(path), "bytes")
