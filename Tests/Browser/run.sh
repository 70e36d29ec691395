#!/usr/bin/env bash
# The served page in a real browser (.ci/run runs this when Chromium is present): trains the
# photos recipe briefly and exports it, serves the export with `fastswift serve`, and has headless
# Chromium upload a bundled photo through the page's file input and read the label and chart
# (Tests/Browser/browser_test.py). With SCREENSHOT=FILE, also saves the page as a PNG.
#
#     Tests/Browser/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
chromium="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$chromium" ]; then
    echo "browser test skipped: no Chromium here (Debian: apt-get install chromium)"
    exit 0
fi
work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
for product in photos fastswift; do swift build -c release --product "$product" >/dev/null; done
bin="$(swift build -c release --show-bin-path)"
"$bin/photos" --epochs 4 --export "$work/photos.safetensors" >"$work/train.log"
photo="$(ls Sources/Vision/Resources/photos_sample/cat_*.jpg | head -1)"
# What the model itself says of the photo: the page must show the same.
expect="$("$bin/fastswift" predict "$work/photos.safetensors" "$photo" --json | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["label"])')"
port=$((20000 + RANDOM % 20000))
"$bin/fastswift" serve "$work/photos.safetensors" --port "$port" 2>"$work/serve.log" &
server=$!
for _ in $(seq 1 100); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/health')" 2>/dev/null; then break; fi
    sleep 0.1
done
python3 Tests/Browser/browser_test.py --url "http://127.0.0.1:$port/" --photo "$photo" --expect "$expect" \
    ${SCREENSHOT:+--screenshot "$SCREENSHOT"} --chromium "$chromium"
