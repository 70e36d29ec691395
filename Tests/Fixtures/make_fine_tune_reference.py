"""fastai's fine_tune schedule, recorded for Tests/TrainingTests/Fixtures/fine_tune_schedule.json
(run once; committed): the learning rate of each parameter group and the momentum at every
optimizer step, and which groups train in each phase, for a model of three groups (two with a
batch norm) and 6 training batches an epoch, `learn.fine_tune(2, base_lr=1e-2)`.

    ../ref-venv/bin/python Tests/Fixtures/make_fine_tune_reference.py
"""
import json, os
import torch
from torch import nn
from torch.utils.data import TensorDataset
from fastai.data.core import DataLoaders
from fastai.learner import Learner
from fastai.callback.core import Callback
from fastai.losses import CrossEntropyLossFlat
from fastai.torch_core import params
import fastai.callback.schedule  # noqa: F401 (fit_one_cycle, fine_tune)

torch.manual_seed(0)
x = torch.randn(60, 3, 8, 8)
y = torch.randint(0, 2, (60,))
dls = DataLoaders.from_dsets(TensorDataset(x[:48], y[:48]), TensorDataset(x[48:], y[48:]), bs=8)
model = nn.Sequential(nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU()),
                      nn.Sequential(nn.Conv2d(4, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()),
                      nn.Linear(4, 2))


class Record(Callback):
    def __init__(self): self.steps, self.phases = [], []
    def before_fit(self):
        groups = self.learn.opt.param_lists
        self.phases.append([[bool(p.requires_grad) for p in g] for g in groups])
    def before_step(self):
        self.steps.append({"lrs": [h["lr"] for h in self.learn.opt.hypers], "mom": self.learn.opt.hypers[-1]["mom"]})


record = Record()
learn = Learner(dls, model, loss_func=CrossEntropyLossFlat(), splitter=lambda m: [params(m[0]), params(m[1]), params(m[2])], cbs=[record])
with learn.no_logging(), learn.no_bar():
    learn.fine_tune(2, base_lr=1e-2)
out = {"batches_per_epoch": len(dls.train), "freeze_epochs": 1, "epochs": 2, "base_lr": 1e-2,
       "parameter_kinds": [["conv.weight", "conv.bias", "bn.weight", "bn.bias"], ["conv.weight", "conv.bias", "bn.weight", "bn.bias"], ["linear.weight", "linear.bias"]],
       "trainable_by_phase": record.phases, "steps": record.steps}
path = os.path.join(os.path.dirname(__file__), "..", "TrainingTests", "Fixtures", "fine_tune_schedule.json")
json.dump(out, open(path, "w"), indent=1)
print(len(record.steps), "steps;", "phases", record.phases)
