#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (Tests/Fuzz/corpus/<target>/): small valid files of
each format, in the variants the parsers handle, so that fuzzing starts from every code path.
Images come from the committed image fixtures; the learner seeds from `fuzz learner-seeds`.
Standard library only. Run from the repository root: python3 Tests/Fuzz/make_seeds.py"""
import gzip, io, json, os, shutil, struct, tarfile, zlib

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "CodecsTests", "ImageFixtures")


def put(target, name, data):
    os.makedirs(os.path.join(root, target), exist_ok=True)
    with open(os.path.join(root, target, name), "wb") as f:
        f.write(data)


def copy_fixtures(target, extension, limit):
    for name in sorted(os.listdir(fixtures)):
        path = os.path.join(fixtures, name)
        if name.endswith(extension) and ".expected." not in name and os.path.getsize(path) <= limit:
            shutil.copy(path, os.path.join(root, target, name))


os.makedirs(os.path.join(root, "png"), exist_ok=True)
os.makedirs(os.path.join(root, "jpeg"), exist_ok=True)
copy_fixtures("png", ".png", 4096)
copy_fixtures("jpeg", ".jpg", 4096)

text = b"The quick brown fox jumps over the lazy dog. " * 20
put("gzip", "level9.gz", gzip.compress(text, 9))
put("gzip", "level1.gz", gzip.compress(text[:100], 1))
put("gzip", "stored.gz", gzip.compress(bytes(range(256)), 0))
put("gzip", "empty.gz", gzip.compress(b""))
put("gzip", "two-members.gz", gzip.compress(b"first ") + gzip.compress(b"second"))


def tar_bytes(members, fmt):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


put("tar", "ustar.tar", tar_bytes([("mnist/training/3/1.png", b"png bytes"), ("mnist/labels.csv", b"a,b\n1,2\n")], tarfile.USTAR_FORMAT))
put("tar", "gnu-long-name.tar", tar_bytes([("d/" + "x" * 120 + ".txt", b"long")], tarfile.GNU_FORMAT))
put("tar", "pax.tar", tar_bytes([("p/" + "y" * 120 + ".txt", b"pax")], tarfile.PAX_FORMAT))
put("tar", "empty.tar", tar_bytes([], tarfile.USTAR_FORMAT))

put("idx", "labels-3", bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 9]))
put("idx", "images-2x2x3", bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(12)))
put("idx", "images-2x2x3.gz", gzip.compress(bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(12))))
put("idx", "rank4", bytes([0, 0, 8, 4, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 5, 6]))

put("csv", "table.csv", b'name,age,city\nAda,36,"London, UK"\nAlan,,"Wilmslow"\n"Grace ""Amazing""",85,NA\n')
put("csv", "crlf.csv", b"a,b,c\r\n1,2.5,x\r\n3,-4e2,y\r\n")
put("csv", "pixels.csv", b"0,255,128,64,3\n10,20,30,40,7\n")
put("csv", "dates.csv", b"date,value\n2024-01-31,1\n2023-12-01,2\n")


def safetensors(tensors, metadata=None):
    header, data = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


floats = lambda *v: struct.pack("<%df" % len(v), *v)
put("safetensors", "two.safetensors", safetensors({"w": ("F32", [2, 2], floats(1, 2, 3, 4)), "b": ("F32", [2], floats(5, 6))}))
put("safetensors", "metadata.safetensors", safetensors({"x": ("F32", [], floats(1))}, {"format": "fastswift-checkpoint", "note": "seed"}))
put("safetensors", "counter.safetensors", safetensors({"bn.num_batches_tracked": ("I64", [], struct.pack("<q", 3)), "bn.weight": ("F32", [1], floats(1))}))
put("safetensors", "empty-tensor.safetensors", safetensors({"e": ("F32", [0, 3], b"")}))
