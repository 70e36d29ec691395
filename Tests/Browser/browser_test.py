"""The served page in a real browser: headless Chromium, driven over the DevTools protocol with
nothing but Python's standard library (a small WebSocket client below), loads the page that
`fastswift serve` serves, puts a photo in its file input, and reads the predicted label and the
bar chart back from the page; then saves a screenshot.

    python3 Tests/Browser/browser_test.py --url http://127.0.0.1:PORT/ --photo PHOTO --expect LABEL [--screenshot FILE]

Exits 0 when the page shows the expected label and a chart; prints what it saw either way.
"""
import argparse, base64, json, os, shutil, socket, struct, subprocess, sys, tempfile, time, urllib.request


class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol: text frames, masked from the client."""

    def __init__(self, url):
        assert url.startswith("ws://")
        host_port, path = url[5:].split("/", 1)
        host, port = host_port.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /{path} HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        response = b""
        while b"\r\n\r\n" not in response:
            response += self.sock.recv(4096)
        head, self.pending = response.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError("the WebSocket upgrade failed: " + head.decode(errors="replace"))

    def send(self, text):
        data = text.encode()
        header = bytes([0x81])
        if len(data) < 126:
            header += bytes([0x80 | len(data)])
        elif len(data) < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(data))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(data))
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n):
        while len(self.pending) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise RuntimeError("the browser closed the connection")
            self.pending += chunk
        data, self.pending = self.pending[:n], self.pending[n:]
        return data

    def receive(self):
        message = b""
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(length)
            opcode = first & 0x0F
            if opcode in (0x1, 0x0):
                message += payload
                if first & 0x80:
                    return message.decode()
            elif opcode == 0x8:
                raise RuntimeError("the browser closed the WebSocket")


class Browser:
    def __init__(self, chromium):
        self.profile = tempfile.mkdtemp(prefix="fastswift-chromium-")
        self.process = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0",
             f"--user-data-dir={self.profile}", "--window-size=900,900", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        port = None
        deadline = time.time() + 30
        while port is None and time.time() < deadline:
            line = self.process.stderr.readline().decode(errors="replace")
            if "DevTools listening on ws://" in line:
                port = int(line.split("ws://", 1)[1].split("/", 1)[0].split(":")[1])
        if port is None:
            raise RuntimeError("Chromium did not start its DevTools endpoint")
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json"))
        page = next(t for t in targets if t["type"] == "page")
        self.ws = WebSocket(page["webSocketDebuggerUrl"])
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.receive())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def close(self):
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--photo", required=True)
    p.add_argument("--expect", required=True)
    p.add_argument("--screenshot")
    p.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser") or "chromium")
    a = p.parse_args()
    browser = Browser(a.chromium)
    try:
        browser.call("Page.enable")
        browser.call("DOM.enable")
        browser.call("Emulation.setDeviceMetricsOverride", width=900, height=470, deviceScaleFactor=1, mobile=False)
        browser.call("Page.navigate", url=a.url)
        deadline = time.time() + 30
        while time.time() < deadline and browser.evaluate("document.readyState") != "complete":
            time.sleep(0.1)
        root = browser.call("DOM.getDocument")["root"]["nodeId"]
        node = browser.call("DOM.querySelector", nodeId=root, selector="#file")["nodeId"]
        browser.call("DOM.setFileInputFiles", files=[os.path.abspath(a.photo)], nodeId=node)
        # DOM.setFileInputFiles fires the input's change event itself, as a user's choice does.
        label, bars = "", 0
        deadline = time.time() + 30
        while time.time() < deadline:
            label = browser.evaluate("document.getElementById('label').textContent") or ""
            bars = browser.evaluate("document.querySelectorAll('#chart .bar').length") or 0
            error = browser.evaluate("document.getElementById('error').textContent") or ""
            if (label and label != "…" and bars) or error:
                break
            time.sleep(0.1)
        chart = browser.evaluate("Array.from(document.querySelectorAll('#chart .bar')).map(b => b.textContent.replace(/\\s+/g, ' ').trim())")
        model = browser.evaluate("document.getElementById('model').textContent")
        print(f"page: model line {model!r}; label {label!r}; chart {chart}; error {error!r}")
        if a.screenshot:
            shot = browser.call("Page.captureScreenshot", format="png")
            with open(a.screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
            print("screenshot:", a.screenshot)
        classes = browser.evaluate("fetch('/model').then(r => r.json()).then(m => m.vocab.length)")
        ok = label == a.expect and len(chart) == min(5, classes) and not error
        print("browser test", "passed" if ok else f"FAILED: expected label {a.expect!r} and {min(5, classes)} bars")
        return 0 if ok else 1
    finally:
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
