"""Other architectures, measured: each one's time to 98.5% and to 99.0% test accuracy with its Train page preset,
against the default CNN's quick preset in the same run, on this machine's cores.

Run from the repository root: `python -m bench.architectures` (about 40 minutes on 2 cores with 3 seeds;
`--seeds 1 --architecture transformer` for one). Test accuracy is read after every epoch on the 10,000 test digits,
its reading time left out of the clock. Medians over seeds; "—" where a run never reached the mark.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import keras
import numpy as np

from core.models import predict_proba
from core.pictures.data import load_mnist
from core.training.config import PRESETS
from core.training.loop import train

MARKS = (0.985, 0.99)
BASELINE = "quick"  # the default CNN's preset
ARCHITECTURES = ("resnet", "rnn", "transformer")


class TestClock(keras.callbacks.Callback):
    """After each epoch: the seconds of training so far (reading the test digits excluded) and the test accuracy."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        super().__init__()
        self.images, self.labels, self.points, self.paused = images, labels, [], 0.0

    def on_train_begin(self, logs=None) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None) -> None:
        reading = time.perf_counter()
        accuracy = float((predict_proba(self.model, self.images).argmax(axis=1) == self.labels).mean())
        self.points.append((reading - self.started - self.paused, accuracy))
        self.paused += time.perf_counter() - reading


def first_time(points: list[tuple[float, float]], mark: float) -> float | None:
    return next((seconds for seconds, accuracy in points if accuracy >= mark), None)


def measure(preset: str, seeds: int, data) -> dict:
    images = data.x_test / np.float32(255)
    runs = []
    for seed in range(seeds):
        clock = TestClock(images, data.y_test)
        result = train(dataclasses.replace(PRESETS[preset], seed=seed), data, callbacks=[clock])
        runs.append((clock.points, result.test_accuracy, result.model.count_params()))
    times = {}
    for mark in MARKS:
        reached = [first_time(points, mark) for points, _, _ in runs]
        times[mark] = statistics.median(reached) if all(t is not None for t in reached) else None
    return {
        "accuracy": statistics.median(accuracy for _, accuracy, _ in runs),
        "parameters": runs[0][2],
        "times": times,
        "last": statistics.median(points[-1][0] for points, _, _ in runs),
    }


def shown(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.0f} s"


def main(seeds: int, architectures: tuple[str, ...]) -> None:
    data = load_mnist()
    baseline = measure(BASELINE, seeds, data)
    print("| preset | parameters | test accuracy | to 98.5% | to 99.0% | whole run | × the CNN's whole run |")
    print("|---|---|---|---|---|---|---|")
    rows = [(BASELINE + " (CNN)", baseline)] + [(name, measure(name, seeds, data)) for name in architectures]
    for name, row in rows:
        print(
            f"| {name} | {row['parameters']:,} | {row['accuracy']:.2%} | {shown(row['times'][0.985])} | "
            f"{shown(row['times'][0.99])} | {row['last']:.0f} s | {row['last'] / baseline['last']:.1f}× |",
            flush=True,
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--architecture", action="append", choices=ARCHITECTURES)
    arguments = parser.parse_args()
    main(arguments.seeds, tuple(arguments.architecture or ARCHITECTURES))
