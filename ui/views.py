"""A page's heavy views: the work that scales with visitors, each in its own process in the server's line; results
prepared ahead for the shipped models, or computed live on request."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

import numpy as np
import streamlit as st

from core import prepared
from core.attacks import Flip, smallest_flip
from core.i18n import N_, _
from core.models import SHIPPED_MODELS, model_bytes, on_model_bytes, on_model_path, shipped_paths
from core.quantize import LiteModel
from core.runs.job import Call
from core.runs.line import ServerBusyError
from ui.models import kept_with_model, mnist, model, model_name, shipped_model
from ui.runs import computed
from ui.session import job_owner
from ui.text import VisitorError, as_text, spinning

VIEW_MB = 700.0  # what one page's heavy view is expected to use in its own process: reserved while it goes
VIEW_SECONDS = 180.0  # the longest one may take


def run_apart(label: str, function: Callable, *args, message: str, seconds: float = 30.0):
    """function(model, *args) for the model the sidebar calls `label`, in its own process, in the server's line.

    A heavy view scales with visitors (the data engine, a fine-tune, a result computed live): however many ask at
    once, each runs in a child at a lower priority with its memory reserved from the host's budget, one after the
    other, and each visitor sees their place meanwhile. `seconds` is how long it is expected to take. A .tflite
    file runs here: the interpreter's cost is small and known.
    """
    network = model(label)
    if isinstance(network, LiteModel):
        with st.spinner(message):
            return function(network, *args)
    if label in SHIPPED_MODELS:  # the child reads it from the disk
        call = (on_model_path, function, str(shipped_paths(label)[0]), *args)
    else:
        call = (on_model_bytes, function, model_bytes(network), *args)
    job = Call(call[0], call[1:], memory_mb=VIEW_MB, max_seconds=VIEW_SECONDS, expected_seconds=seconds, **job_owner())
    try:
        job.start()
    except ServerBusyError as error:
        raise VisitorError(as_text(error)) from None
    return computed(job, message)


_SEARCHES = threading.Semaphore(1)  # one search in the server at a time, whoever asks: a fraction of a second each


@spinning(N_("Searching for the smallest change that fools it…"))
@st.cache_data(max_entries=256, show_spinner=False)
def _shipped_flip(label: str, image: np.ndarray) -> Flip | None:
    with _SEARCHES:
        return smallest_flip(shipped_model(label), image)


def smallest_change(label: str, image: np.ndarray) -> Flip | None:
    """The smallest ε that fools a sidebar model on `image` (PGD-20). A shipped model's is the same for everyone,
    so it is kept for the server, as explanations are: a room following onto Attack searches once, not once a phone.
    """
    if label in SHIPPED_MODELS:
        return _shipped_flip(label, np.asarray(image, np.float32))
    return run_apart(
        label, smallest_flip, image, message=_("Searching for {model}…").format(model=as_text(model_name(label)))
    )


def _prepared(label: str, kind: str) -> dict | None:
    if label not in SHIPPED_MODELS or st.session_state.get(f"live_{kind}_{label}"):
        return None
    return prepared.load(kind, shipped_paths(label)[0])


def has_prepared(label: str, kind: str) -> bool:
    """Whether `prepared_or_live` would answer at once for this model."""
    return _prepared(label, kind) is not None


def prepared_or_live(label: str, kind: str, message: str) -> tuple[dict, bool]:
    """(a result of core.prepared's `kind` for a sidebar model, whether it was prepared ahead).

    A shipped model's result comes from assets/prepared/ at once, unless it is stale or this visitor pressed
    "Run it live" (`run_live`); any other model's is computed (`run_apart`) and kept with the model.
    """
    result = _prepared(label, kind)
    if result is not None:
        return result, True
    images, labels = prepared.inputs(kind, mnist())
    compute = partial(prepared.compute, kind=kind, images=images, labels=labels)
    return per_model(label, kind, compute, message), False


def run_live(labels: list[str], kind: str) -> None:
    """Mark prepared results as such, with a button to compute them live for these models instead."""
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.caption(_(":material/inventory_2: Prepared ahead for the shipped models (`python -m scripts.prepare`)."))
    if right.button(_("Run it live"), icon=":material/play_arrow:", key=f"live_{kind}"):
        for label in labels:
            st.session_state[f"live_{kind}_{label}"] = True
        st.rerun()


def per_model(label: str, key: str, compute: Callable, message: str):
    """compute(model) for a model, once (in its own process, as `run_apart` runs it), then kept with the model."""
    store = kept_with_model(label)
    if key not in store:
        store[key] = run_apart(label, compute, message=message)
    return store[key]
