"""A visitor's own trained models: named, listed, renamed, deleted, capped in number."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from core.i18n import N_, Text, _
from core.models import SHIPPED_MODELS
from core.training.config import TrainConfig
from core.training.loop import TrainResult

MAX_MODELS = int(os.environ.get("DIGITLAB_MAX_MODELS", "5"))  # per visitor; the oldest goes first


@dataclass
class Run:
    number: int  # 1, 2, ... in the order this visitor added them
    name: str
    model: keras.Model
    test_accuracy: float  # on MNIST's 10,000 test digits
    config: TrainConfig | None = None  # None for a model the visitor uploaded
    result: TrainResult | None = None  # how training went; None for an upload
    test_probabilities: np.ndarray | None = field(default=None, repr=False)  # (10000, 10), filled when first needed
    derived: dict = field(default_factory=dict, repr=False)  # what pages computed from the model, kept with it


def describe(number: int, config: TrainConfig, result: TrainResult) -> str:
    """A run's default name, e.g. "run 3 · cnn · adam 3e-03 · 2 epochs · 98.9%", in the language of the run that
    names it (a name is the visitor's to change: it stays as made)."""
    stopped = _(" · stopped") if result.stopped else ""
    taught = _(" · distilled from {teacher}").format(teacher=result.teacher) if result.teacher else ""
    robust = _(" · robust ε {eps:g}").format(eps=config.adversarial_eps) if config.adversarial_eps else ""
    cleaned = _(" · {count:,} suspects left out").format(count=config.drop_suspects) if config.drop_suspects else ""
    cleaned += _(" · {count} labels corrected").format(count=result.corrected) if result.corrected else ""
    cleaned += _(" · private ε {eps:.2g}").format(eps=result.privacy.epsilon) if result.privacy else ""
    return (
        _("run {number} · {architecture} · {optimizer} {rate:.0e} · {epochs} epochs{more} · {accuracy:.1%}").format(
            number=number,
            architecture=config.architecture,
            optimizer=config.optimizer,
            rate=config.learning_rate,
            epochs=config.epochs,
            more=robust + taught + cleaned,
            accuracy=result.test_accuracy,
        )
        + stopped
    )


@dataclass
class Registry:
    runs: list[Run] = field(default_factory=list)
    trained: int = 0  # runs ever added, for numbering

    def add(self, config: TrainConfig, result: TrainResult) -> Run | None:
        """Add a trained run; returns the run evicted to stay within MAX_MODELS, if any."""
        number = self.trained + 1
        return self._append(
            Run(number, describe(number, config, result), result.model, result.test_accuracy, config, result)
        )

    def add_upload(
        self, filename: str, model: keras.Model, test_probabilities: np.ndarray, test_accuracy: float
    ) -> Run | None:
        """Add a model the visitor uploaded; returns the run evicted to stay within MAX_MODELS, if any."""
        return self.add_model("upload", Path(filename).stem, model, test_probabilities, test_accuracy)

    def add_model(
        self, kind: str, source: str, model: keras.Model, test_probabilities: np.ndarray | None, test_accuracy: float
    ) -> Run | None:
        """Add a model made elsewhere (uploaded, personalised, pruned, ...), named e.g. "upload 3 · mynet · 99.1%".

        `model` may also be a core.quantize.LiteModel: a .tflite file the pages read through the interpreter.
        """
        number = self.trained + 1
        name = f"{kind} {number} · {source[:40]} · {test_accuracy:.1%}"
        return self._append(Run(number, name, model, test_accuracy, test_probabilities=test_probabilities))

    def _append(self, run: Run) -> Run | None:
        self.trained += 1
        self.runs.append(run)
        return self.runs.pop(0) if len(self.runs) > MAX_MODELS else None

    def get(self, name: str) -> Run | None:
        return next((run for run in self.runs if run.name == name), None)

    def rename(self, old: str, new: str) -> None:
        new = new.strip()
        if not new:
            raise ValueError(Text("a model needs a name"))
        if (self.get(new) is not None and new != old) or new in SHIPPED_MODELS:
            raise ValueError(Text("there is already a model called {new!r}", new=new))
        self.get(old).name = new

    def delete(self, name: str) -> None:
        self.runs[:] = [run for run in self.runs if run.name != name]  # in place: others may hold this list


def summary(run: Run) -> str:
    """One line under a run's name: size, training time and accuracies, in the visitor's language."""
    parts = [_("{count:,} parameters").format(count=run.model.count_params())]
    if run.result is None:
        parts.append(_("uploaded"))
    else:
        validation = run.result.history["validation"]
        parts.append(f"{run.result.seconds:.0f} s")
        parts += [_("validation {accuracy:.1%}").format(accuracy=validation[-1][2])] if validation else []
        if run.result.robust_accuracy is not None:
            parts.append(
                _("{accuracy:.1%} of 1,000 under PGD-20 at ε {eps:g}").format(
                    accuracy=run.result.robust_accuracy, eps=run.config.adversarial_eps
                )
            )
    return " · ".join(parts + [_("test {accuracy:.2%}").format(accuracy=run.test_accuracy)])


def comparison_table(runs: list[Run]) -> list[dict]:
    """One row per run: its configuration next to its results, for comparing runs (its columns marked with N_:
    the page names them in the visitor's language)."""
    rows = []
    for run in runs:
        row = {N_("name"): run.name, N_("parameters"): run.model.count_params(), N_("test accuracy"): run.test_accuracy}
        if run.config is not None:  # trained here, not uploaded
            validation = run.result.history["validation"]
            row |= {
                N_("architecture"): run.config.architecture,
                N_("optimizer"): run.config.optimizer,
                N_("learning rate"): run.config.learning_rate,
                N_("batch size"): run.config.batch_size,
                N_("epochs"): run.config.epochs,
                N_("training digits"): run.config.train_size,
                N_("augment"): run.config.augment,
                N_("adversarial ε"): run.config.adversarial_eps,
                N_("accuracy under attack"): run.result.robust_accuracy,
                N_("seconds"): round(run.result.seconds, 1),
                N_("validation accuracy"): validation[-1][2] if validation else None,
                N_("stopped"): run.result.stopped,
            }
        rows.append(row)
    return rows
