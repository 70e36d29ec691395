"""Makes the JPEG fixtures of Tests/CodecsTests/ImageFixtures (run once; the files are committed).

Each `<name>.jpg` is encoded by PIL or by libjpeg-turbo's `cjpeg` (Debian's libjpeg-turbo-progs)
from a synthetic photo-like picture (smooth gradients, edges, texture, odd sizes so MCUs are
partial); `<name>.png` is the reference decode: libjpeg-turbo's `djpeg` (default settings:
islow IDCT, fancy upsampling), turned upright with PIL's `ImageOps.exif_transpose` where the
file has an EXIF orientation. The test decodes every `.jpg` and compares with its `.png` (±2).

    ../ref-venv/bin/python Tests/Fixtures/make_image_fixtures.py
"""
import io, os, subprocess, sys
import numpy as np
from PIL import Image, ImageOps

out = os.path.join(os.path.dirname(__file__), "..", "CodecsTests", "ImageFixtures")
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


# PNGs PIL does not write: Adam7-interlaced, 16-bit colour, low-bit gray. A small writer that
# cycles through the five filters; `<name>.expected.png` is the 8-bit picture they must decode
# to (16-bit samples keep their high byte, low-bit gray scales to 0...255).
import struct, zlib


def png_bytes(width, height, colour, depth, rows_of_samples, interlaced):
    samples = {0: 1, 2: 3, 4: 2, 6: 4}[colour]

    def pack(row):  # row: list of sample values
        if depth == 16:
            return b"".join(struct.pack(">H", v) for v in row)
        if depth == 8:
            return bytes(row)
        bits, out, acc, n = depth, bytearray(), 0, 0
        for v in row:
            acc = (acc << bits) | v; n += bits
            if n == 8:
                out.append(acc); acc, n = 0, 0
        if n:
            out.append(acc << (8 - n))
        return bytes(out)

    def filtered(lines, bpp):
        data, prev = bytearray(), None
        for i, line in enumerate(lines):
            kind = i % 5
            up = prev if prev is not None else bytes(len(line))
            out = bytearray()
            for x, v in enumerate(line):
                a = line[x - bpp] if x >= bpp else 0
                b = up[x]
                c = up[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = [0, a, b, (a + b) // 2, a if pa <= pb and pa <= pc else (b if pb <= pc else c)][kind]
                out.append((v - pred) & 0xFF)
            data += bytes([kind]) + out
            prev = line
        return bytes(data)

    bpp = max(1, samples * depth // 8)
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)] if interlaced else [(0, 0, 1, 1)]
    raw = b""
    for (x0, y0, dx, dy) in passes:
        xs, ys = range(x0, width, dx), range(y0, height, dy)
        if not xs or not ys:
            continue
        lines = [pack([s for x in xs for s in rows_of_samples[y][x]]) for y in ys]
        raw += filtered(lines, bpp)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 1 if interlaced else 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def png_fixture(name, width, height, colour, depth, interlaced, seed):
    rng = np.random.default_rng(seed)
    samples = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    values = rng.integers(0, 1 << depth, (height, width, samples))
    values[: height // 2, :, 0] = np.arange(width)[None, :] * ((1 << depth) - 1) // max(width - 1, 1)
    open(os.path.join(out, name + ".png"), "wb").write(png_bytes(width, height, colour, depth, values.tolist(), interlaced))
    if depth == 16:
        eight = values >> 8
    elif depth < 8:
        eight = values * (255 // ((1 << depth) - 1))
    else:
        eight = values
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[samples]
    Image.fromarray(eight.astype(np.uint8).reshape(height, width, samples).squeeze(-1) if samples == 1 else eight.astype(np.uint8), mode).save(
        os.path.join(out, name + ".expected.png"))


png_fixture("png_adam7_rgb", 19, 13, 2, 8, True, 1)
png_fixture("png_adam7_gray", 3, 5, 0, 8, True, 2)       # smaller than an Adam7 block: some passes are empty
png_fixture("png_rgb16", 11, 7, 2, 16, False, 3)
png_fixture("png_rgba16_adam7", 10, 9, 6, 16, True, 4)
png_fixture("png_gray16", 9, 6, 0, 16, False, 5)
png_fixture("png_gray1", 21, 4, 0, 1, False, 6)
png_fixture("png_gray2_adam7", 13, 11, 0, 2, True, 7)
png_fixture("png_gray4", 7, 5, 0, 4, False, 8)
png_fixture("png_graya16", 6, 6, 4, 16, True, 9)
print("PNG fixtures written")


# PIL's bilinear resize (what fastai's Resize calls): a source picture and its resizes, down
# (antialiased) and up, in both directions.
source = picture(37, 23, seed=3)
source.save(os.path.join(out, "resize_source.png"))
for (w, h) in [(16, 16), (9, 20), (64, 48), (37, 10)]:
    source.resize((w, h), Image.BILINEAR).save(os.path.join(out, f"resize_{w}x{h}.png"))
print("resize fixtures written")
