"""What the comparison scripts share: timing as the Swift suite does it, and running the suite."""
import json
import subprocess
import time


def measure(fn, min_seconds):
    """One warm-up call, then repeated calls for at least `min_seconds` (and at least 3); the
    fastest call's seconds, like `measure` in Benchmarks/Suite/Harness.swift."""
    fn()
    best, total, runs = float("inf"), 0.0, 0
    while runs < 3 or total < min_seconds:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best, total, runs = min(best, dt), total + dt, runs + 1
    return best


def fastswift_suite(suite, threads, min_seconds):
    """The JSON rows of `swift run -c release benchmarks <suite>` for one thread count."""
    out = subprocess.run(["swift", "run", "-c", "release", "benchmarks", suite, "--json", "--threads", str(threads),
                          "--min-seconds", str(min_seconds)], check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]
