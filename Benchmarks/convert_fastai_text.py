"""Converts a fastai text model's weights (`.pth`, e.g. WT103's `lstm_fwd.pth`, or a `learn.save`d
language model) and its vocabulary (`.pkl`) for FastSwift's `Learner.loadPretrained(weights:vocab:)`:
a safetensors file with the same keys (`0.encoder.weight`, `0.rnns.0.weight_hh_l0_raw`, ...,
`1.decoder.bias`) and a text file with one token per line.

    ../ref-venv/bin/python Benchmarks/convert_fastai_text.py lstm_fwd.pth itos_wt103.pkl OUT_DIR

Old checkpoints holding both `rnns.N.module.weight_hh_l0` and `rnns.N.weight_hh_l0_raw` are
cleaned as fastai's `clean_raw_keys` does.
"""
import os
import pickle
import sys

import torch
from safetensors.torch import save_file


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    weights, vocab, out = sys.argv[1:]
    state = torch.load(weights, map_location="cpu", weights_only=False)
    if "model" in state:
        state = state["model"]
    keys = list(state.keys())
    for key in keys:
        parts = key.split(".")
        if "module" in parts:
            i = len(parts) - 1 - parts[::-1].index("module")
            raw = ".".join(parts[:i] + parts[i + 1:]) + "_raw"
            if raw in state:
                del state[key]
    with open(vocab, "rb") as f:
        itos = pickle.load(f)
    os.makedirs(out, exist_ok=True)
    save_file({k: v.float().contiguous() for k, v in state.items() if not k.endswith("num_batches_tracked")},
              os.path.join(out, "weights.safetensors"))
    with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(itos) + "\n")
    print(f"wrote {out}/weights.safetensors ({len(state)} tensors) and {out}/vocab.txt ({len(itos)} tokens)")


if __name__ == "__main__":
    main()
