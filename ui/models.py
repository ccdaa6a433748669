"""Cached loaders, this visitor's models, and the model the pages use."""

from __future__ import annotations

import keras
import numpy as np
import streamlit as st

from core import prepared
from core.i18n import N_, _
from core.metrics import Evaluation
from core.models import (
    SHIPPED_MODELS,
    kept_for_server,
    load_default_model,
    load_model_card,
    model_bytes,
    predict_proba,
    shipped_paths,
)
from core.pictures.data import IMAGE_SIZE, Mnist, load_mnist
from core.quantize import LiteModel
from core.registry import Registry, comparison_table, summary
from ui.session import release_when_gone
from ui.text import as_text, spinning


@spinning(N_("Loading the model…"))
@st.cache_resource(show_spinner=False)
def shipped_model(label: str) -> keras.Model:
    """A model from assets/: one read-only copy shared by every visitor."""
    model = kept_for_server(load_default_model(shipped_paths(label)[0]))  # one for the server's life: its graphs traced
    # Trace its prediction graph now, under the loading spinner, not on the first drawing.
    predict_proba(model, np.zeros((1, IMAGE_SIZE, IMAGE_SIZE), np.float32))
    return model


@st.cache_resource(show_spinner=False)
def shipped_model_card(label: str) -> dict:
    return load_model_card(shipped_paths(label)[1])


@spinning(N_("Loading MNIST…"))
@st.cache_resource(show_spinner=False)
def mnist() -> Mnist:
    """The bundled data set: one read-only copy for every visitor."""
    return load_mnist()


@spinning(N_("Reading the 10,000 test digits…"))
@st.cache_resource(show_spinner=False)
def _shipped_test_probabilities(label: str) -> np.ndarray:
    """(10000, 10) probabilities of a shipped model on MNIST's test set: prepared ahead, else computed once per
    server. Read-only: every visitor shares them."""
    return prepared.test_answers(shipped_paths(label)[0], lambda: shipped_model(label), mnist())


def model_name(label: str) -> str:
    """A sidebar model's name as the visitor reads it: a shipped model's in their language, their own as they named
    it (the label stays the key everywhere)."""
    return _(label) if label in SHIPPED_MODELS else label


def registry() -> Registry:
    """This visitor's own trained models (session state: nobody else sees them)."""
    if "registry" not in st.session_state:
        st.session_state.registry = Registry()
        release_when_gone(
            st.session_state.registry.runs
        )  # emptied once the visitor has gone: their models are the heavy part
    return st.session_state.registry


@st.cache_resource(show_spinner=False)
def _shipped_derived(label: str) -> dict:
    """Results computed from a shipped model (its robustness curves, ...): one dict shared by every visitor."""
    return {}


def kept_with_model(label: str) -> dict:
    """A place to keep what was computed from a model, kept as long as the model: the server's or this visitor's."""
    run = registry().get(label)
    return _shipped_derived(label) if run is None else run.derived


def test_probabilities(label: str) -> np.ndarray:
    """(10000, 10) probabilities of any model on MNIST's test set, computed once."""
    run = registry().get(label)
    if run is None:
        return _shipped_test_probabilities(label)
    if run.test_probabilities is None:
        with st.spinner(_("Reading the 10,000 test digits…")):
            run.test_probabilities = predict_proba(run.model, mnist().x_test / np.float32(255))
    return run.test_probabilities


@st.cache_resource(show_spinner=False, max_entries=8)
def _shipped_evaluation(label: str) -> Evaluation:
    return Evaluation(mnist().y_test, _shipped_test_probabilities(label))


def evaluation(label: str) -> Evaluation:
    """A model's answers on MNIST's test set, scored: a shipped model's once for the server (a room's phones on
    Evaluate or Trust share it), another's now."""
    if registry().get(label) is None:
        return _shipped_evaluation(label)
    return Evaluation(mnist().y_test, test_probabilities(label))


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
            _(
                "The {page} page looks inside a Keras network through its gradients. The model picked in the "
                "sidebar is a TensorFlow Lite file read through the interpreter, which has none: pick another "
                "model there."
            ).format(page=page),
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
    label = st.sidebar.selectbox(
        _("Model"), model_labels(), format_func=model_name, key="model_choice", help=_("The network every page uses.")
    )
    run = registry().get(label)
    if run is None:
        card = shipped_model_card(label)
        parameters, accuracy = card["parameters"], card["test_accuracy"]
    else:
        parameters, accuracy = run.model.count_params(), run.test_accuracy
    st.sidebar.caption(
        _("{parameters:,} parameters · {accuracy:.2%} on the 10,000 MNIST test digits").format(
            parameters=parameters, accuracy=accuracy
        )
    )


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


def your_models() -> None:
    """This visitor's models: a table comparing them, then each with its name to edit, a download and Delete."""
    runs = registry().runs
    if not runs:
        st.info(_("Models you train or upload appear here and in the sidebar's model picker."))
    else:
        rows = comparison_table(runs)
        percentages = ("validation accuracy", "test accuracy", "accuracy under attack")
        columns = {
            name: st.column_config.NumberColumn(_(name), format="percent")
            if name in percentages
            else st.column_config.Column(_(name))
            for name in dict.fromkeys(key for row in rows for key in row)
        }
        st.dataframe(rows, hide_index=True, column_config=columns)
    if "rename_notice" in st.session_state:
        st.error(st.session_state.pop("rename_notice"))
    for run in reversed(runs):
        with st.container(border=True):
            st.markdown(f"**{as_text(run.name)}**")
            st.caption(summary(run))
            rename, save, delete = st.columns([3, 1, 1])
            key = f"name_{run.number}"
            st.session_state.setdefault(key, run.name)
            rename.text_input(
                _("Name"),
                key=key,
                label_visibility="collapsed",
                max_chars=80,
                on_change=rename_model,
                args=(run.name, key),
            )
            save.download_button(
                _("Download"),
                lambda run=run: model_bytes(run.model),
                f"digit-lab-run-{run.number}.keras",
                key=f"dl_{run.number}",
            )
            if delete.button(_("Delete"), key=f"del_{run.number}"):
                registry().delete(run.name)
                st.rerun()
