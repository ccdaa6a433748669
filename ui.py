"""Streamlit glue shared by the pages: cached loaders and the visitor's choice of model."""

from __future__ import annotations

import keras
import numpy as np
import streamlit as st

from core.data import Mnist, load_mnist
from core.models import SHIPPED_MODELS, load_default_model, load_model_card, predict_proba, shipped_paths


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
def test_probabilities(label: str) -> np.ndarray:
    """(10000, 10) probabilities of a shipped model on MNIST's test set, computed once per server."""
    return predict_proba(shipped_model(label), mnist().x_test / np.float32(255))


def model_labels() -> list[str]:
    return list(SHIPPED_MODELS)


def active_label() -> str:
    """The name of the model the visitor picked in the sidebar."""
    return st.session_state.get("model_choice", model_labels()[0])


def active_model() -> keras.Model:
    """The model the visitor picked in the sidebar."""
    return shipped_model(active_label())


def model_picker() -> None:
    """Sidebar: which model the pages use."""
    label = st.sidebar.selectbox("Model", model_labels(), key="model_choice", help="The network every page uses.")
    card = shipped_model_card(label)
    st.sidebar.caption(
        f"{card['parameters']:,} parameters · {card['test_accuracy']:.2%} on the 10,000 MNIST test digits"
    )
