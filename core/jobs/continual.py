"""A continual-learning run (core.continual) through the runner: tasks learnt in turn, the matrix filling in."""

from __future__ import annotations

from core.continual import MEMORY_MB, TASK_NAMES, ContinualConfig, run
from core.i18n import N_, Text
from core.pictures.data import Mnist
from core.runs.job import Job


class ContinualJob(Job):
    """A continual-learning run through the job runner: tasks learnt in turn, the matrix filling in as it goes."""

    what = N_("continual-learning run")

    def __init__(self, config: ContinualConfig, data: Mnist, **options) -> None:
        super().__init__(run, (config, data), memory_mb=MEMORY_MB, **options)

    def status(self) -> tuple[float, Text]:
        progress = self.progress
        if progress is None:
            return 0.0, Text("Preparing the data…")
        return (
            progress.step / progress.steps,
            Text(
                "Learning {task} · step {step}/{steps}",
                task=TASK_NAMES[progress.task - 1],
                step=progress.step,
                steps=progress.steps,
            ),
        )
