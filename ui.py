"""Streamlit glue shared by the pages: cached loaders and the visitor's choice of model."""

from __future__ import annotations

import keras
import numpy as np
import streamlit as st

from core.data import Mnist, load_mnist
from core.models import SHIPPED_MODELS, load_default_model, load_model_card, predict_proba, shipped_paths
from core.registry import Registry


@st.cache_resource(show_spinner="Loading the model…")
def shipped_model(label: str) -> keras.Model:
    """A model from assets/: one read-only copy shared by every visitor."""
    return load_default_model(shipped_paths(label)[0])


@st.cache_resource(show_spinner=False)
def shipped_model_card(label: str) -> dict:
    return load_model_card(shipped_paths(label)[1])


@st.cache_resource(show_spinner="Loading MNIST…")
def mnist() -> Mnist:
    """The bundled data set: one read-only copy for every visitor."""
    return load_mnist()


@st.cache_resource(show_spinner="Reading the 10,000 test digits…")
def _shipped_test_probabilities(label: str) -> np.ndarray:
    """(10000, 10) probabilities of a shipped model on MNIST's test set, computed once per server."""
    return predict_proba(shipped_model(label), mnist().x_test / np.float32(255))


def registry() -> Registry:
    """This visitor's own trained models (session state: nobody else sees them)."""
    if "registry" not in st.session_state:
        st.session_state.registry = Registry()
    return st.session_state.registry


INPUTS = ("Draw", "Upload a photo")  # the Draw page's two ways to show the network a digit


def your_picture() -> np.ndarray | None:
    """What this visitor last showed the network on the Draw page: their drawing or their photo."""
    if st.session_state.get("input") == INPUTS[1]:
        return st.session_state.get("photo")
    return st.session_state.get("drawing")


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


def active_model() -> keras.Model:
    """The model the visitor picked in the sidebar."""
    run = registry().get(active_label())
    return run.model if run is not None else shipped_model(active_label())


def model_picker() -> None:
    """Sidebar: which model the pages use, the shipped ones and this visitor's own."""
    if st.session_state.get("model_choice") not in model_labels():
        st.session_state.model_choice = model_labels()[0]  # a deleted or evicted model
    label = st.sidebar.selectbox("Model", model_labels(), key="model_choice", help="The network every page uses.")
    run = registry().get(label)
    if run is None:
        card = shipped_model_card(label)
        parameters, accuracy = card["parameters"], card["test_accuracy"]
    else:
        parameters, accuracy = run.model.count_params(), run.result.test_accuracy
    st.sidebar.caption(f"{parameters:,} parameters · {accuracy:.2%} on the 10,000 MNIST test digits")
