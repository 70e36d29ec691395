#!/usr/bin/env python3
"""Makes FastSwift's bundled multi-label sample, `Sources/Vision/Resources/digit_scenes`, from the
bundled MNIST sample's real pixels (MNIST: LeCun, Cortes, Burges; CC BY-SA 3.0).

Each scene is a 56x56 grayscale PNG: a 2x2 grid of 28x28 cells, one to three of them holding an
MNIST digit shifted by up to 4 pixels (digits are drawn with `max`, so nothing is lost where two
margins meet). Its labels are the set of digit classes it shows, as fastai's PASCAL table lists
them: `labels.csv` with columns `fname,labels,centres,is_valid`, labels sorted and separated by a
space, `centres` the centre of each digit (the mean of its ink's positions, weighted by the ink,
in pixels from the top-left corner: `x y`, one pair per digit in the order of the sorted labels).
`masks/` holds one PNG per scene, the same name: code 0 for the background and `1 + digit` for
every pixel a digit's ink (value 128 or more) covers, the brighter digit where two meet.
Training scenes use the sample's `training` digits, validation scenes its `testing` digits, each
digit at most once. The same seed gives the same files.

    ../ref-venv/bin/python Benchmarks/make_digit_scenes.py
    # a larger set, from the full MNIST folders, for comparisons outside the repository:
    ../ref-venv/bin/python Benchmarks/make_digit_scenes.py --mnist /tmp/mnist/mnist_png --out /tmp/scenes --train 4000 --valid 1000
"""
import argparse
import csv
import os
import random

import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MNIST = os.path.join(ROOT, "Sources", "Vision", "Resources", "mnist_sample")
OUT = os.path.join(ROOT, "Sources", "Vision", "Resources", "digit_scenes")
SIZE, CELL, SHIFT = 56, 28, 4
COUNTS = {"training": 1400, "testing": 400}


def digits(mnist, split):
    """Every digit of a split as (class, 28x28 uint8 array), in a fixed order."""
    found = []
    for label in sorted(os.listdir(os.path.join(mnist, split))):
        folder = os.path.join(mnist, split, label)
        for name in sorted(os.listdir(folder), key=lambda n: int(n.split(".")[0])):
            found.append((label, np.array(Image.open(os.path.join(folder, name)).convert("L"))))
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mnist", default=MNIST, help="a folder of MNIST PNGs in fastai's layout (training/, testing/)")
    parser.add_argument("--out", default=OUT)
    parser.add_argument("--train", type=int, default=COUNTS["training"])
    parser.add_argument("--valid", type=int, default=COUNTS["testing"])
    args = parser.parse_args()
    out = args.out
    rng = random.Random(2026)
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    os.makedirs(os.path.join(out, "masks"), exist_ok=True)
    rows = []
    for split, count in {"training": args.train, "testing": args.valid}.items():
        pool = digits(args.mnist, split)
        rng.shuffle(pool)
        for i in range(count):
            scene = np.zeros((SIZE, SIZE), dtype=np.uint8)
            mask = np.zeros((SIZE, SIZE), dtype=np.uint8)
            labels = set()
            centres = []
            for cell in rng.sample(range(4), rng.randint(1, 3)):
                label, pixels = pool.pop()
                top = (cell // 2) * CELL + rng.randint(-SHIFT, SHIFT)
                left = (cell % 2) * CELL + rng.randint(-SHIFT, SHIFT)
                # The digit's window, clipped to the canvas.
                y0, x0 = max(top, 0), max(left, 0)
                y1, x1 = min(top + CELL, SIZE), min(left + CELL, SIZE)
                part = pixels[(y0 - top):(y1 - top), (x0 - left):(x1 - left)]
                ink = part >= 128
                brighter = part > scene[y0:y1, x0:x1]
                mask[y0:y1, x0:x1][ink & brighter] = 1 + int(label)
                scene[y0:y1, x0:x1] = np.maximum(scene[y0:y1, x0:x1], part)
                labels.add(label)
                weights = part.astype(np.float64)
                ys, xs = np.mgrid[y0:y1, x0:x1]
                centres.append((label, (xs + 0.5).ravel() @ weights.ravel() / weights.sum(),
                                (ys + 0.5).ravel() @ weights.ravel() / weights.sum()))
            name = f"{'train' if split == 'training' else 'valid'}_{i:04d}.png"
            Image.fromarray(scene, mode="L").save(os.path.join(out, "images", name), optimize=True)
            Image.fromarray(mask, mode="L").save(os.path.join(out, "masks", name), optimize=True)
            centres.sort(key=lambda c: c[0])
            rows.append((name, " ".join(sorted(labels)), " ".join(f"{x:.2f} {y:.2f}" for _, x, y in centres),
                         "True" if split == "testing" else "False"))
    with open(os.path.join(out, "labels.csv"), "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["fname", "labels", "centres", "is_valid"])
        writer.writerows(rows)
    print(f"{len(rows)} scenes in {out}")


if __name__ == "__main__":
    main()
