"""fastai's tabular processing and models on small fixed inputs, for Tests/TabularTests (run once;
the CSV and the JSON are committed):

- Tests/TabularTests/Fixtures/procs_table.csv: a table with text, integer, boolean and float
  columns, missing values in several, and a text target;
- tabular_reference.json: what fastai 2's TabularPandas with [Categorify, FillMissing, Normalize]
  makes of it (each column's classes, the fill values, the means and standard deviations, the
  processed training and validation rows), `cont_cat_split`, `add_datepart` on a few dates,
  `emb_sz_rule`, TabularModel's outputs with deterministic weights (the generator of
  make_torchvision_reference.py, which TestSupport's DeterministicWeights reproduces), and an
  embedding's gradient.

    ../ref-venv/bin/python Tests/Fixtures/make_tabular_reference.py
"""
import json, os
import numpy as np
import pandas as pd
import torch
from fastai.tabular.all import (Categorify, FillMissing, Normalize, TabularPandas, IndexSplitter, cont_cat_split,
                                add_datepart, emb_sz_rule, TabularModel, get_emb_sz)
from make_torchvision_reference import value

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "TabularTests", "Fixtures")
os.makedirs(out, exist_ok=True)

rows = [
    # city, rooms, garden, area, age, price, label
    ("Lyon", 3, "True", 72.5, 12, 210.0, "mid"),
    ("Paris", 2, "False", 48.0, "", 380.5, "high"),
    ("Nice", 4, "True", "", 30, 250.0, "mid"),
    ("", 1, "False", 25.5, 5, 190.0, "low"),
    ("Lyon", 5, "True", 120.0, 45, "", "high"),
    ("Paris", 3, "", 66.0, 8, 510.0, "high"),
    ("Lille", 2, "False", 51.5, 60, 140.0, "low"),
    ("Nice", 3, "True", 80.0, 22, 320.0, "mid"),
    ("Lyon", 2, "False", 45.0, "", 160.0, "low"),
    ("Paris", 4, "True", 95.5, 15, 720.0, "high"),
    ("Brest", 3, "False", 70.0, 35, 150.0, "low"),
    ("Lille", 4, "True", "", 50, 230.0, "mid"),
]
lines = ["city,rooms,garden,area,age,price,label"] + [",".join(str(v) for v in r) for r in rows]
csv_path = os.path.join(out, "procs_table.csv")
with open(csv_path, "w") as f:
    f.write("\n".join(lines) + "\n")

df = pd.read_csv(csv_path)
valid_idx = [1, 5, 10]
cat_names, cont_names = ["city", "rooms", "garden"], ["area", "age", "price"]
# reduce_memory=False: otherwise fastai first turns every text column into a pandas categorical of the
# whole table's values, and Categorify's vocab then holds values only the validation rows have;
# FastSwift, as fastai without that step, learns each vocab from the training rows only.
to = TabularPandas(df, procs=[Categorify, FillMissing, Normalize], cat_names=cat_names, cont_names=cont_names, y_names="label",
                   splits=IndexSplitter(valid_idx)(range(len(df))), reduce_memory=False)
procs = to.procs
categorify = [p for p in procs if isinstance(p, Categorify)][0]
fill = [p for p in procs if isinstance(p, FillMissing)][0]
norm = [p for p in procs if isinstance(p, Normalize)][0]

reference = {
    "valid_idx": valid_idx,
    "cat_names": list(to.cat_names), "cont_names": list(to.cont_names),
    "classes": {k: [str(x) for x in v] for k, v in categorify.classes.items()},
    "fill_values": {k: float(v) for k, v in fill.na_dict.items()},
    "means": {k: float(v) for k, v in norm.means.items()},
    "stds": {k: float(v) for k, v in norm.stds.items()},
    "target_classes": [str(x) for x in to.vocab] if hasattr(to, "vocab") else [],
    "train_cats": to.train.cats.values.tolist(), "train_conts": to.train.conts.values.tolist(),
    "valid_cats": to.valid.cats.values.tolist(), "valid_conts": to.valid.conts.values.tolist(),
    "train_y": to.train.ys.values.reshape(-1).tolist(), "valid_y": to.valid.ys.values.reshape(-1).tolist(),
}

cont, cat = cont_cat_split(df, max_card=4, dep_var="label")
reference["cont_cat_split"] = {"cont": cont, "cat": cat}

dates = pd.DataFrame({"saledate": ["2024-02-29", "2023-12-31", "2021-01-04", "2020-03-31", "2022-07-01"]})
parts = add_datepart(dates.copy(), "saledate")
reference["date_parts"] = {c: [(bool(x) if isinstance(x, (bool, np.bool_)) else float(x)) for x in parts[c]] for c in parts.columns}

reference["emb_sz_rule"] = {str(n): emb_sz_rule(n) for n in [2, 3, 4, 7, 10, 31, 100, 1000, 10000, 100000, 1000000]}

# TabularModel with deterministic weights, in eval mode.
torch.manual_seed(0)
emb_szs = [(5, 3), (6, 4), (3, 2)]
models = {}
for name, y_range, n_out in [("classifier", None, 3), ("regressor", (0.0, 5.0), 1)]:
    model = TabularModel(emb_szs, n_cont=3, out_sz=n_out, layers=[8, 6], y_range=y_range)
    state = {k: torch.tensor(value(k, tuple(v.shape)), dtype=v.dtype).reshape(v.shape) if v.dtype.is_floating_point else v
             for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    model.eval()
    x_cat = torch.tensor([[0, 1, 2], [4, 5, 0], [2, 3, 1], [1, 0, 2]])
    x_cont = torch.tensor(value("x_cont", (4, 3)), dtype=torch.float32).reshape(4, 3)
    with torch.no_grad():
        y = model(x_cat, x_cont)
    models[name] = {
        "y_range": list(y_range) if y_range else None, "outputs": n_out,
        "keys": {k: list(v.shape) for k, v in model.state_dict().items() if v.dtype.is_floating_point},
        "x_cat": x_cat.tolist(), "x_cont": x_cont.tolist(), "y": y.reshape(-1).tolist(),
    }
reference["models"] = models
reference["emb_szs"] = [list(e) for e in emb_szs]

# An embedding's gradient: indices with repeats, loss = sum(emb(idx) * w).
emb = torch.nn.Embedding(6, 4)
emb.weight.data = torch.tensor(value("embedding.weight", (6, 4)), dtype=torch.float32).reshape(6, 4)
idx = torch.tensor([3, 1, 3, 0, 5, 3])
w = torch.tensor(value("embedding.w", (6, 4)), dtype=torch.float32).reshape(6, 4)
(emb(idx) * w).sum().backward()
reference["embedding_gradient"] = {"indices": idx.tolist(), "grad": emb.weight.grad.reshape(-1).tolist()}

with open(os.path.join(out, "tabular_reference.json"), "w") as f:
    json.dump(reference, f, indent=1)
print("wrote", out)
