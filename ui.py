"""Streamlit glue shared by the pages: cached loaders and the active model."""

from __future__ import annotations

import keras
import streamlit as st

from core.data import Mnist, load_mnist
from core.models import load_default_model, load_model_card

DEFAULT_MODEL_LABEL = "Default CNN (shipped)"


@st.cache_resource(show_spinner="Loading the default model…")
def default_model() -> keras.Model:
    """The shipped model: one read-only copy for every visitor."""
    return load_default_model()


@st.cache_resource(show_spinner=False)
def default_model_card() -> dict:
    return load_model_card()


@st.cache_resource(show_spinner="Loading MNIST…")
def mnist() -> Mnist:
    """The bundled data set: one read-only copy for every visitor."""
    return load_mnist()


def active_model() -> keras.Model:
    """The model the visitor picked in the sidebar."""
    return default_model()


def model_picker() -> None:
    """Sidebar: which model the pages use."""
    card = default_model_card()
    st.sidebar.selectbox("Model", [DEFAULT_MODEL_LABEL], key="model_choice", help="The network every page uses.")
    st.sidebar.caption(
        f"{card['parameters']:,} parameters · {card['test_accuracy']:.2%} on the 10,000 MNIST test digits"
    )
