"""Why transfer works: held-out accuracy of three learners against drawings per symbol."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.figures.style import ACCENT, ATTACKED, MUTED, accuracy_layout
from core.i18n import _


def transfer_figure(comparison) -> go.Figure:
    """Held-out accuracy against drawings per symbol, one line per learner (a core.symbols.Comparison)."""
    figure = go.Figure()
    colours = {"frozen features": ACCENT, "raw pixels": MUTED, "from scratch": ATTACKED}
    for method, accuracies in comparison.accuracy.items():
        figure.add_trace(
            go.Scatter(
                x=list(comparison.shots),
                y=[None if np.isnan(a) else a for a in accuracies],
                name=_(method),
                mode="lines+markers",
                line={"color": colours.get(method, MUTED)},
                hovertemplate=_("%{x} per symbol: %{y:.0%} of the rest read right<extra>%{fullData.name}</extra>"),
            )
        )
    figure.update_layout(xaxis_type="log", xaxis_tickvals=list(comparison.shots))
    return accuracy_layout(figure, _("drawings per symbol it learnt from"), _("held-out accuracy"))
