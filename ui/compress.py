"""The Compress page's runs: one at a time per visitor, each through the job runner, each adding measured variants.

Quantizing measures a model's TFLite files. Pruning and distilling make a new Keras model: it joins the
sidebar like any run, and its float32 and int8 files are then measured the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.compress import MEMORY_MB, QUANTIZATIONS, LiteModel, Pruned, Variant, prune, quantize
from core.distill import Distillation
from core.jobs import MEMORY_HEADROOM_MB, Job, TrainingJob
from core.models import model_bytes, model_from_bytes
from core.training import STUDENTS
from ui.models import mnist, model, registry
from ui.session import owner_present

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


def _start(what: str, job: Job, source: str) -> None:
    job.start()  # ServerBusyError if the server is at its limit: the page says so
    st.session_state.compress_pending = Pending(what, job, source)


def start_quantize(label: str, names: tuple[str, ...] = tuple(QUANTIZATIONS)) -> None:
    job = Job(quantize, (model_bytes(model(label)), mnist(), label, names), memory_mb=MEMORY_MB + MEMORY_HEADROOM_MB,
              owner_present=owner_present())  # fmt: skip
    job.what = "quantization"
    _start("quantize", job, label)


def start_prune(label: str, sparsity: float) -> None:
    job = Job(prune, (model_bytes(model(label)), sparsity, mnist()), memory_mb=MEMORY_MB + MEMORY_HEADROOM_MB,
              owner_present=owner_present())  # fmt: skip
    job.what = "pruning"
    _start("prune", job, label)


def start_student(label: str, student: str, *, temperature: float, alpha: float, distilled: bool) -> None:
    """Train the student distilled from `label`, or alone (the baseline: same steps, same seed)."""
    distillation = Distillation(model_bytes(model(label)), label, temperature, alpha) if distilled else None
    job = TrainingJob(STUDENTS[student], mnist(), distillation=distillation, owner_present=owner_present())
    _start("distill" if distilled else "alone", job, label)


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
        registry().add_model("pruned", f"{done.source[:24]} {pruned.sparsity:.0%}", model_from_bytes(pruned.model),
                             None, pruned.accuracy)  # fmt: skip
    else:
        registry().add(done.job.config, result)
    start_quantize(registry().runs[-1].name, SHIPPED_FORMATS)  # its files, measured like every other
    return None


def use_everywhere(variant: Variant) -> str:
    """Add a .tflite variant to the sidebar, read through the interpreter, and pick it; its name there."""
    lite = LiteModel(variant.flatbuffer, parameters=variant.parameters)
    registry().add_model(f"tflite {variant.quantization}", variant.source.split(" · ")[0], lite, None, variant.accuracy)
    name = registry().runs[-1].name
    st.session_state.next_model_choice = name
    return name
