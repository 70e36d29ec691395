"""Writes Tests/TensorsTests/TorchReference.swift: inputs and PyTorch's outputs for every
Tensor op, so that the Swift tests check FastSwift against PyTorch without Python at test time.

Run it with PyTorch installed (outside the repo, e.g. ../ref-venv/bin/python):
    python Tests/Fixtures/make_torch_reference.py
"""
import math
import os

import numpy as np
import torch

rng = np.random.default_rng(1234)


def t(*shape, low=-3.0, high=3.0):
    return torch.tensor(rng.uniform(low, high, size=shape).astype(np.float32))


def enc(x):
    x = torch.as_tensor(x, dtype=torch.float32)
    def f(v):
        if math.isnan(v): return "nan"
        if math.isinf(v): return "inf" if v > 0 else "-inf"
        return repr(float(np.float32(v)))
    values = " ".join(f(v) for v in x.reshape(-1).tolist())
    return ",".join(str(s) for s in x.shape) + "|" + values


special = torch.tensor([0.0, -0.0, 1e-8, 1e-30, 87.0, 89.0, -100.0, 1e-3, 5.0, -5.0, float("inf"), float("-inf"), float("nan")])
pos = t(40, low=0.01, high=30.0)
A, B = t(3, 4), t(4)
C = t(2, 3, 4)
M = torch.tensor([[1.0, 5, 3], [4, 2, 6]])
bools = (t(3, 4) > 0).float()

# name, inputs, function (the Swift test has a function of the same name)
cases = [
    ("add", [A, B], lambda a, b: a + b),
    ("add_col", [A, t(3, 1)], lambda a, b: a + b),
    ("add_3d", [C, t(3, 1)], lambda a, b: a + b),
    ("sub", [A, t(1, 4)], lambda a, b: a - b),
    ("rsub_scalar", [A], lambda a: 1 - a),
    ("mul", [C, t(2, 1, 4)], lambda a, b: a * b),
    ("div", [A, t(4, low=0.5, high=2)], lambda a, b: a / b),
    ("rdiv_scalar", [pos], lambda a: 2 / a),
    ("neg", [A], lambda a: -a),
    ("pow_scalar", [pos], lambda a: a ** 1.7),
    ("pow_int", [A], lambda a: a ** 3),
    ("pow_tensor", [pos, t(40, low=-2, high=2)], lambda a, b: a ** b),
    ("exp", [t(50, low=-20, high=20)], torch.exp),
    ("exp_special", [special], torch.exp),
    ("log", [pos], torch.log),
    ("log_special", [special], torch.log),
    ("sqrt", [pos], torch.sqrt),
    ("abs", [A], torch.abs),
    ("sigmoid", [t(50, low=-20, high=20)], torch.sigmoid),
    ("sigmoid_special", [special], torch.sigmoid),
    ("relu", [A], torch.relu),
    ("tanh", [t(50, low=-5, high=5)], torch.tanh),
    ("tanh_special", [special], torch.tanh),
    ("clamp", [A], lambda a: a.clamp(-1, 0.5)),
    ("maximum", [A, B], torch.maximum),
    ("minimum", [A, t(3, 1)], torch.minimum),
    ("eq", [M, torch.tensor([1.0, 2, 3])], lambda a, b: (a == b).float()),
    ("lt", [A, B], lambda a, b: (a < b).float()),
    ("ge_scalar", [A], lambda a: (a >= 0.5).float()),
    ("where", [bools, A, B], lambda c, a, b: torch.where(c.bool(), a, b)),
    ("mnist_loss", [torch.tensor([0.9, 0.4, 0.2, 0.7]), torch.tensor([1.0, 0, 1, 0])],
     lambda p, y: torch.where(y == 1, 1 - p, p).mean()),
    ("sum", [C], lambda a: a.sum()),
    ("sum_dim1", [C], lambda a: a.sum(1)),
    ("sum_keepdim", [C], lambda a: a.sum(-1, keepdim=True)),
    ("mean_dim0", [C], lambda a: a.mean(0)),
    ("max_dim2", [C], lambda a: a.max(2).values),
    ("min_all", [C], lambda a: a.min()),
    ("argmax_dim1", [C], lambda a: a.argmax(1).float()),
    ("argmin_all", [C], lambda a: a.argmin().float()),
    ("var_all", [C], lambda a: a.var()),
    ("var_dim1", [C], lambda a: a.var(1)),
    ("std_dim2_keep", [C], lambda a: a.std(2, keepdim=True)),
    ("std_biased", [C], lambda a: a.std(unbiased=False)),
    ("matmul_mm", [t(5, 7), t(7, 3)], torch.matmul),
    ("matmul_mv", [t(5, 7), t(7)], torch.matmul),
    ("matmul_vm", [t(7), t(7, 3)], torch.matmul),
    ("matmul_vv", [t(7), t(7)], torch.matmul),
    ("matmul_batched", [t(2, 3, 4, 5), t(3, 5, 2)], torch.matmul),
    ("matmul_batch_vec", [t(2, 4, 5), t(5)], torch.matmul),
    ("reshape", [C], lambda a: a.reshape(-1, 6)),
    ("flatten1", [C], lambda a: a.flatten(1)),
    ("squeeze", [t(1, 3, 1)], lambda a: a.squeeze()),
    ("unsqueeze", [B], lambda a: a.unsqueeze(1)),
    ("transpose", [C], lambda a: a.transpose(0, 2)),
    ("T", [A], lambda a: a.T),
    ("permute", [C], lambda a: a.permute(1, 2, 0)),
    ("expand", [t(3, 1)], lambda a: a.expand(2, 3, 4)),
    ("cat0", [A, t(2, 4)], lambda a, b: torch.cat([a, b])),
    ("cat1", [A, t(3, 2)], lambda a, b: torch.cat([a, b], 1)),
    ("stack1", [A, A * 2], lambda a, b: torch.stack([a, b], 1)),
    ("split_second", [t(7, 2)], lambda a: a.split(3)[1]),
    ("chunk_last", [t(2, 7)], lambda a: a.chunk(3, 1)[-1]),
    ("index_int", [C], lambda a: a[1]),
    ("index_neg", [C], lambda a: a[-1, 2]),
    ("index_range", [C], lambda a: a[0:1]),
    ("index_column", [A], lambda a: a[:, 2]),
    ("index_columns", [A], lambda a: a[:, 1:3]),
    ("index_list", [A], lambda a: a[torch.tensor([2, 0, 2])]),
    ("index_mask", [A], lambda a: a[a > 0]),
    ("arange", [], lambda: torch.arange(0, 2, 0.3)),
    ("linspace", [], lambda: torch.linspace(-1, 2, 7)),
    ("eye", [], lambda: torch.eye(3, 4)),
]

