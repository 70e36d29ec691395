"""The same model served two ways, loaded by the same clients: `fastswift serve` (batching on and
off) against a minimal FastAPI + uvicorn + PyTorch app, the way fastai's book puts a model in
production, each in its own process on the same threads. The clients are `benchmarks serve --url`
(1, 8 and 64 keep-alive clients posting the bundled photos); the rounds alternate the servers.

    python3 -m venv ../ref-venv && ../ref-venv/bin/pip install torch torchvision fastai fastapi uvicorn
    swift build -c release --product photos && swift build -c release --product fastswift && swift build -c release --product benchmarks
    ../ref-venv/bin/python Benchmarks/compare_fastapi_serve.py --threads 2 --rounds 3

The model is the bundled photo classifier (ResNet-18 with fastai's head, 64 px, four classes),
trained for one epoch by the photos recipe and exported; the FastAPI app loads the same weights
into fastai's `create_vision_model(resnet18)` and prepares photos as the export says (centre crop,
resize to 64, no normalisation), then checks that both servers label the bundled photos alike.
"""
import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".build", "release")
PHOTOS = os.path.join(ROOT, "Sources", "Vision", "Resources", "photos_sample")


def serve_fastapi(model_file, port, threads):
    """The minimal production app: one process, one model, an async endpoint that runs it."""
    import torch
    import uvicorn
    from fastai.vision.all import create_vision_model, resnet18
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse
    from PIL import Image, ImageOps
    from safetensors import safe_open
    from safetensors.torch import load_file

    torch.set_num_threads(threads)
    with safe_open(model_file, "pt") as f:
        metadata = f.metadata()
    vocab = json.loads(metadata["vocab"])
    size = json.loads(metadata["image_preparation"])["height"]
    model = create_vision_model(resnet18, len(vocab), pretrained=False)
    missing, unexpected = model.load_state_dict(load_file(model_file), strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    model.eval()
    app = FastAPI()

    @app.get("/health")
    async def health():
        return {"status": "ok"}

    @app.post("/predict")
    async def predict(request: Request):
        body = await request.body()
        try:
            image = ImageOps.fit(Image.open(io.BytesIO(body)).convert("RGB"), (size, size), Image.BILINEAR)
        except Exception as error:  # noqa: BLE001 - any undecodable upload is the client's error
            return JSONResponse({"error": str(error)}, status_code=422)
        x = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).view(size, size, 3).permute(2, 0, 1).float() / 255
        with torch.inference_mode():
            probabilities = model(x[None]).softmax(-1)[0]
        order = probabilities.argsort(descending=True).tolist()
        return {
            "label": vocab[order[0]],
            "probabilities": [{"label": vocab[i], "probability": float(probabilities[i])} for i in order],
        }

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(port, process, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not come up")


def start(name, model_file, threads):
    port = free_port()
    env = dict(os.environ, FASTSWIFT_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    if name == "fastapi":
        command = [sys.executable, os.path.abspath(__file__), "--serve-fastapi", str(port), "--model", model_file, "--threads", str(threads)]
    else:
        command = [os.path.join(BIN, "fastswift"), "serve", model_file, "--port", str(port)]
        if name == "fastswift (no batching)":
            command.append("--no-batching")
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_up(port, process)
    return process, port


def labels(port):
    """Each bundled photo's label from the server at `port`."""
    out = {}
    for name in sorted(os.listdir(PHOTOS)):
        with open(os.path.join(PHOTOS, name), "rb") as f:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/predict", data=f.read(), headers={"Content-Type": "application/octet-stream"})
        out[name] = json.load(urllib.request.urlopen(request))["label"]
    return out


def load(port, threads):
    result = subprocess.run(
        [os.path.join(BIN, "benchmarks"), "serve", "--url", f"http://127.0.0.1:{port}/predict", "--json", "--threads", str(threads)],
        check=True, capture_output=True, text=True)
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--model", help="an export of the photo model (default: train one epoch with the photos recipe)")
    p.add_argument("--serve-fastapi", type=int, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.serve_fastapi:
        serve_fastapi(a.model, a.serve_fastapi, a.threads)
        return
    folder = tempfile.mkdtemp(prefix="fastswift-serve-")
    model_file = a.model or os.path.join(folder, "photos.safetensors")
    if not a.model:
        subprocess.run([os.path.join(BIN, "photos"), "--epochs", "1", "--export", model_file], check=True, stdout=subprocess.DEVNULL)

    servers = ["fastswift", "fastswift (no batching)", "fastapi"]
    agreement = {}
    results = {}  # (server, clients) -> [record per round]
    for round_ in range(a.rounds):
        for name in servers:
            process, port = start(name, model_file, a.threads)
            try:
                if round_ == 0 and name != "fastswift (no batching)":
                    agreement[name] = labels(port)
                for record in load(port, a.threads):
                    clients = int(record["clients"])
                    results.setdefault((name, clients), []).append(record)
                    print(f"round {round_ + 1} {name:24s} {clients:3d} clients: {record['images_per_s']:7.1f} req/s, "
                          f"p50 {record['p50_ms']:6.1f} ms, p99 {record['p99_ms']:6.1f} ms", flush=True)
            finally:
                process.terminate()
                process.wait()

    same = sum(agreement["fastswift"][k] == agreement["fastapi"][k] for k in agreement["fastswift"])
    print(f"\nthe two servers give the same label to {same} of {len(agreement['fastswift'])} bundled photos")
    print(f"\nmedians over {a.rounds} rounds, {a.threads} threads:")
    print(f"{'server':26s}{'clients':>8s}{'req/s':>9s}{'p50 ms':>9s}{'p99 ms':>9s}{'vs FastAPI':>12s}")
    for clients in [1, 8, 64]:
        base = statistics.median(r["images_per_s"] for r in results[("fastapi", clients)])
        for name in servers:
            rs = results[(name, clients)]
            rate = statistics.median(r["images_per_s"] for r in rs)
            p50 = statistics.median(r["p50_ms"] for r in rs)
            p99 = statistics.median(r["p99_ms"] for r in rs)
            print(f"{name:26s}{clients:8d}{rate:9.1f}{p50:9.1f}{p99:9.1f}{rate / base:11.2f}x")


if __name__ == "__main__":
    main()
