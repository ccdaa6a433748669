"""The quantizations of a model (core.quantize) through the runner."""

from __future__ import annotations

from core.i18n import N_, Text
from core.pictures.data import Mnist
from core.quantize import MEMORY_MB, quantize
from core.runs.job import Job


class QuantizeJob(Job):
    """Quantizing a model (as a .keras file's bytes) into each of `names`, through the job runner."""

    what = N_("quantization")

    def __init__(self, model_data: bytes, data: Mnist, source: str, names: tuple[str, ...], **options) -> None:
        super().__init__(quantize, (model_data, data, source, names), memory_mb=MEMORY_MB, **options)

    def status(self) -> tuple[float, Text]:
        return (
            self.progress if self.progress is not None else (0.0, Text("Starting…"))
        )  # quantize reports (share, what)
