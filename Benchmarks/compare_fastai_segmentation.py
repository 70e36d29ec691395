"""fastai's twin of `swift run -c release segmentation`, on the same bundled digit scenes and masks
with the same threads (chapter 1's `unet_learner`; `pretrained=False`, one channel as FastSwift
loads these grayscale scenes):

    files = get_image_files(path/'images')[:COUNT]
    dblock = DataBlock(blocks=(ImageBlock(cls=PILImageBW), MaskBlock(codes)), get_items=lambda _: files,
                       get_y=lambda o: path/'masks'/o.name, splitter=RandomSplitter(0.2, seed=42))
    learn = unet_learner(dblock.dataloaders(path, bs=16), resnet18, pretrained=False, n_in=1, metrics=foreground_acc)
    learn.fit_one_cycle(EPOCHS, 3e-3)

Prints fastai's table, the fit time and the whole script's time. Time the two whole commands in
turn, several times each:

    /usr/bin/time -v .build/release/segmentation --epochs 1
    /usr/bin/time -v ../ref-venv/bin/python Benchmarks/compare_fastai_segmentation.py --epochs 1
"""
import argparse
import os
import time

start = time.perf_counter()
import torch  # noqa: E402
from fastai.vision.all import (DataBlock, ImageBlock, MaskBlock, Path, PILImageBW, RandomSplitter,  # noqa: E402
                               foreground_acc, get_image_files, resnet18, set_seed, unet_learner)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", default=os.path.join(ROOT, "Sources", "Vision", "Resources", "digit_scenes"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--bs", type=int, default=16)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    set_seed(42)
    path = Path(args.path)
    codes = ["background"] + [str(d) for d in range(10)]
    files = sorted(get_image_files(path / "images"))[:args.count]
    dblock = DataBlock(blocks=(ImageBlock(cls=PILImageBW), MaskBlock(codes)), get_items=lambda _: files,
                       get_y=lambda o: path / "masks" / o.name, splitter=RandomSplitter(0.2, seed=42))
    dls = dblock.dataloaders(path, bs=args.bs, num_workers=0)
    learn = unet_learner(dls, resnet18, pretrained=False, n_in=1, metrics=foreground_acc)
    fit_start = time.perf_counter()
    learn.fit_one_cycle(args.epochs, args.lr)
    fit = time.perf_counter() - fit_start
    print(f"fastai fit: {fit:.1f}s; whole script: {time.perf_counter() - start:.1f}s; threads {args.threads}")


if __name__ == "__main__":
    main()
