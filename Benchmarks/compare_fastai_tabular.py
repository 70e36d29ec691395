"""fastai's tabular_learner on a CSV table, for comparison with FastSwift's `tabular` recipe on the
same file, columns, validation rows, epochs, batch size and threads:

    ../ref-venv/bin/python Benchmarks/compare_fastai_tabular.py FILE.csv --y NAME --cat A,B --cont C,D \
        [--valid-col is_valid] [--epochs 5] [--lr 1e-2] [--bs 64] [--threads 2]
    swift run -c release tabular --data FILE.csv --y NAME --cat A,B --cont C,D --valid-col is_valid ...

Prints fastai's table, the final metric (accuracy for classes, rmse for values) and the seconds per
epoch (the mean over the epochs after the first).
"""
import argparse
import time

start = time.perf_counter()
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from fastai.tabular.all import (Categorify, FillMissing, Normalize, TabularDataLoaders, accuracy, rmse,  # noqa: E402
                                set_seed, tabular_learner, Callback)


class EpochTimes(Callback):
    def before_fit(self): self.times = []
    def before_epoch(self): self.t = time.perf_counter()
    def after_epoch(self): self.times.append(time.perf_counter() - self.t)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("csv")
    p.add_argument("--y", required=True)
    p.add_argument("--cat", default="")
    p.add_argument("--cont", default="")
    p.add_argument("--valid-col", default=None)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--bs", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    set_seed(a.seed)
    df = pd.read_csv(a.csv, skipinitialspace=True)
    valid_idx = None
    if a.valid_col:
        valid_idx = list(df.index[df[a.valid_col].astype(bool)])
        df = df.drop(columns=[a.valid_col])
    cat = [c for c in a.cat.split(",") if c]
    cont = [c for c in a.cont.split(",") if c]
    dls = TabularDataLoaders.from_df(df, y_names=a.y, cat_names=cat, cont_names=cont, procs=[Categorify, FillMissing, Normalize],
                                     valid_idx=valid_idx, bs=a.bs, num_workers=0)
    is_values = pd.api.types.is_numeric_dtype(df[a.y])
    timer = EpochTimes()
    learn = tabular_learner(dls, layers=[200, 100], metrics=rmse if is_values else accuracy, cbs=[timer])
    learn.fit_one_cycle(a.epochs, a.lr)
    per_epoch = sum(timer.times[1:]) / max(len(timer.times) - 1, 1)
    metric = learn.recorder.values[-1][2]
    print(f"fastai final {'rmse' if is_values else 'accuracy'}: {metric:.4f}; {per_epoch:.3f} s per epoch; "
          f"whole script {time.perf_counter() - start:.1f}s; threads {a.threads}")


if __name__ == "__main__":
    main()
