#!/usr/bin/env python3
"""Writes Tests/TrainingTests/Fixtures/task_metrics.json: fastai's own losses and metrics for the
multi-label, segmentation and regression tasks on fixed inputs (seeded random tensors, listed in
the file), which `TaskMetricTests` recomputes with FastSwift's.

    ../ref-venv/bin/python Tests/Fixtures/make_task_metrics_reference.py
"""
import json
import os

import torch
from fastai.torch_core import to_detach
from fastai.metrics import Dice, F1ScoreMulti, JaccardCoeff, accuracy_multi, foreground_acc, mae, rmse
from fastai.losses import BCEWithLogitsLossFlat, CrossEntropyLossFlat, L1LossFlat, MSELossFlat

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "TrainingTests", "Fixtures", "task_metrics.json")


def whole(metric, preds, targs):
    """An accumulating fastai metric over one batch holding the whole set."""
    metric.reset()

    class Learn:
        pass

    learn = Learn()
    learn.pred, learn.y, learn.to_detach = preds, targs, to_detach
    metric.accumulate(learn)
    return float(metric.value)


def main():
    g = torch.Generator().manual_seed(0)
    out = {}
    # Multi-label: 6 items, 4 labels.
    logits = torch.randn(6, 4, generator=g) * 2
    onehot = (torch.rand(6, 4, generator=g) > 0.6).float()
    out["multi"] = {
        "logits": logits.flatten().tolist(), "shape": [6, 4], "targets": onehot.flatten().tolist(),
        "bce": float(BCEWithLogitsLossFlat()(logits, onehot)),
        "accuracy_multi": float(accuracy_multi(logits, onehot)),
        "accuracy_multi_0.2": float(accuracy_multi(logits, onehot, thresh=0.2)),
        "f1_multi": whole(F1ScoreMulti(), logits, onehot),
        "f1_multi_0.3": whole(F1ScoreMulti(thresh=0.3), logits, onehot),
    }
    # Segmentation: 2 images of 3x5 pixels, 3 codes; and a binary one for Dice and Jaccard.
    scores = torch.randn(2, 3, 3, 5, generator=g)
    masks = torch.randint(0, 3, (2, 3, 5), generator=g)
    binary_scores = torch.randn(2, 2, 3, 5, generator=g)
    binary_masks = torch.randint(0, 2, (2, 3, 5), generator=g)
    out["segmentation"] = {
        "scores": scores.flatten().tolist(), "shape": [2, 3, 3, 5], "masks": masks.flatten().float().tolist(),
        "cross_entropy_axis1": float(CrossEntropyLossFlat(axis=1)(scores, masks)),
        "foreground_acc": float(foreground_acc(scores, masks)),
        "binary_scores": binary_scores.flatten().tolist(), "binary_masks": binary_masks.flatten().float().tolist(),
        "dice": whole(Dice(), binary_scores, binary_masks),
        "jaccard": whole(JaccardCoeff(), binary_scores, binary_masks),
    }
    # Regression and points: 5 items of 2 values.
    preds = torch.randn(5, 2, generator=g)
    targs = torch.randn(5, 2, generator=g)
    out["regression"] = {
        "preds": preds.flatten().tolist(), "targets": targs.flatten().tolist(), "shape": [5, 2],
        "mse": float(MSELossFlat()(preds, targs)), "l1": float(L1LossFlat()(preds, targs)),
        "rmse": float(rmse(preds.flatten(), targs.flatten())), "mae": float(mae(preds.flatten(), targs.flatten())),
    }
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
    print(OUT)


if __name__ == "__main__":
    main()
