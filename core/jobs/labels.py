"""A fit from a few labels (core.labels) through the runner."""

from __future__ import annotations

from core.i18n import N_, Text
from core.labels.few import EXPECTED_SECONDS, MEMORY_MB, learn
from core.pictures.data import Mnist
from core.runs.job import Job


class LabelsJob(Job):
    """Training on a visitor's labels by one of core.labels' methods, scored on the test digits."""

    what = N_("training on your labels")

    def __init__(self, indices, labels, method: str, data: Mnist, *, seed: int = 0, **options) -> None:
        super().__init__(
            learn,
            (indices, labels, method, seed, data),
            memory_mb=MEMORY_MB,
            expected_seconds=EXPECTED_SECONDS[method],
            **options,
        )

    def status(self) -> tuple[float, Text]:
        progress = self.progress
        if progress is None:
            return 0.0, Text("Loading the encoder…")
        return progress.step / progress.steps, progress.text()
