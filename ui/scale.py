"""The Scale page's glue: the shipped sweep and its trends kept once for every visitor, where the other
architectures and this visitor's own runs sit on the axes."""

from __future__ import annotations

import json

import numpy as np
import streamlit as st

from core import scale
from core.i18n import N_, _
from ui.models import mnist, registry, test_probabilities
from ui.text import spinning

NAMES = {"resnet": "ResNet", "rnn": "RNN", "transformer": "Transformer", "quick": "CNN"}


@st.cache_resource(show_spinner=False)
def sweep() -> scale.Sweep | None:
    return scale.shipped()


@spinning(N_("Fitting the law…"))
@st.cache_resource(show_spinner=False)
def trend(axis: str, metric: str) -> scale.Trend:
    return sweep().trend(axis, metric)


@st.cache_resource(show_spinner=False)
def _architectures() -> dict:
    try:
        return json.loads(scale.ARCHITECTURES_PATH.read_text())
    except (OSError, ValueError):
        return {}


def architectures(axis: str, metric: str) -> list[tuple[str, float, float]]:
    """The other architectures' presets as bench/architectures.py measured them (on all 54,000 digits)."""
    if axis == "digits":
        return []
    return [
        (NAMES.get(name, name), row[axis], row[metric])
        for name, row in _architectures().get("presets", {}).items()
        if name != "quick"
    ]


def yours(axis: str, metric: str) -> list[tuple[str, float, float]]:
    """This visitor's trained runs, placed by their parameters, digits or compute."""
    points = []
    for run in registry().runs:
        if run.config is None or run.result is None or run.result.stopped:
            continue
        x = scale.position(run.config, axis)
        if metric == "error":
            y = 1.0 - run.test_accuracy
        else:
            __, losses = scale.outcome(test_probabilities(run.name), mnist().y_test)
            y = float(np.mean(losses))
        points.append((_("run {number}").format(number=run.number), x, y))
    return points
