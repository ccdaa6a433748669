"""Other architectures, measured: each one's time to 98.5% and to 99.0% test accuracy with its Train page preset,
against the default CNN's quick preset in the same run, on this machine's cores.

Run from the repository root: `python -m bench.architectures` (about 40 minutes on 2 cores with 3 seeds;
`--seeds 1 --architecture transformer` for one). Test accuracy is read after every epoch on the 10,000 test digits,
its reading time left out of the clock. Medians over seeds, a seed that never reached a mark counting as never;
"—" where the median never reached it. `--write` keeps the rows in assets/architectures.json (each seed's curve too)
for the Scale page, replacing only the presets run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import statistics
import time

import keras
import numpy as np

from core import scale
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
    runs, losses = [], []
    config = PRESETS[preset]
    for seed in range(seeds):
        clock = TestClock(images, data.y_test)
        result = train(dataclasses.replace(config, seed=seed), data, callbacks=[clock])
        runs.append((clock.points, result.test_accuracy, result.model.count_params()))
        losses.append(float(scale.outcome(predict_proba(result.model, images), data.y_test)[1].mean()))
    times = {}
    for mark in MARKS:
        reached = [first_time(points, mark) for points, _, _ in runs]  # a seed that never reached it: never
        median = statistics.median(math.inf if t is None else t for t in reached)
        times[mark] = None if math.isinf(median) else median
    accuracy = statistics.median(accuracy for _, accuracy, _ in runs)
    return {
        "accuracy": accuracy,
        "error": 1.0 - accuracy,
        "loss": statistics.median(losses),
        **{axis: scale.position(config, axis) for axis in scale.AXES},
        "times": times,
        "last": statistics.median(points[-1][0] for points, _, _ in runs),
        "seeds": [{"accuracy": accuracy, "curve": points} for points, accuracy, _ in runs],  # (seconds, accuracy)
    }


def _written(row: dict) -> dict:
    return {**row, "times": {str(mark): seconds for mark, seconds in row["times"].items()}}


def _keyed(times: dict) -> dict:
    return {str(mark): seconds for mark, seconds in times.items()}


def shown(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.0f} s"


def main(seeds: int, architectures: tuple[str, ...], to_write: bool) -> None:
    data, started = load_mnist(), time.perf_counter()
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
    if to_write:  # where each architecture sits on the Scale page
        card = {
            "seeds": seeds,
            "seconds": round(time.perf_counter() - started),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "command": "python -m bench.architectures --write",
            "presets": {name.split(" ")[0]: {**row, "times": _keyed(row["times"])} for name, row in rows},
        }
        try:  # a run of some architectures keeps the others' rows
            card["presets"] = {**json.loads(scale.ARCHITECTURES_PATH.read_text())["presets"], **card["presets"]}
        except (OSError, ValueError, KeyError):
            pass
        scale.ARCHITECTURES_PATH.write_text(json.dumps(card, indent=1) + "\n")
        print(f"-> {scale.ARCHITECTURES_PATH}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--architecture", action="append", choices=ARCHITECTURES)
    parser.add_argument("--write", action="store_true", help="write assets/architectures.json for the Scale page")
    arguments = parser.parse_args()
    main(arguments.seeds, tuple(arguments.architecture or ARCHITECTURES), arguments.write)
