"""The variants a visitor's Compress runs made: each run through the job runner, one at a time, adding measured files.

Quantizing measures a model's TFLite files. Pruning and distilling make a new Keras model: it joins the
sidebar like any run, and its float32 and int8 files are then measured the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.distill import Distillation
from core.jobs.prune import PruneJob
from core.jobs.quantize import QuantizeJob
from core.models import model_bytes, model_from_bytes
from core.prune import Pruned
from core.quantize import QUANTIZATIONS, LiteModel, Variant
from core.runs.job import Job
from core.runs.line import ServerBusyError
from core.training.config import STUDENTS
from core.training.job import TrainingJob
from ui.models import mnist, model, registry
from ui.session import job_owner

SHIPPED_FORMATS = ("float32", "int8")  # measured for each model pruning or distillation makes
MAX_VARIANTS = 24  # rows kept in a visitor's table; the oldest go first


@dataclass
class Pending:
    """This visitor's compression run."""

    what: str  # "quantize", "prune", "distill" or "alone"
    job: Job
    source: str  # the model it works on, as the sidebar names it


def pending() -> Pending | None:
    return st.session_state.get("compress_pending")


def variants() -> list[Variant]:
    return st.session_state.setdefault("compress_variants", [])


def start(what: str, label: str, **options) -> None:
    """Start this visitor's run ("quantize", "prune", "distill" or "alone") on a model; a refusal is said here."""
    try:
        job = _JOBS[what](label, **options)
        job.start()
    except (ServerBusyError, ValueError) as error:  # the server at its limit, or a configuration over budget
        st.error(str(error))
        return
    st.session_state.compress_pending = Pending(what, job, label)


def _quantize(label: str, *, names: tuple[str, ...] = tuple(QUANTIZATIONS)) -> Job:
    return QuantizeJob(model_bytes(model(label)), mnist(), label, names, **job_owner())


def _prune(label: str, *, sparsity: float) -> Job:
    return PruneJob(model_bytes(model(label)), sparsity, mnist(), **job_owner())


def _student(label: str, *, student: str, temperature: float = 4.0, alpha: float = 0.1, distilled: bool) -> Job:
    """The student distilled from `label`, or trained alone (the baseline: same steps, same seed)."""
    distillation = Distillation(model_bytes(model(label)), label, temperature, alpha) if distilled else None
    return TrainingJob(STUDENTS[student], mnist(), distillation=distillation, **job_owner())


_JOBS = {
    "quantize": _quantize,
    "prune": _prune,
    "distill": lambda label, **options: _student(label, distilled=True, **options),
    "alone": lambda label, **options: _student(label, distilled=False, **options),
}


def collect() -> str | None:
    """After this visitor's run ends: keep what it made and measure new models; the message of a failed run."""
    done = pending()
    if done is None or done.job.running:
        return None
    del st.session_state.compress_pending
    if done.job.error:
        return done.job.error
    result = done.job.result
    if done.what == "quantize":
        kept = variants()
        kept[:] = [v for v in kept if (v.source, v.quantization) not in {(r.source, r.quantization) for r in result}]
        kept += result
        del kept[:-MAX_VARIANTS]
        return None
    if done.what == "prune":
        pruned: Pruned = result
        registry().add_model(
            "pruned", f"{done.source[:24]} {pruned.sparsity:.0%}", model_from_bytes(pruned.model), None, pruned.accuracy
        )
    else:
        registry().add(done.job.config, result)
    start("quantize", registry().runs[-1].name, names=SHIPPED_FORMATS)  # its files, measured like every other
    return None


def use_everywhere(variant: Variant) -> str:
    """Add a .tflite variant to the sidebar, read through the interpreter, and pick it; its name there."""
    lite = LiteModel(variant.flatbuffer, parameters=variant.parameters)
    registry().add_model(f"tflite {variant.quantization}", variant.source.split(" · ")[0], lite, None, variant.accuracy)
    name = registry().runs[-1].name
    st.session_state.next_model_choice = name
    return name
