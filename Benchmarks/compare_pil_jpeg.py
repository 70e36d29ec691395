"""JPEG decoding speed: FastSwift's decoder against PIL (libjpeg-turbo with SIMD) on the same files,
one thread each, back to back.

Makes a folder of photographs from scikit-image's public-domain/CC0 samples (astronaut, coffee,
chelsea, rocket), upscaled 2x as well, each encoded as baseline 4:2:0 (q90), progressive 4:2:0
(q85) and baseline 4:4:4 (q95); times PIL's decode (`Image.open(f).load()`); runs
`benchmarks data --threads 1 --json` on the same folder; prints megapixels/s and the ratio.

    ../ref-venv/bin/pip install pillow scikit-image
    swift build -c release --product benchmarks
    ../ref-venv/bin/python Benchmarks/compare_pil_jpeg.py [--rounds 3] [--keep DIR]

`--keep DIR` leaves the photos in DIR with PIL's decode of each beside it as a PNG, for the
opt-in exactness test: `FASTSWIFT_JPEG_REFERENCE_DIR=DIR swift test --filter JPEGTests`.
"""
import argparse, json, os, subprocess, tempfile, time
from PIL import Image
from skimage import data

parser = argparse.ArgumentParser()
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--keep", help="write the photos and PIL's decodes (PNG) into this folder")
args = parser.parse_args()

folder = args.keep or tempfile.mkdtemp(prefix="fastswift-jpeg-")
os.makedirs(folder, exist_ok=True)
megapixels = 0.0
for name, array in [("astronaut", data.astronaut()), ("coffee", data.coffee()), ("chelsea", data.chelsea()), ("rocket", data.rocket())]:
    for scale in (1, 2):
        photo = Image.fromarray(array)
        if scale != 1:
            photo = photo.resize((photo.width * scale, photo.height * scale), Image.BICUBIC)
        for kind, options in [("420", dict(quality=90, subsampling=2)), ("progressive", dict(quality=85, subsampling=2, progressive=True)),
                              ("444", dict(quality=95, subsampling=0))]:
            photo.save(os.path.join(folder, f"{name}_{scale}x_{kind}.jpg"), **options)
            megapixels += photo.width * photo.height / 1e6
files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".jpg"))
if args.keep:
    for f in files:
        Image.open(f).save(f[:-4] + ".png")
blobs = [open(f, "rb").read() for f in files]

import io
def pil_seconds():
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for blob in blobs:
            Image.open(io.BytesIO(blob)).load()
        best = min(best, time.perf_counter() - start)
    return best

binary = os.path.join(os.path.dirname(__file__), "..", ".build", "release", "benchmarks")
env = dict(os.environ, FASTSWIFT_JPEG_DIR=folder, FASTSWIFT_MNIST_TGZ="/nonexistent")
pil_best, swift_best = float("inf"), float("inf")
for _ in range(args.rounds):
    pil_best = min(pil_best, pil_seconds())
    out = subprocess.run([binary, "data", "--threads", "1", "--json"], env=env, capture_output=True, text=True).stdout
    for line in out.splitlines():
        row = json.loads(line)
        if row["case"].startswith("decode JPEG"):
            swift_best = min(swift_best, row["seconds"])
print(f"{len(files)} JPEG files, {megapixels:.1f} megapixels, one thread")
print(f"PIL (libjpeg-turbo): {megapixels / pil_best:8.1f} MP/s")
print(f"FastSwift:           {megapixels / swift_best:8.1f} MP/s   ({pil_best / swift_best:.2f}x PIL's speed)")
