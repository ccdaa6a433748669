"""The Scale page's shipped sweep: the Train page's CNN at 5 widths, each on 6 numbers of training digits.

Every run is `core.scale.config(width, size)` (seed 0), trained as the Train page trains, and read on MNIST's 10,000
test digits; which digits it erred on and its loss on each are kept for the exponents' intervals.
Run from the repository root; anyone can re-run it (about 25 minutes on 2 cores):
  python -m scripts.scale_sweep
  python -m scripts.scale_sweep --width 4 --size 500 --no-write     # one point, to check it
  python -m scripts.scale_sweep --report                            # the shipped sweep's laws and intervals
Writes assets/scale_sweep.npz and its card assets/scale_sweep.json, with the machine and the time it took.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from core import scale
from core.models import predict_proba
from core.pictures.data import MNIST_PATH, file_sha256, load_mnist
from core.training.loop import train


def run(width: int, size: int, data) -> tuple[dict, np.ndarray, np.ndarray]:
    config = scale.config(width, size)
    started = time.perf_counter()
    result = train(config, data)
    seconds = time.perf_counter() - started
    wrong, losses = scale.outcome(predict_proba(result.model, data.x_test / np.float32(255)), data.y_test)
    return scale.row(config, wrong, losses, seconds), wrong, losses


def main(widths, sizes, to_write: bool) -> None:
    os.nice(10)
    data, started = load_mnist(), time.perf_counter()
    runs, wrongs, losses = [], [], []
    for width in widths:
        for size in sizes:
            row, wrong, loss = run(width, size, data)
            runs.append(row)
            wrongs.append(wrong)
            losses.append(loss)
            print(
                f"width {width:>2} ({row['parameters']:>9,} parameters), {row['digits']:>6,} digits: "
                f"error {row['error']:.2%}, loss {row['loss']:.3f}, {row['seconds']:.0f} s",
                flush=True,
            )
    if not to_write:
        return
    card = {
        "seconds": round(time.perf_counter() - started),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "mnist_sha256": file_sha256(MNIST_PATH),
        "command": "python -m scripts.scale_sweep",
        "presentations": scale.PRESENTATIONS,
    }
    scale.save(runs, np.stack(wrongs), np.stack(losses), card)
    print(f"-> {scale.SWEEP_PATH} and {scale.CARD_PATH.name}, {card['seconds'] / 60:.0f} min")


def report() -> None:
    """The shipped sweep's laws, as the Scale page fits them."""
    sweep = scale.shipped()
    if sweep is None:
        raise SystemExit("no sweep shipped: run python -m scripts.scale_sweep")
    print(f"{len(sweep.runs)} runs, made in {sweep.card['seconds'] / 60:.0f} min on {sweep.card['machine']}")
    for axis in scale.AXES:
        for metric in ("error", "loss"):
            trend = sweep.trend(axis, metric)
            low, high = trend.interval
            print(
                f"{metric} against {axis} ({trend.held}, {len(trend.x)} points): {trend.law.a:.3g}·x^−"
                f"{trend.law.alpha:.3f} + {trend.law.c:.4f}; α 95% interval {low:.3f}–{high:.3f}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, action="append", choices=scale.WIDTHS)
    parser.add_argument("--size", type=int, action="append", choices=scale.SIZES)
    parser.add_argument("--no-write", action="store_true", help="print, do not write the asset")
    parser.add_argument("--report", action="store_true", help="print the shipped sweep's laws; train nothing")
    arguments = parser.parse_args()
    if arguments.report:
        raise SystemExit(report())
    main(tuple(arguments.width or scale.WIDTHS), tuple(arguments.size or scale.SIZES), not arguments.no_write)
