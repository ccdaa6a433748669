"""The reference run: the Quick preset trained ahead on this kind of machine (`python -m scripts.prepare`).

The Train page shows its curves before a visitor's first run, so a talk or a class sees what training looks like at
once; the Data page compares a cleaned run with it. Kept in assets/prepared/ with the checksum of the data it trained
on and its whole configuration: if either changes, `load` finds none (core/prepared.py).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core import prepared
from core.pictures.data import MNIST_PATH
from core.training.config import PRESETS

if TYPE_CHECKING:  # TensorFlow only where a run trains
    from core.training.loop import TrainResult

CONFIG = dataclasses.replace(PRESETS["quick"], seed=0)
KIND = "quick-reference"
SPLITS = ("train", "validation")  # the history's series: (step, loss, accuracy) each


@dataclass(frozen=True)
class Reference:
    test_accuracy: float
    seconds: float
    history: dict[str, list[tuple[int, float, float]]]  # as TrainResult.history


def save(result: TrainResult) -> Path:
    record = {"test_accuracy": [result.test_accuracy], "seconds": [result.seconds]}
    record |= {split: result.history.get(split, []) for split in SPLITS}
    return prepared.save(KIND, MNIST_PATH, record, result.seconds, settings=dataclasses.asdict(CONFIG))


def load() -> Reference | None:
    """The prepared reference run, or None if there is none or it is stale."""
    record = prepared.load(KIND, MNIST_PATH, dataclasses.asdict(CONFIG))
    if record is None:
        return None
    history = {split: [(int(s), float(loss), float(acc)) for s, loss, acc in record[split]] for split in SPLITS}
    return Reference(float(record["test_accuracy"][0]), float(record["seconds"][0]), history)
