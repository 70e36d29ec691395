#!/usr/bin/env python3
"""Makes the photo folders of `benchmarks photo-memory` and `benchmarks photos`: COUNT photos of
LOW-HIGH megapixels (random sizes and aspect ratios; 2-12 by default), named <class>_<n>.jpg
after the bundled photo each is made from (resized, with film grain so they do not compress to
nothing); with --png P, a share P of them saved as PNG instead.

    ../ref-venv/bin/python Benchmarks/make_large_photo_folder.py /tmp/photos20k --count 20000 [--distinct 2000]
    ../ref-venv/bin/python Benchmarks/make_large_photo_folder.py /tmp/photos500 --count 500 --megapixels 0.2 2 --png 0.2

With --distinct D only D photos are encoded and the rest of the COUNT files are hard links to
them (same bytes, same decoding work per file, a tenth of the disk and of the time to make).
Needs Pillow and numpy (the reference venv has both)."""
import argparse, os, random
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from PIL import Image

SAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "Vision", "Resources", "photos_sample")


def make(job):
    index, source, out, seed, low, high = job
    rng = random.Random(seed)
    megapixels = rng.uniform(low, high)
    aspect = rng.uniform(0.6, 1.8)
    width = int((megapixels * 1e6 * aspect) ** 0.5)
    height = int(megapixels * 1e6 / width)
    image = Image.open(source).convert("RGB").resize((width, height), Image.BILINEAR)
    grain = np.random.default_rng(seed).integers(-6, 7, size=(height, width, 1), dtype=np.int16)
    pixels = np.clip(np.asarray(image, dtype=np.int16) + grain, 0, 255).astype(np.uint8)
    if out.endswith(".png"):
        Image.fromarray(pixels).save(out)
    else:
        Image.fromarray(pixels).save(out, quality=85)
    return width * height


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--distinct", type=int, default=None)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--megapixels", type=float, nargs=2, default=(2.0, 12.0), metavar=("LOW", "HIGH"))
    parser.add_argument("--png", type=float, default=0.0, help="the share of photos saved as PNG")
    args = parser.parse_args()
    distinct = min(args.distinct or args.count, args.count)
    os.makedirs(args.folder, exist_ok=True)
    sources = sorted(os.path.join(SAMPLE, f) for f in os.listdir(SAMPLE))
    label = lambda path: os.path.basename(path).split("_")[0]
    low, high = args.megapixels
    kinds = random.Random(0)
    jobs = [(i, sources[i % len(sources)],
             os.path.join(args.folder, f"{label(sources[i % len(sources)])}_{i:05d}.{'png' if kinds.random() < args.png else 'jpg'}"), i, low, high)
            for i in range(distinct)]
    with ProcessPoolExecutor(args.workers) as pool:
        pixels = sum(pool.map(make, jobs, chunksize=8))
    for i in range(distinct, args.count):
        original = jobs[i % distinct]
        link = os.path.join(args.folder, f"{label(original[1])}_{i:05d}{os.path.splitext(original[2])[1]}")
        if not os.path.exists(link):
            os.link(original[2], link)
    print(f"{args.count} photos ({distinct} distinct, {pixels / distinct / 1e6:.1f} MP on average) in {args.folder}")


if __name__ == "__main__":
    main()
