"""The robustness curve: accuracy against ε for each attack and model."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.figures.style import ACCENT, MUTED, accuracy_layout
from core.i18n import _


def robustness_figure(curves: dict[str, dict[str, np.ndarray]], eps_values) -> go.Figure:
    """Accuracy against ε: one line per (model, attack); the first model solid, the others dashed."""
    figure = go.Figure()
    for index, (model, by_attack) in enumerate(curves.items()):
        for attack, accuracies in by_attack.items():
            figure.add_trace(
                go.Scatter(
                    x=list(eps_values),
                    y=accuracies,
                    mode="lines+markers",
                    name=f"{model} · {attack}",
                    line={"dash": "solid" if index == 0 else "dash", "color": ACCENT if "PGD" in attack else MUTED},
                    hovertemplate=_("ε %{x}: %{y:.1%} read right<extra>%{fullData.name}</extra>"),
                )
            )
    return accuracy_layout(figure, _("ε: the most any pixel may change (0 to 1)"), _("accuracy"), height=360)