prints = [
    ("[[1, 2], [3, 4]]", torch.tensor([[1.0, 2], [3, 4]])),
    ("[0.7893, 1.0]", torch.tensor([0.7893, 1.0])),
    ("[-0.5, 0.25, 3]", torch.tensor([-0.5, 0.25, 3])),
    ("scalar 3.5", torch.tensor(3.5)),
    ("scalar 2", torch.tensor(2.0)),
    ("tiny", torch.tensor([1e-5, 1.0, 1000.0])),
    ("huge ints", torch.tensor([1.0, 1e9])),
    ("special", torch.tensor([0.0, float("nan"), float("inf"), -1.5])),
    ("arange 30", torch.arange(30.0)),
    ("arange 2000", torch.arange(2000.0).reshape(2, 1000)),
    ("randn 3x4", t(3, 4)),
    ("3d", torch.arange(12.0).reshape(2, 3, 2) / 7),
    ("big 3d", torch.arange(3000.0).reshape(10, 10, 30) / 3),
    ("zeros", torch.zeros(2, 2)),
    ("empty", torch.zeros(0)),
    ("long row", torch.linspace(0, 1, 40)),
]

out = []
out.append("// Generated by Tests/Fixtures/make_torch_reference.py with PyTorch %s. Do not edit." % torch.__version__)
out.append("// Each case: an op name, its inputs and PyTorch's output, as \"shape|values\".")
out.append("")
out.append("let torchCases: [(op: String, inputs: [String], output: String)] = [")
for name, inputs, fn in cases:
    result = fn(*inputs)
    ins = ", ".join('"%s"' % enc(i) for i in inputs)
    out.append('    ("%s", [%s], "%s"),' % (name, ins, enc(result)))
out.append("]")
out.append("")
out.append("let torchPrints: [(name: String, tensor: String, printed: String)] = [")
for name, x in prints:
    printed = str(x).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    out.append('    ("%s", "%s", "%s"),' % (name, enc(x), printed))
out.append("]")
path = os.path.join(os.path.dirname(__file__), "..", "TensorsTests", "TorchReference.swift")
with open(path, "w") as f:
    f.write("\n".join(out) + "\n")
print("wrote", os.path.normpath(path), len(cases), "cases,", len(prints), "prints")
