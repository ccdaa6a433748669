"""How far to trust a model's probabilities: its temperature, and the test digits' handwriting."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.calibration import Calibration, calibrate, fit_temperature
from core.i18n import N_
from core.models import SHIPPED_MODELS, predict_proba
from core.pictures.slices import style_attributes
from core.training.config import split
from ui.models import (
    kept_with_model,
    mnist,
    model,
    registry,
    test_probabilities,
)
from ui.text import spinning

HELD_OUT = 5_000  # training digits a temperature is fitted on


def _fitted_temperature(label: str) -> float:
    """A temperature fitted on training digits the model never trained on, when that is known.

    Runs trained here keep their validation split; the shipped and uploaded models saw all 60,000
    training digits, so 5,000 of those stand in (for the default model that gives 0.48, against 0.54
    fitted on half the test digits).
    """
    run, data = registry().get(label), mnist()
    if run is not None and run.config is not None:
        indices = split(run.config, data.y_train)[1][:HELD_OUT]
    else:
        indices = np.random.default_rng(0).choice(len(data.y_train), HELD_OUT, replace=False)
    return fit_temperature(predict_proba(model(label), data.x_train[indices] / np.float32(255)), data.y_train[indices])


@st.cache_resource(show_spinner=False)
def _shipped_temperature(label: str) -> float:
    return _fitted_temperature(label)


def temperature(label: str) -> float | None:
    """The model's temperature: always for a shipped model, for a visitor's once the Evaluate page has fitted it."""
    if label in SHIPPED_MODELS:
        return _shipped_temperature(label)
    return kept_with_model(label).get("temperature")


def calibration(label: str) -> Calibration:
    """The model's temperature and its test digits' reliability before and after it, computed once per model."""
    store = kept_with_model(label)
    if "calibration" not in store:
        store["temperature"] = temperature(label) or _fitted_temperature(label)
        store["calibration"] = calibrate(store["temperature"], test_probabilities(label), mnist().y_test)
    return store["calibration"]


@spinning(N_("Measuring the test digits' handwriting…"))
@st.cache_resource(show_spinner=False)
def test_styles() -> dict[str, np.ndarray]:
    """Stroke thickness, slant, width and ink of each test digit: once per server."""
    return style_attributes(mnist().x_test)
