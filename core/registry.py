"""A visitor's own trained models: named, listed, renamed, deleted, capped in number."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from core.training import TrainConfig, TrainResult

MAX_MODELS = int(os.environ.get("DIGITLAB_MAX_MODELS", "5"))  # per visitor; the oldest goes first


@dataclass
class Run:
    number: int  # 1, 2, ... in the order this visitor trained them
    name: str
    config: TrainConfig
    result: TrainResult
    test_probabilities: np.ndarray | None = field(default=None, repr=False)  # filled by the Evaluate page

    @property
    def model(self) -> keras.Model:
        return self.result.model


def describe(number: int, config: TrainConfig, result: TrainResult) -> str:
    """A run's default name, e.g. "run 3 · cnn · adam 3e-03 · 2 epochs · 98.9%"."""
    stopped = " · stopped" if result.stopped else ""
    return (
        f"run {number} · {config.architecture} · {config.optimizer} {config.learning_rate:.0e} · "
        f"{config.epochs} epochs · {result.test_accuracy:.1%}{stopped}"
    )


@dataclass
class Registry:
    runs: list[Run] = field(default_factory=list)
    trained: int = 0  # runs ever added, for numbering

    def add(self, config: TrainConfig, result: TrainResult) -> Run | None:
        """Add a run; returns the run evicted to stay within MAX_MODELS, if any."""
        self.trained += 1
        self.runs.append(Run(self.trained, describe(self.trained, config, result), config, result))
        return self.runs.pop(0) if len(self.runs) > MAX_MODELS else None

    def get(self, name: str) -> Run | None:
        return next((run for run in self.runs if run.name == name), None)

    def rename(self, old: str, new: str) -> None:
        new = new.strip()
        if not new:
            raise ValueError("a model needs a name")
        if self.get(new) is not None and new != old:
            raise ValueError(f"there is already a model called {new!r}")
        self.get(old).name = new

    def delete(self, name: str) -> None:
        self.runs = [run for run in self.runs if run.name != name]


def keras_bytes(model: keras.Model) -> bytes:
    """The model as the bytes of a .keras file, for a download."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


def comparison_table(runs: list[Run]) -> list[dict]:
    """One row per run: its configuration next to its results, for comparing runs."""
    rows = []
    for run in runs:
        validation = run.result.history["validation"]
        rows.append(
            {
                "name": run.name,
                "architecture": run.config.architecture,
                "optimizer": run.config.optimizer,
                "learning rate": run.config.learning_rate,
                "batch size": run.config.batch_size,
                "epochs": run.config.epochs,
                "training digits": run.config.train_size,
                "augment": run.config.augment,
                "parameters": run.model.count_params(),
                "seconds": round(run.result.seconds, 1),
                "validation accuracy": validation[-1][2] if validation else None,
                "test accuracy": run.result.test_accuracy,
                "stopped": run.result.stopped,
            }
        )
    return rows
