"""fastai's twin of the `photos` recipe at photo size, for the speed comparison of issue 24:

    dls = ImageDataLoaders.from_name_re(path, files, r'^(.+?)_[^_]*$', valid_pct=0.25, seed=42, bs=32,
                                        item_tfms=Resize(224), batch_tfms=aug_transforms(), num_workers=0)
    learn = vision_learner(dls, resnet34, pretrained=False, metrics=accuracy)
    learn.fit_one_cycle(1, 2e-3)

run on the same folder as

    .build/release/photos --data PATH --size 224 --arch resnet34 --bs 32 --epochs 1

(`pretrained=False`: there is no network here; `num_workers=0`: one process, as FastSwift's
loaders share the process's threads.) A folder of 500 photos of mixed sizes and formats:

    ../ref-venv/bin/python Benchmarks/make_large_photo_folder.py /tmp/photos500 --count 500 --megapixels 0.2 2 --png 0.2
    ../ref-venv/bin/python Benchmarks/compare_fastai_photos.py /tmp/photos500 [--threads 2]

Prints fastai's table, the fit time and the whole script's time.
"""
import argparse
import time

start = time.perf_counter()
import torch  # noqa: E402
from fastai.vision.all import (ImageDataLoaders, Resize, accuracy, aug_transforms, get_image_files,  # noqa: E402
                               resnet18, resnet34, resnet50, set_seed, vision_learner)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--arch", default="resnet34", choices=["resnet18", "resnet34", "resnet50"])
    parser.add_argument("--bs", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=2e-3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    set_seed(42)
    files = get_image_files(args.path)
    dls = ImageDataLoaders.from_name_re(args.path, files, r"^(.+?)_[^_]*$", valid_pct=0.25, seed=42, bs=args.bs,
                                        item_tfms=Resize(args.size), batch_tfms=aug_transforms(), num_workers=0)
    arch = {"resnet18": resnet18, "resnet34": resnet34, "resnet50": resnet50}[args.arch]
    learn = vision_learner(dls, arch, pretrained=False, metrics=accuracy)
    fit_start = time.perf_counter()
    learn.fit_one_cycle(args.epochs, args.lr)
    fit = time.perf_counter() - fit_start
    print(f"fastai fit: {fit:.1f}s; whole script: {time.perf_counter() - start:.1f}s; {len(files)} photos; threads {args.threads}")


if __name__ == "__main__":
    main()
