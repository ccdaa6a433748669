"""How well a training's cost is estimated before it starts: estimate against the real run, per config.

    python -m bench.train_cost

Each config trains through the app's own job runner (a child process at lower priority), one at a
time; the child's peak memory (VmHWM) and the run's wall time are measured and set against
`core.training.budget.estimate`. Baseline in the same run: the `quick` preset's own ratio, so a noisy machine
shows as every ratio moving together. Also: how long Stop takes to end a run of the largest allowed
network, which must be under 2 s.
"""

from __future__ import annotations

import dataclasses
import statistics
import time

from core.pictures.data import load_mnist
from core.runs.child import warm_forkserver
from core.training.budget import MAX_TRAIN_MB, estimate, fit_to_budget
from core.training.config import PRESETS, TrainConfig
from core.training.job import TrainingJob

CONFIGS = {
    "quick, 1 epoch of 30,000": dataclasses.replace(PRESETS["quick"], epochs=1, train_size=30_000),
    "tiny_mlp": PRESETS["tiny_mlp"],
    "mlp 512, 1 epoch": TrainConfig(architecture="mlp", dense_units=512, epochs=1, train_size=30_000),
    "accurate, 1 epoch of 5,000": dataclasses.replace(PRESETS["accurate"], epochs=1, train_size=5_000),
    "cnn 64 filters, batch 128": TrainConfig(filters=64, batch_size=128, epochs=1, train_size=10_000),
    "largest within budget": fit_to_budget(
        TrainConfig(
            architecture="deep_cnn",
            conv_blocks=3,
            filters=64,
            dense_units=512,
            batch_size=512,
            epochs=1,
            train_size=5_000,
        )
    )[0],
}


def peak_megabytes(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return 0.0


def measure(config: TrainConfig, data) -> tuple[float, float]:
    """(peak memory of the training process in MB, wall seconds from start to result)."""
    job = TrainingJob(config, data, max_seconds=900)
    started = time.monotonic()
    job.start()
    peak = 0.0
    while job.running:
        if job.pid:
            peak = max(peak, peak_megabytes(job.pid))
        time.sleep(0.05)
    assert job.result is not None, job.error
    return peak, time.monotonic() - started


def stop_seconds(config: TrainConfig, data) -> tuple[float, float]:
    """(seconds from Stop to the training process's end, to the model scored and kept)."""
    job = TrainingJob(config, data)
    job.start()
    while job.progress is None or job.progress.step < 3:
        time.sleep(0.05)
    asked = time.monotonic()
    job.stop()
    while job.running:
        time.sleep(0.01)
    assert job.result is not None and job.result.stopped, job.error
    return job.ended - asked, time.monotonic() - asked


def main() -> None:
    data = load_mnist()
    warm_forkserver()
    print(f"memory budget per training: {MAX_TRAIN_MB:.0f} MB")
    print(f"{'config':28s} {'est MB':>7s} {'real MB':>8s} {'ratio':>6s}   {'est s':>6s} {'real s':>7s} {'ratio':>6s}")
    ratios = []
    for name, config in CONFIGS.items():
        cost = estimate(config)
        peak, seconds = measure(config, data)
        ratios.append((peak / cost.memory_mb, seconds / cost.seconds))
        print(
            f"{name:28s} {cost.memory_mb:7.0f} {peak:8.0f} {ratios[-1][0]:6.2f}   "
            f"{cost.seconds:6.1f} {seconds:7.1f} {ratios[-1][1]:6.2f}",
            flush=True,
        )
    memory, time_ = zip(*ratios, strict=True)
    print(
        f"real/estimate, median: memory {statistics.median(memory):.2f} (max {max(memory):.2f}), "
        f"time {statistics.median(time_):.2f} (range {min(time_):.2f}-{max(time_):.2f})"
    )
    largest, _ = fit_to_budget(dataclasses.replace(CONFIGS["largest within budget"], epochs=5, train_size=60_000))
    stops = [stop_seconds(largest, data) for _ in range(3)]
    print(
        "Stop of the largest network within budget, process ended after: "
        f"{', '.join(f'{ended:.2f}' for ended, _ in stops)} s (target < 2 s); "
        f"model scored and kept after: {', '.join(f'{kept:.2f}' for _, kept in stops)} s"
    )


if __name__ == "__main__":
    main()
