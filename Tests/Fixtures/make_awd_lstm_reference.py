#!/usr/bin/env python3
"""Writes Tests/TextTests/Fixtures/awd_lstm_reference.safetensors: fastai's own AWD-LSTM language
model and text classifier (small sizes: vocabulary 40, embedding 8, hidden 12, 3 layers; 3
classes) with deterministic weights, their state dicts under fastai's key names (`lm.` and `clas.`
in front), and their evaluation-mode outputs: the language model's for two consecutive batches
(the state carried from the first into the second), the classifier's for a batch padded as
fastai's `pad_input_chunk` pads (seq_len 4). `AWDLSTMTests` loads the state dicts key for key
into FastSwift's models and compares.

    ../ref-venv/bin/python Tests/Fixtures/make_awd_lstm_reference.py
"""
import os

import torch
from fastai.text.all import AWD_LSTM, get_language_model, get_text_classifier
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "TextTests", "Fixtures", "awd_lstm_reference.safetensors")
SIZES = dict(emb_sz=8, n_hid=12, n_layers=3)


def fill(model):
    with torch.no_grad():
        for name, p in sorted(model.state_dict().items()):
            p.copy_((torch.rand_like(p.float()) - 0.5) * 0.8)
        # fastai's embedding dropout wraps the same embedding: one tensor, two keys.


def main():
    torch.manual_seed(0)
    out = {}
    lm = get_language_model(AWD_LSTM, 40, config={**__import__("fastai.text.all", fromlist=["x"]).awd_lstm_lm_config, **SIZES})
    fill(lm)
    lm.eval()
    lm.reset()
    x1 = torch.randint(0, 40, (2, 5))
    x2 = torch.randint(0, 40, (2, 5))
    with torch.no_grad():
        y1 = lm(x1)[0]
        y2 = lm(x2)[0]
    for k, v in lm.state_dict().items():
        out["lm." + k] = v.clone()
    out["lm_input1"], out["lm_input2"] = x1.float(), x2.float()
    out["lm_output1"], out["lm_output2"] = y1, y2

    clas = get_text_classifier(AWD_LSTM, 40, 3, seq_len=4, config=SIZES, max_len=8)
    fill(clas)
    for m in clas.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    clas.eval()
    # Longest first; shorter ones padded (xxpad = 1) by whole chunks of 4 in front, the rest at the end.
    docs = [[2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14], [2, 20, 21, 22, 23, 24], [2, 30]]
    width = max(len(d) for d in docs)
    rows = []
    for d in docs:
        pad = width - len(d)
        rows.append([1] * (pad // 4 * 4) + d + [1] * (pad % 4))
    xc = torch.tensor(rows)
    with torch.no_grad():
        yc = clas(xc)[0]
    for k, v in clas.state_dict().items():
        out["clas." + k] = v.clone().float()
    out["clas_input"], out["clas_output"] = xc.float(), yc
    save_file({k: v.contiguous().float() for k, v in out.items()}, OUT)
    print("wrote", OUT)
    print(sorted(k for k in out if k.startswith("lm.")))
    print(sorted(k for k in out if k.startswith("clas.")))


if __name__ == "__main__":
    main()
