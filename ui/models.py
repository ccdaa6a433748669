"""Cached loaders, this visitor's models, and the model the pages use."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

import keras
import numpy as np
import streamlit as st

from core import prepared
from core.attacks import Flip, smallest_flip
from core.models import (
    SHIPPED_MODELS,
    lasting,
    load_default_model,
    load_model_card,
    model_bytes,
    on_model_bytes,
    on_model_path,
    predict_proba,
    shipped_paths,
)
from core.pictures.data import IMAGE_SIZE, Mnist, load_mnist
from core.quantize import LiteModel
from core.registry import Registry
from core.runs.job import Call
from core.runs.line import ServerBusyError
from ui.runs import computed
from ui.session import hold, job_owner
from ui.text import VisitorError, as_text


@st.cache_resource(show_spinner="Loading the model…")
def shipped_model(label: str) -> keras.Model:
    """A model from assets/: one read-only copy shared by every visitor."""
    model = lasting(load_default_model(shipped_paths(label)[0]))  # one for the server's life: its graphs traced
    # Trace its prediction graph now, under the loading spinner, not on the first drawing.
    predict_proba(model, np.zeros((1, IMAGE_SIZE, IMAGE_SIZE), np.float32))
    return model


@st.cache_resource(show_spinner=False)
def shipped_model_card(label: str) -> dict:
    return load_model_card(shipped_paths(label)[1])


@st.cache_resource(show_spinner="Loading MNIST…")
def mnist() -> Mnist:
    """The bundled data set: one read-only copy for every visitor."""
    return load_mnist()


@st.cache_resource(show_spinner="Reading the 10,000 test digits…")
def _shipped_test_probabilities(label: str) -> np.ndarray:
    """(10000, 10) probabilities of a shipped model on MNIST's test set: prepared ahead, else computed once per
    server. Read-only: every visitor shares them."""
    return prepared.test_answers(shipped_paths(label)[0], lambda: shipped_model(label), mnist())


def registry() -> Registry:
    """This visitor's own trained models (session state: nobody else sees them)."""
    if "registry" not in st.session_state:
        st.session_state.registry = Registry()
        hold(st.session_state.registry.runs)  # emptied once the visitor has gone: their models are the heavy part
    return st.session_state.registry


@st.cache_resource(show_spinner=False)
def _shipped_derived(label: str) -> dict:
    """Results computed from a shipped model (its robustness curves, ...): one dict shared by every visitor."""
    return {}


def derived(label: str) -> dict:
    """A place to keep what was computed from a model, kept as long as the model: the server's or this visitor's."""
    run = registry().get(label)
    return _shipped_derived(label) if run is None else run.derived


def test_probabilities(label: str) -> np.ndarray:
    """(10000, 10) probabilities of any model on MNIST's test set, computed once."""
    run = registry().get(label)
    if run is None:
        return _shipped_test_probabilities(label)
    if run.test_probabilities is None:
        with st.spinner("Reading the 10,000 test digits…"):
            run.test_probabilities = predict_proba(run.model, mnist().x_test / np.float32(255))
    return run.test_probabilities


def model_labels() -> list[str]:
    return list(SHIPPED_MODELS) + [run.name for run in registry().runs]


def active_label() -> str:
    """The name of the model the visitor picked in the sidebar."""
    choice = st.session_state.get("model_choice")
    return choice if choice in model_labels() else model_labels()[0]


def model(label: str) -> keras.Model:
    """A model by the name the sidebar shows: a shipped one or one of this visitor's."""
    run = registry().get(label)
    return run.model if run is not None else shipped_model(label)


def active_model() -> keras.Model:
    """The model the visitor picked in the sidebar."""
    return model(active_label())


def has_gradients() -> bool:
    """Whether the sidebar's model is a Keras network, which pages can look inside (not a .tflite file)."""
    return not isinstance(active_model(), LiteModel)


def require_gradients(page: str) -> None:
    """Stop a page that looks inside the network, with a note, when the sidebar's model is a .tflite file."""
    if not has_gradients():
        st.info(
            f"The {page} page looks inside a Keras network through its gradients. The model picked in the sidebar is "
            "a TensorFlow Lite file read through the interpreter, which has none: pick another model there.",
            icon=":material/memory:",
        )
        st.stop()


def keras_labels() -> list[str]:
    """The sidebar's Keras models (not its .tflite ones)."""
    return [label for label in model_labels() if not isinstance(model(label), LiteModel)]


def model_picker() -> None:
    """Sidebar: which model the pages use, the shipped ones and this visitor's own."""
    if "next_model_choice" in st.session_state:  # set after the picker was drawn in the last run
        st.session_state.model_choice = st.session_state.pop("next_model_choice")
    if st.session_state.get("model_choice") not in model_labels():
        st.session_state.model_choice = model_labels()[0]  # a deleted or evicted model
    label = st.sidebar.selectbox("Model", model_labels(), key="model_choice", help="The network every page uses.")
    run = registry().get(label)
    if run is None:
        card = shipped_model_card(label)
        parameters, accuracy = card["parameters"], card["test_accuracy"]
    else:
        parameters, accuracy = run.model.count_params(), run.test_accuracy
    st.sidebar.caption(f"{parameters:,} parameters · {accuracy:.2%} on the 10,000 MNIST test digits")


def rename_model(old: str, key: str) -> None:
    """A run's name field changed: rename it (trimmed), keep it selected if it was, or say why not."""
    new = st.session_state[key].strip()
    try:
        registry().rename(old, new)
    except ValueError as error:
        st.session_state.rename_notice = str(error)
        st.session_state[key] = old
        return
    st.session_state[key] = new  # trimmed once: the field now equals the name, so nothing reruns
    if st.session_state.get("model_choice") == old:
        st.session_state.model_choice = new


VIEW_MB = 700.0  # what one page's heavy view is expected to use in its own process: reserved while it goes
VIEW_SECONDS = 180.0  # the longest one may take


def bounded(label: str, function: Callable, *args, message: str, seconds: float = 30.0):
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


@st.cache_data(max_entries=256, show_spinner="Searching for the smallest change that fools it…")
def _shipped_flip(label: str, image: np.ndarray) -> Flip | None:
    with _SEARCHES:
        return smallest_flip(shipped_model(label), image)


def smallest_change(label: str, image: np.ndarray) -> Flip | None:
    """The smallest ε that fools a sidebar model on `image` (PGD-20). A shipped model's is the same for everyone,
    so it is kept for the server, as explanations are: a room following onto Attack searches once, not once a phone.
    """
    if label in SHIPPED_MODELS:
        return _shipped_flip(label, np.asarray(image, np.float32))
    return bounded(label, smallest_flip, image, message=f"Searching for {as_text(label)}…")


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
    "Run it live" (`run_live`); any other model's is computed (bounded) and kept with the model.
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
    left.caption(":material/inventory_2: Prepared ahead for the shipped models (`python -m scripts.prepare`).")
    if right.button("Run it live", icon=":material/play_arrow:", key=f"live_{kind}"):
        for label in labels:
            st.session_state[f"live_{kind}_{label}"] = True
        st.rerun()


def per_model(label: str, key: str, compute: Callable, message: str):
    """compute(model) for a model, once (bounded, as `bounded` runs it), then kept with the model."""
    store = derived(label)
    if key not in store:
        store[key] = bounded(label, compute, message=message)
    return store[key]
