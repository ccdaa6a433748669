"""A canary planted in the training digits (core.membership) through the runner."""

from __future__ import annotations

import numpy as np

from core import membership
from core.i18n import N_, Text
from core.membership import CANARY_MB, MEMBERS, Canary, plant
from core.pictures.data import NUM_CLASSES, Mnist
from core.runs.child import preload
from core.runs.job import Job


class CanaryJob(Job):
    """A visitor's drawing planted in the members, both networks trained through the job runner; result: [Canary]."""

    what = N_("canary run")

    def __init__(self, drawing: np.ndarray, label: int, data: Mnist, *, passes: int | None = None, **options) -> None:
        if not 0 <= int(label) < NUM_CLASSES:
            raise ValueError(Text("The label must be a digit from 0 to 9."))
        task_args = (drawing, int(label), data, passes or membership.PASSES)  # read now: a test may shorten it
        super().__init__(_plant_task, task_args, memory_mb=CANARY_MB, **options)

    def status(self) -> tuple[float, Text]:
        share = self.progress or 0.0
        which = N_("the network without privacy") if share < 0.5 else N_("its private twin (each digit's own gradient)")
        return share, Text("Training {which} on {count:,} digits and your drawing…", which=Text(which), count=MEMBERS)


def _plant_task(drawing, label, data, passes, *, on_progress, should_stop, keep) -> list[Canary]:
    """In the child: plant, train both, judge; Stop ends it between epochs."""

    def progress(share: float) -> None:
        if should_stop():
            raise InterruptedError(Text("stopped"))
        on_progress(share)

    return plant(drawing, label, data, passes=passes, on_progress=progress)


preload(__name__)  # its task runs in runs' processes: imported once, before they fork
