"""Inference latency of the Draw page's path, against model.predict in the same run; and cold start.

Run from the repository root: `python -m bench.inference` (about a minute; add --no-browser to skip
the cold-start measurement, which needs Debian's chromium).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

import numpy as np

from core.models import kept_for_server, load_default_model
from core.pictures.data import load_mnist
from core.pictures.preprocess import to_mnist
from core.reading import read_picture
from harness.photos import paste_digit


def percentiles(seconds: list[float]) -> tuple[float, float]:
    """(p50, p95) in milliseconds."""
    ms = np.array(seconds) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def time_calls(function, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def inference(repeats: int) -> None:
    model = kept_for_server(load_default_model())
    drawing = paste_digit(load_mnist().x_test[0], size=200, top=30, left=50)  # (280, 280, 4) uint8, like the canvas

    def fast() -> None:
        read_picture(model, drawing)

    def baseline() -> None:
        model.predict(to_mnist(drawing)[None], verbose=0)

    for function in (fast, baseline):
        time_calls(function, 10)  # warm up: graph tracing, caches
    # Interleave the two paths so a noisy neighbour slows both alike.
    fast_times, baseline_times = [], []
    for _ in range(repeats // 10):
        fast_times += time_calls(fast, 10)
        baseline_times += time_calls(baseline, 10)
    fast_p50, fast_p95 = percentiles(fast_times)
    base_p50, base_p95 = percentiles(baseline_times)
    print(f"canvas drawing (280x280 RGBA) -> probabilities, {len(fast_times)} calls each")
    print(f"  app path (to_mnist + traced graph):      p50 {fast_p50:.2f} ms  p95 {fast_p95:.2f} ms")
    print(f"  baseline (to_mnist + model.predict):     p50 {base_p50:.2f} ms  p95 {base_p95:.2f} ms")
    print(f"  ratio app/baseline p50: {fast_p50 / base_p50:.3f}  (target <= 0.125; p50 target <= 5 ms)")


def cold_start(runs: int) -> None:
    from harness.browser import browser_page, open_draw_page, running_app

    seconds = []
    for _ in range(runs):
        subprocess.run(["sync"], check=False)
        start = time.perf_counter()
        with running_app() as url, browser_page() as page:
            open_draw_page(page, url, settle=False)
            seconds.append(time.perf_counter() - start)
    print(f"cold start (process start -> Draw page ready in Chromium), {runs} runs:")
    runs_text = ", ".join(f"{s:.2f}" for s in seconds)
    print(f"  median {statistics.median(seconds):.2f} s  all {runs_text}  (target <= 10 s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--cold-starts", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    inference(args.repeats)
    if not args.no_browser:
        cold_start(args.cold_starts)
