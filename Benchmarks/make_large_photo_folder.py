#!/usr/bin/env python3
"""Makes the photo folder of `benchmarks photo-memory`: COUNT JPEG photos of 2-12 megapixels
(random sizes and aspect ratios), named <class>_<n>.jpg after the bundled photo each is made
from (upscaled, re-cropped, with film grain so they do not compress to nothing).

    ../ref-venv/bin/python Benchmarks/make_large_photo_folder.py /tmp/photos20k --count 20000 [--distinct 2000]

With --distinct D only D photos are encoded and the rest of the COUNT files are hard links to
them (same bytes, same decoding work per file, a tenth of the disk and of the time to make).
Needs Pillow and numpy (the reference venv has both)."""
import argparse, os, random
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from PIL import Image

SAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "Vision", "Resources", "photos_sample")


def make(job):
    index, source, out, seed = job
    rng = random.Random(seed)
    megapixels = rng.uniform(2, 12)
    aspect = rng.uniform(0.6, 1.8)
    width = int((megapixels * 1e6 * aspect) ** 0.5)
    height = int(megapixels * 1e6 / width)
    image = Image.open(source).convert("RGB").resize((width, height), Image.BILINEAR)
    grain = np.random.default_rng(seed).integers(-6, 7, size=(height, width, 1), dtype=np.int16)
    pixels = np.clip(np.asarray(image, dtype=np.int16) + grain, 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(out, quality=85)
    return width * height


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--distinct", type=int, default=None)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    distinct = min(args.distinct or args.count, args.count)
    os.makedirs(args.folder, exist_ok=True)
    sources = sorted(os.path.join(SAMPLE, f) for f in os.listdir(SAMPLE))
    label = lambda path: os.path.basename(path).split("_")[0]
    jobs = [(i, sources[i % len(sources)], os.path.join(args.folder, f"{label(sources[i % len(sources)])}_{i:05d}.jpg"), i) for i in range(distinct)]
    with ProcessPoolExecutor(args.workers) as pool:
        pixels = sum(pool.map(make, jobs, chunksize=8))
    for i in range(distinct, args.count):
        original = jobs[i % distinct]
        link = os.path.join(args.folder, f"{label(original[1])}_{i:05d}.jpg")
        if not os.path.exists(link):
            os.link(original[2], link)
    print(f"{args.count} photos ({distinct} distinct, {pixels / distinct / 1e6:.1f} MP on average) in {args.folder}")


if __name__ == "__main__":
    main()
