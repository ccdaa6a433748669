"""The Scale page's laws, checked against the shipped sweep: does error = a·x^−α + c, fitted without its largest
point, foretell that point better than a pure power law (c = 0, the baseline) fitted the same way?

Run from the repository root: `python -m bench.scale` (seconds; it trains nothing, it reads assets/scale_sweep.npz).
Along parameters and digits, each law is fitted to all points but the largest x and asked for the largest; the
error of the forecast is |log(forecast / measured)|, reported as a ratio. Along compute, the frontier's last point.
"""

from __future__ import annotations

import math
import time

import numpy as np

from core import scale


def forecast(x, y, *, floor: bool) -> float:
    law = scale.fit(x[:-1], y[:-1], floor=floor)
    return float(law(x[-1]))


def main() -> None:
    sweep = scale.shipped()
    if sweep is None:
        raise SystemExit("no sweep shipped: python -m scripts.scale_sweep")
    print("| axis | measure | points | measured at the largest | law with a floor | pure power law (baseline) |")
    print("|---|---|---|---|---|---|")
    misses = {True: [], False: []}
    for axis in scale.AXES:
        for metric in ("error", "loss"):
            trend = sweep.trend(axis, metric)
            x, y = np.array(trend.x), np.array(trend.y)
            cells = []
            for floor in (True, False):
                predicted = forecast(x, y, floor=floor)
                miss = abs(math.log(predicted / y[-1]))
                misses[floor].append(miss)
                cells.append(f"{predicted:.4f} (×{math.exp(miss):.2f})")
            print(f"| {axis} | {metric} | {len(x)} | {y[-1]:.4f} | {cells[0]} | {cells[1]} |")
    with_floor, without = (float(np.median(misses[f])) for f in (True, False))
    print(
        f"\nmedian forecast off by ×{math.exp(with_floor):.2f} with a floor, ×{math.exp(without):.2f} without "
        f"(the baseline): {math.exp(without - with_floor):.2f}x closer with it"
    )
    started = time.perf_counter()
    for axis in scale.AXES:
        sweep.trend(axis, "error")
    print(
        f"the page's three trends with their {scale.BOOTSTRAP_DRAWS} resamples: {time.perf_counter() - started:.2f} s"
    )


if __name__ == "__main__":
    main()
