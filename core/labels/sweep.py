"""The Labels page's shipped results (scripts/labels_sweep.py makes them): test accuracy against the number of
labels for each method, medians over draws of which digits are labelled, and a 2-D map of the encoder's features
of test digits. They carry the encoder's checksum: a new encoder makes them stale, and `load` returns None."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np

from core.labels.encoder import ENCODER_PATH
from core.pictures.data import ASSETS_DIR, file_sha256

SWEEP_PATH = ASSETS_DIR / "labels_sweep.json"
PER_CLASS = {  # labels per class each method is measured at (FixMatch starts from the read-out: not from 1 a class)
    "scratch": (1, 10, 100),
    "linear": (1, 2, 5, 10, 20, 50, 100),
    "fixmatch": (10, 100),
    "propagate": (1, 10, 100),
}
DRAWS = 3
MAP_DIGITS = 2_000  # test digits on the map


def stratified(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """`per_class` digits of each class at random: which digits a draw labels."""
    rng = np.random.default_rng(seed)
    classes = [np.flatnonzero(labels == digit) for digit in range(10)]
    return np.concatenate([rng.choice(members, per_class, replace=False) for members in classes])


def curve(rows: list[dict]) -> dict[str, list[tuple[int, float]]]:
    """Each method's (labels, median test accuracy) from rows of {"method", "labels", "accuracy"}, by labels."""
    points: dict[str, dict[int, list[float]]] = {}
    for row in rows:
        points.setdefault(row["method"], {}).setdefault(row["labels"], []).append(row["accuracy"])
    return {
        method: sorted((labels, statistics.median(scores)) for labels, scores in by_labels.items())
        for method, by_labels in points.items()
    }


def random_median(sweep: dict) -> float:
    """The median test accuracy of the sweep's draws of labels chosen at random (the page's 20, its best method)."""
    return float(statistics.median(row["accuracy"] for row in sweep["random_20"]))


def load(path: Path = SWEEP_PATH, encoder: Path = ENCODER_PATH) -> dict | None:
    """The shipped sweep, or None if there is none or it was made with another encoder."""
    if not path.exists() or not encoder.exists():
        return None
    sweep = json.loads(path.read_text())
    return sweep if sweep.get("encoder_sha256") == file_sha256(encoder) else None
