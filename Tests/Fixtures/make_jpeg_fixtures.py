"""Makes the JPEG fixtures of Tests/DataBlocksTests/JPEGFixtures (run once; the files are committed).

Each `<name>.jpg` is encoded by PIL or by libjpeg-turbo's `cjpeg` (Debian's libjpeg-turbo-progs)
from a synthetic photo-like picture (smooth gradients, edges, texture, odd sizes so MCUs are
partial); `<name>.png` is the reference decode: libjpeg-turbo's `djpeg` (default settings:
islow IDCT, fancy upsampling), turned upright with PIL's `ImageOps.exif_transpose` where the
file has an EXIF orientation. The test decodes every `.jpg` and compares with its `.png` (±2).

    ../ref-venv/bin/python Tests/Fixtures/make_jpeg_fixtures.py
"""
import io, os, subprocess, sys
import numpy as np
from PIL import Image, ImageOps

out = os.path.join(os.path.dirname(__file__), "..", "DataBlocksTests", "JPEGFixtures")
os.makedirs(out, exist_ok=True)


def picture(w, h, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(x / 7.0) * np.cos(y / 11.0)
    g = 255 * x / max(w - 1, 1)
    b = 255 * ((x - w / 2) ** 2 + (y - h / 2) ** 2 < (min(w, h) / 3) ** 2)
    img = np.stack([r, g, b], -1) + rng.normal(0, 12, (h, w, 3))
    img[h // 3, :, :] = 255          # a hard edge
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def djpeg(path):
    ppm = subprocess.run(["djpeg", "-pnm", path], check=True, capture_output=True).stdout
    return Image.open(io.BytesIO(ppm))


def save(name, reference):
    reference.save(os.path.join(out, name + ".png"))


def pil(name, img, **options):
    path = os.path.join(out, name + ".jpg")
    img.save(path, "JPEG", **options)
    # With an EXIF orientation the reference is PIL's decode (the same libjpeg-turbo), turned upright.
    decoded = ImageOps.exif_transpose(Image.open(path)) if options.get("exif") else djpeg(path)
    save(name, decoded)


def cjpeg(name, img, *args):
    path = os.path.join(out, name + ".jpg")
    src = io.BytesIO()
    img.save(src, "PPM")
    data = subprocess.run(["cjpeg", *args], input=src.getvalue(), check=True, capture_output=True).stdout
    open(path, "wb").write(data)
    save(name, djpeg(path))


photo = picture(45, 33)
pil("baseline_444", photo, quality=90, subsampling=0)
pil("baseline_422", photo, quality=75, subsampling=1)
pil("baseline_420", photo, quality=75, subsampling=2)
pil("progressive_420", photo, quality=80, subsampling=2, progressive=True)
pil("progressive_444", photo, quality=95, subsampling=0, progressive=True)
pil("gray", photo.convert("L"), quality=85)
pil("gray_progressive", photo.convert("L"), quality=60, progressive=True)
pil("large_420", picture(203, 151, seed=1), quality=85, subsampling=2)
cjpeg("restart_420", photo, "-quality", "80", "-sample", "2x2", "-restart", "1")
cjpeg("restart_progressive", photo, "-quality", "80", "-progressive", "-restart", "2B")
cjpeg("sampling_440", photo, "-quality", "85", "-sample", "1x2")
cjpeg("sampling_411", photo, "-quality", "85", "-sample", "4x1")
cjpeg("rgb", photo, "-quality", "90", "-rgb")
cjpeg("optimized_420", photo, "-quality", "70", "-optimize")
tall = picture(20, 31, seed=2)
for orientation in (3, 6, 8):
    exif = Image.Exif()
    exif[0x0112] = orientation
    pil(f"orientation_{orientation}", tall, quality=90, exif=exif.tobytes())

# Refused with a clear error (no reference picture).
picture(16, 16).convert("CMYK").save(os.path.join(out, "error_cmyk.jpg"), "JPEG")
src = io.BytesIO(); picture(16, 16).save(src, "PPM")
open(os.path.join(out, "error_arithmetic.jpg"), "wb").write(
    subprocess.run(["cjpeg", "-arithmetic"], input=src.getvalue(), check=True, capture_output=True).stdout)
print("fixtures in", os.path.abspath(out))
