"""Makes FastSwift's bundled MNIST sample from the full archive (fastai's mnist_png layout).

Keeps the first TRAIN_PER_CLASS training and TEST_PER_CLASS testing digits of each class (files
in numeric order), unchanged, in Sources/Vision/Resources/mnist_sample/{training,testing}/<digit>/.
MNIST: Yann LeCun, Corinna Cortes and Christopher J.C. Burges, CC BY-SA 3.0.

    python3 Tests/Fixtures/make_mnist_sample.py ../shared/datasets/mnist_png.tgz
"""
import os
import sys
import tarfile

TRAIN_PER_CLASS, TEST_PER_CLASS = 300, 100
root = os.path.join(os.path.dirname(__file__), "..", "..", "Sources", "Vision", "Resources", "mnist_sample")

with tarfile.open(sys.argv[1]) as tar:
    members = [m for m in tar.getmembers() if m.isfile() and m.name.endswith(".png")]
    chosen = {}
    for m in members:
        parts = m.name.split("/")          # mnist_png/training/3/12345.png
        split, digit, name = parts[-3], parts[-2], parts[-1]
        chosen.setdefault((split, digit), []).append((int(name[:-4]), m))
    total = 0
    for (split, digit), items in sorted(chosen.items()):
        keep = TRAIN_PER_CLASS if split == "training" else TEST_PER_CLASS
        folder = os.path.join(root, split, digit)
        os.makedirs(folder, exist_ok=True)
        for _, m in sorted(items, key=lambda t: t[0])[:keep]:
            with open(os.path.join(folder, os.path.basename(m.name)), "wb") as f:
                f.write(tar.extractfile(m).read())
            total += 1
print("wrote", total, "images under", os.path.normpath(root))
