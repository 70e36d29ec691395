"""fastai's twin of `swift run -c release multilabel`, on the same bundled digit scenes with the
same threads (chapter 6's multi-label recipe; `pretrained=False`, as FastSwift trains from scratch):

    df = pd.read_csv(path/'labels.csv')
    dblock = DataBlock(blocks=(ImageBlock(cls=PILImageBW), MultiCategoryBlock), splitter=ColSplitter('is_valid'),
                       get_x=ColReader('fname', pref=f'{path}/images/'), get_y=ColReader('labels', label_delim=' '))
    dls = dblock.dataloaders(df, bs=32, num_workers=0)
    learn = vision_learner(dls, resnet18, pretrained=False, n_in=1,
                           metrics=[partial(accuracy_multi, thresh=0.5), F1ScoreMulti()])   # --arch resnet18
    learn.fit_one_cycle(EPOCHS, 1e-2)

or, with `--arch small` (the recipe's default), the same four convolutions and global max pool in
a plain `Learner(dls, model, loss_func=BCEWithLogitsLossFlat())`. Prints fastai's table, the fit
time and the whole script's time. Time the two whole commands in turn, several times each:

    /usr/bin/time -v .build/release/multilabel --arch resnet18 --epochs 2
    /usr/bin/time -v ../ref-venv/bin/python Benchmarks/compare_fastai_multilabel.py --arch resnet18 --epochs 2
"""
import argparse
import os
import time

start = time.perf_counter()
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from fastai.vision.all import (BCEWithLogitsLossFlat, ColReader, ColSplitter, DataBlock,  # noqa: E402
                               F1ScoreMulti, ImageBlock, Learner, MultiCategoryBlock, PILImageBW,
                               accuracy_multi, nn, partial, resnet18, set_seed, vision_learner)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", default=os.path.join(ROOT, "Sources", "Vision", "Resources", "digit_scenes"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--arch", choices=["small", "resnet18"], default="small")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--bs", type=int, default=32)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    set_seed(42)
    df = pd.read_csv(os.path.join(args.path, "labels.csv"))
    dblock = DataBlock(blocks=(ImageBlock(cls=PILImageBW), MultiCategoryBlock), splitter=ColSplitter("is_valid"),
                       get_x=ColReader("fname", pref=os.path.join(args.path, "images") + os.path.sep),
                       get_y=ColReader("labels", label_delim=" "))
    dls = dblock.dataloaders(df, bs=args.bs, num_workers=0)
    metrics = [partial(accuracy_multi, thresh=0.5), F1ScoreMulti()]
    if args.arch == "resnet18":
        learn = vision_learner(dls, resnet18, pretrained=False, n_in=1, metrics=metrics)
    else:
        def conv(i, o, stride=2):
            return [nn.Conv2d(i, o, 3, stride=stride, padding=1), nn.BatchNorm2d(o), nn.ReLU()]
        model = nn.Sequential(*conv(1, 32), *conv(32, 64), *conv(64, 128), *conv(128, 128, stride=1),
                              nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(128, 10))
        learn = Learner(dls, model, loss_func=BCEWithLogitsLossFlat(), metrics=metrics)
    fit_start = time.perf_counter()
    learn.fit_one_cycle(args.epochs, args.lr)
    fit = time.perf_counter() - fit_start
    print(f"fastai fit: {fit:.1f}s; whole script: {time.perf_counter() - start:.1f}s; threads {args.threads}")


if __name__ == "__main__":
    main()
