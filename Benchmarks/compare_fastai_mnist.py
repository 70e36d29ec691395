"""fastai's own time for the main job's three lines, on the same data with the same threads:

    dls = ImageDataLoaders.from_folder(path, train='training', valid='testing')
    learn = vision_learner(dls, resnet18, pretrained=False, loss_func=F.cross_entropy, metrics=accuracy)
    learn.fit_one_cycle(1, 0.1)

(`pretrained=False`: there is no network here, and FastSwift has no pretrained weights either.)
Prints fastai's table, the fit time and the whole script's time. Compare with
`swift run -c release mnist --data PATH --epochs 1` run right before or after.

    ../ref-venv/bin/python Benchmarks/compare_fastai_mnist.py PATH/mnist_png [--threads 2]
"""
import argparse
import time

start = time.perf_counter()
import torch  # noqa: E402
from fastai.vision.all import (ImageDataLoaders, accuracy, resnet18, set_seed,  # noqa: E402
                               vision_learner, F)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    set_seed(42)
    dls = ImageDataLoaders.from_folder(args.path, train="training", valid="testing", bs=64, num_workers=0)
    learn = vision_learner(dls, resnet18, pretrained=False, loss_func=F.cross_entropy, metrics=accuracy)
    fit_start = time.perf_counter()
    learn.fit_one_cycle(1, 0.1)
    fit = time.perf_counter() - fit_start
    print(f"fastai fit: {fit:.1f}s; whole script: {time.perf_counter() - start:.1f}s; threads {args.threads}")


if __name__ == "__main__":
    main()
