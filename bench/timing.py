"""The timing the benchmarks share: a median over repeats, after one warm-up call."""

from __future__ import annotations

import statistics
import time


def median_seconds(function, repeats: int) -> float:
    function()  # warm up: traces and caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
