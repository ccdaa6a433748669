"""A training as a run of the job runner: its cost checked first, its model handed back as it goes."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import keras

from core.distill import Distillation
from core.i18n import N_, Text
from core.models import model_bytes, model_from_bytes
from core.pictures.data import Mnist
from core.runs.child import preload
from core.runs.host import HOST
from core.runs.job import MAX_SECONDS, Job
from core.runs.line import running
from core.training.budget import estimate, pace
from core.training.config import TrainConfig
from core.training.loop import TrainResult, score, train

TEACHER_MB = 300.0  # a distillation's teacher and its activations, on top of the student's estimate


class TrainingJob(Job):
    """One training run, perhaps distilled from a teacher; the page polls `progress` and `result` (a TrainResult)."""

    what = N_("training")

    def __init__(
        self,
        config: TrainConfig,
        data: Mnist,
        *,
        distillation: Distillation | None = None,
        corrections: Mapping[int, int | None] | None = None,
        max_seconds: float = MAX_SECONDS,
        **owner,
    ) -> None:
        """`owner`: who the run belongs to (Job's owner, owner_present, address, priority)."""
        config.validate()
        if distillation is not None:
            distillation.validate()
        self.cost = estimate(config)
        refusal = self.cost.over_budget()
        if refusal:
            raise ValueError(refusal)
        self.config, self.data = config, data
        memory_mb = self.cost.memory_mb + (TEACHER_MB if distillation else 0.0)
        expected = min(self.cost.seconds * pace(running() + 1, HOST.cpus), max_seconds)
        super().__init__(
            _train_task,
            (config, data, distillation, dict(corrections or {})),
            memory_mb=memory_mb,
            max_seconds=max_seconds,
            expected_seconds=expected,
            **owner,
        )

    def status(self) -> tuple[float, Text]:
        progress = self.progress
        if self.ended is not None:
            return 1.0, Text("Scoring the model on the 10,000 test digits…")
        if progress is None:
            return 0.0, Text("Preparing the data…")
        return progress.step / progress.steps, Text(
            "Epoch {epoch}/{epochs} · step {step}/{steps} · about {seconds:.0f} s left",
            epoch=progress.epoch,
            epochs=progress.epochs,
            step=progress.step,
            steps=progress.steps,
            seconds=progress.seconds_left,
        )

    def _kept(self, value: bytes) -> keras.Model:
        return model_from_bytes(value)  # the model, as a .keras file, before the child scores it on the test set

    def _finish(self, result: TrainResult, kept: keras.Model) -> TrainResult:
        return dataclasses.replace(result, model=kept)

    def _after_stop(self, model: keras.Model | None) -> None:
        """Keep the model the child handed over, scored on the test set here, or say why there is none."""
        if model is None:
            began = self.progress is not None
            self.error = (
                Text("Stopped in the middle of a step, so there is no model to keep.")
                if began
                else Text("Stopped before training began.")
            )
            return
        history = self.progress.history if self.progress else {"train": [], "validation": []}
        seconds = self.progress.seconds if self.progress else 0.0
        accuracy, robust = score(model, self.config, self.data)
        teacher = self.args[2].teacher_name if self.args[2] else None
        corrected = len(self.args[3])
        self.result = TrainResult(
            model,
            history,
            accuracy,
            seconds,
            stopped=True,
            robust_accuracy=robust,
            teacher=teacher,
            corrected=corrected,
        )


def _train_task(
    config: TrainConfig,
    data: Mnist,
    distillation: Distillation | None,
    corrections: dict[int, int | None],
    *,
    on_progress,
    should_stop,
    keep,
) -> TrainResult:
    """In the child: train, hand over the model as soon as it is fitted (Stop need not wait for the scoring)."""
    result = train(
        config,
        data,
        on_progress=on_progress,
        should_stop=should_stop,
        on_fitted=lambda model: keep(model_bytes(model)),
        distillation=distillation,
        corrections=corrections,
    )
    return dataclasses.replace(result, model=None)  # the model came with "kept"


preload(__name__)  # its functions run in runs' processes: imported once, before they fork
