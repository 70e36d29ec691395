"""Makes FastSwift's bundled photo sample, Sources/Vision/Resources/photos_sample (run once;
the files are committed).

Four classes cut from public-domain / CC0 photographs that scikit-image ships
(`pip install scikit-image`): `cat` (Chelsea the cat, CC0, Stefan van der Walt), `coffee`
(CC0, Rachel Michetti), `astronaut` (Eileen Collins, NASA, public domain) and `rocket`
(SpaceX, public domain). Each class gets 24 random crops of its photograph, of random size,
position and aspect ratio, some mirrored, saved as JPEG (baseline or progressive, 4:2:0 or
4:4:4, various qualities), PNG, or grayscale JPEG, so the folder is what a user's photo folder
looks like: mixed sizes, mixed formats, labels in the file names (`cat_007.jpg`), as in
fastai's pets.

    ../ref-venv/bin/python Tests/Fixtures/make_photo_sample.py
"""
import os, random, shutil
from PIL import Image, ImageOps
from skimage import data

out = os.path.join(os.path.dirname(__file__), "..", "..", "Sources", "Vision", "Resources", "photos_sample")
shutil.rmtree(out, ignore_errors=True)
os.makedirs(out)
rng = random.Random(2026)
sources = {"cat": data.chelsea(), "coffee": data.coffee(), "astronaut": data.astronaut(), "rocket": data.rocket()}
for label, array in sources.items():
    photo = Image.fromarray(array)
    w, h = photo.size
    for i in range(24):
        side = rng.uniform(0.45, 0.95) * min(w, h)
        aspect = rng.uniform(0.75, 1.33)
        cw, ch = int(side * aspect ** 0.5), int(side / aspect ** 0.5)
        cw, ch = min(cw, w), min(ch, h)
        left, top = rng.randint(0, w - cw), rng.randint(0, h - ch)
        crop = photo.crop((left, top, left + cw, top + ch))
        if rng.random() < 0.5:
            crop = ImageOps.mirror(crop)
        longest = rng.randint(40, 96)
        scale = longest / max(cw, ch)
        crop = crop.resize((max(8, round(cw * scale)), max(8, round(ch * scale))), Image.BILINEAR)
        kind = i % 6
        name = os.path.join(out, f"{label}_{i + 1:03d}")
        if kind == 0:
            crop.save(name + ".png")
        elif kind == 1:
            crop.save(name + ".jpg", quality=rng.randint(75, 95), progressive=True)
        elif kind == 2:
            crop.save(name + ".jpg", quality=rng.randint(85, 95), subsampling=0)
        elif kind == 3 and label != "cat":
            crop.convert("L").save(name + ".jpeg", quality=90)
        else:
            crop.save(name + ".jpg", quality=rng.randint(70, 92))
print(len(os.listdir(out)), "photos in", os.path.abspath(out))
