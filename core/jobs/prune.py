"""A pruning (core.prune) through the runner."""

from __future__ import annotations

from core.i18n import N_, Text
from core.pictures.data import Mnist
from core.prune import MEMORY_MB, prune
from core.runs.job import Job


class PruneJob(Job):
    """Pruning a model (as a .keras file's bytes) to `sparsity` while it fine-tunes, through the job runner."""

    what = N_("pruning")

    def __init__(self, model_data: bytes, sparsity: float, data: Mnist, **options) -> None:
        super().__init__(prune, (model_data, sparsity, data), memory_mb=MEMORY_MB, **options)

    def status(self) -> tuple[float, Text]:
        report = self.progress
        if report is None:
            return 0.0, Text("Starting…")
        return report.step / report.steps, Text(
            "Pruning to {sparsity:.0%} · step {step}/{steps}",
            sparsity=report.sparsity,
            step=report.step,
            steps=report.steps,
        )
