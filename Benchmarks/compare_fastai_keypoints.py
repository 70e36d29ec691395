"""fastai's twin of `swift run -c release keypoints`, on the same bundled digit scenes with the same
threads (chapter 6's BIWI recipe; `pretrained=False`, one channel as FastSwift loads these
grayscale scenes): the scenes showing one digit, its centre the point.

    df = df[df.centres.str.split().str.len() == 2]
    dblock = DataBlock(blocks=(ImageBlock(cls=PILImageBW), PointBlock), splitter=ColSplitter('is_valid'),
                       get_x=ColReader('fname', pref=f'{path}/images/'), get_y=centre,
                       batch_tfms=aug_transforms(max_rotate=15, max_lighting=0))
    learn = vision_learner(dls, resnet18, pretrained=False, n_in=1, y_range=(-1, 1), metrics=mae)
    learn.fit_one_cycle(12, 1e-2)

Prints fastai's table, the mean distance to the centres in pixels, the fit time and the whole
script's time. Time the two whole commands in turn, several times each:

    /usr/bin/time -v .build/release/keypoints
    /usr/bin/time -v ../ref-venv/bin/python Benchmarks/compare_fastai_keypoints.py
"""
import argparse
import os
import time

start = time.perf_counter()
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from fastai.vision.all import (ColReader, ColSplitter, DataBlock, ImageBlock, PILImageBW, PointBlock,  # noqa: E402
                               aug_transforms, mae, resnet18, set_seed, tensor, vision_learner)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def centre(row):
    x, y = (float(v) for v in row["centres"].split())
    return tensor([[x, y]])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", default=os.path.join(ROOT, "Sources", "Vision", "Resources", "digit_scenes"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--bs", type=int, default=32)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    set_seed(42)
    df = pd.read_csv(os.path.join(args.path, "labels.csv"))
    df = df[df.centres.str.split().str.len() == 2].reset_index(drop=True)
    dblock = DataBlock(blocks=(ImageBlock(cls=PILImageBW), PointBlock), splitter=ColSplitter("is_valid"),
                       get_x=ColReader("fname", pref=os.path.join(args.path, "images") + os.path.sep), get_y=centre,
                       batch_tfms=aug_transforms(max_rotate=15, max_lighting=0))
    dls = dblock.dataloaders(df, bs=args.bs, num_workers=0)
    learn = vision_learner(dls, resnet18, pretrained=False, n_in=1, y_range=(-1, 1), metrics=mae)
    fit_start = time.perf_counter()
    learn.fit_one_cycle(args.epochs, args.lr)
    fit = time.perf_counter() - fit_start
    preds, targs = learn.get_preds()
    distance = ((preds.view(-1, 2) - targs.view(-1, 2)) * 28).pow(2).sum(1).sqrt().mean()
    print(f"mean distance to the digit's centre: {float(distance):.2f} pixels")
    print(f"fastai fit: {fit:.1f}s; whole script: {time.perf_counter() - start:.1f}s; threads {args.threads}")


if __name__ == "__main__":
    main()
